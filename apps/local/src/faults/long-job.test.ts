/**
 * A job that takes longer than the queue's visibility timeout: its worker keeps extending the message, so
 * the idle workers polling beside it never start the same video.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  listKeys,
  queueDepth,
  slowProbe,
  startFaultStack,
  testClip,
  testDir,
  until,
  upload,
  type FaultStack,
} from './harness.ts';

const VISIBILITY_SECONDS = 3;
const JOB_SECONDS = 12;

let env: FaultStack;
let clip: Buffer;

beforeAll(async () => {
  const { dir, dataDir } = testDir('faults-long-');
  clip = await testClip(dir);
  env = await startFaultStack({
    dataDir,
    maxWorkers: 3,
    messagesPerPod: 1,
    // Long enough that the fleet keeps its three workers polling while the long job runs.
    cooldownMs: 120_000,
    visibilityTimeoutSeconds: VISIBILITY_SECONDS,
    childEnv: slowProbe(dir, JOB_SECONDS),
  });
});

afterAll(async () => {
  await env?.close();
});

it('keeps extending a job 4x longer than the visibility timeout; idle workers never start it again', async () => {
  const long = 'uploads/slow long.mp4';
  const quick = ['uploads/quick one.mp4', 'uploads/quick two.mp4'];
  for (const key of [long, ...quick]) await upload(env.aws.s3, key, clip);

  await until(
    'three workers',
    () => env.stack.fleet.size,
    (n) => n === 3,
    30_000,
  );
  await until(
    'the quick videos done while the long one is still running',
    () => quick.map((source) => env.events.of('job.done', source).length),
    (done) => done.every((n) => n === 1),
    60_000,
  );
  expect(env.events.of('job.done', long)).toHaveLength(0);
  const [done] = await until(
    'the long job done',
    () => env.events.of('job.done', long),
    (list) => list.length > 0,
    (JOB_SECONDS + 60) * 1000,
  );
  // Two workers were idle and polling for many visibility timeouts while the long job ran.
  expect(env.stack.fleet.size).toBe(3);
  expect(env.events.of('job.started', long)).toHaveLength(1);
  expect(done).toMatchObject({ attempt: 1 });
  expect(env.events.of('job.failed')).toEqual([]);
  await until(
    'an empty work queue',
    () => queueDepth(env.aws.sqs, env.stack.resources.queueUrl),
    (d) => d.visible + d.inFlight === 0,
    20_000,
  );
  expect(await listKeys(env.aws.s3, 'thumbnails/')).toHaveLength(9);
}, 180_000);
