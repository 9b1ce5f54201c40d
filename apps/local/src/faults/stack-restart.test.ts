/**
 * Stopping the whole local stack with videos queued and in flight, then starting it again on the same
 * DATA_DIR: every video is processed once, and nothing in S3 or SQS is lost.
 */
import { thumbnailKeys } from '@thumbs/model';
import { rmSync } from 'node:fs';
import { afterAll, expect, it } from 'vitest';
import type { PodChange } from '../pods.ts';
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
  type FaultStackOptions,
} from './harness.ts';

const { dir, dataDir } = testDir('faults-restart-');
let env: FaultStack | undefined;

afterAll(async () => {
  await env?.close();
  rmSync(dir, { recursive: true, force: true });
});

it('processes every video after a stop and restart with messages queued and in flight', async () => {
  const clip = await testClip(dir);
  const options: FaultStackOptions = {
    dataDir,
    maxWorkers: 2,
    // A short grace: stopping releases the jobs in progress instead of finishing them.
    childEnv: { ...slowProbe(dir, 4), WORKER_SHUTDOWN_GRACE_MS: '1000' },
  };
  env = await startFaultStack(options);
  const sources = Array.from({ length: 6 }, (_, i) => `uploads/slow restart ${i}.mp4`);
  for (const source of sources) await upload(env.aws.s3, source, clip);
  await until(
    'two jobs in progress and the rest queued',
    () => queueDepth(env!.aws.sqs, env!.stack.resources.queueUrl),
    (d) => d.inFlight >= 2 && d.visible >= 1,
    30_000,
  );
  await until(
    'two jobs started',
    () => env!.events.of('job.started'),
    (list) => list.length >= 2,
    30_000,
  );

  const exits: { name: string; exitCode: number; type: PodChange['type'] }[] = [];
  env.stack.registry.on('change', ({ type, pod }) => {
    const state = pod.container.state;
    if (pod.labels.app === 'thumbnail-worker' && 'terminated' in state)
      exits.push({ name: pod.name, exitCode: state.terminated.exitCode, type });
  });
  await env.close({ keepData: true });
  // Scale-in path: each worker released its job and exited 0 within the grace.
  const workers = new Set(exits.map((e) => e.name));
  expect(workers.size).toBe(2);
  for (const name of workers) {
    expect(exits.filter((e) => e.name === name).map((e) => e.exitCode)).toEqual([0, 0]);
  }

  env = await startFaultStack(options);
  expect(env.stack.resources.notificationApplied).toBe(false);
  expect((await listKeys(env.aws.s3, 'uploads/')).sort()).toEqual([...sources].sort());
  await until(
    'three thumbnails for each of the six videos',
    () => listKeys(env!.aws.s3, 'thumbnails/'),
    (keys) => keys.length >= 18,
    120_000,
  );
  await until(
    'empty work queue',
    () => queueDepth(env!.aws.sqs, env!.stack.resources.queueUrl),
    (d) => d.visible + d.inFlight === 0,
    60_000,
  );
  expect((await listKeys(env.aws.s3, 'thumbnails/')).sort()).toEqual(
    sources.flatMap((source) => thumbnailKeys(source)).sort(),
  );
  expect(await listKeys(env.aws.s3, 'failures/')).toEqual([]);
  expect(await queueDepth(env.aws.sqs, env.stack.resources.dlqUrl)).toEqual({ visible: 0, inFlight: 0 });
}, 300_000);
