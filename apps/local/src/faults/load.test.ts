/**
 * Load: 300 uploads at once. Every video gets its three thumbnails exactly once, nothing is lost or
 * duplicated, and the fleet scales up to its maximum and back to zero.
 */
import { thumbnailKeys } from '@thumbs/model';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  listKeys,
  queueDepth,
  startFaultStack,
  testClip,
  testDir,
  until,
  upload,
  type FaultStack,
} from './harness.ts';

const VIDEOS = 300;
const MAX_WORKERS = 4;
const BATCH = 25;

const { dir, dataDir } = testDir('faults-load-');
let env: FaultStack;
const fleetSizes: number[] = [];

beforeAll(async () => {
  env = await startFaultStack({
    dataDir,
    maxWorkers: MAX_WORKERS,
    cooldownMs: 3000,
    childEnv: { LOG_LEVEL: 'warn' },
  });
  env.stack.registry.on('change', () => fleetSizes.push(env.stack.fleet.size));
});

afterAll(async () => {
  await env?.close();
});

it(`processes ${VIDEOS} simultaneous uploads exactly once and scales the fleet to ${MAX_WORKERS} and back to 0`, async () => {
  const clip = await testClip(dir, 'tiny.mp4', { seconds: 1, size: '96x64' });
  const sources = Array.from({ length: VIDEOS }, (_, i) => `uploads/load/${String(i).padStart(3, '0')}.mp4`);
  const started = Date.now();
  for (let i = 0; i < sources.length; i += BATCH) {
    await Promise.all(sources.slice(i, i + BATCH).map((key) => upload(env.aws.s3, key, clip)));
  }

  await until(
    `${VIDEOS * 3} thumbnails`,
    () => listKeys(env.aws.s3, 'thumbnails/'),
    (keys) => keys.length >= VIDEOS * 3,
    300_000,
  );
  const seconds = (Date.now() - started) / 1000;
  await until(
    'an empty work queue',
    () => queueDepth(env.aws.sqs, env.stack.resources.queueUrl),
    (d) => d.visible + d.inFlight === 0,
    60_000,
  );
  await until(
    'the fleet back to 0',
    () => env.stack.fleet.size,
    (n) => n === 0,
    60_000,
  );
  await until(
    'every job.done event',
    () => env.events.of('job.done'),
    (e) => e.length >= VIDEOS,
    30_000,
  );

  expect(Math.max(...fleetSizes)).toBe(MAX_WORKERS);
  expect((await listKeys(env.aws.s3, '')).sort()).toEqual(
    [...sources, ...sources.flatMap((source) => thumbnailKeys(source))].sort(),
  );
  const doneSources = env.events.of('job.done').map((e) => ('source' in e ? e.source : ''));
  expect(doneSources.sort()).toEqual([...sources].sort());
  expect(env.events.of('job.started')).toHaveLength(VIDEOS);
  expect(env.events.of('job.failed')).toEqual([]);
  expect(await queueDepth(env.aws.sqs, env.stack.resources.dlqUrl)).toEqual({ visible: 0, inFlight: 0 });
  console.log(`load: ${VIDEOS} videos in ${seconds.toFixed(0)} s with up to ${MAX_WORKERS} workers`);
}, 420_000);
