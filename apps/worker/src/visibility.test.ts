import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadWorkerConfig } from './config.ts';
import { makeNumberedClip, type EmulatorControl } from '@thumbs/local/testing';
import { startCountingProxy, type CountingProxy } from './testing/counting-proxy.ts';
import {
  clientsVia,
  createPipeline,
  putObject,
  publishedEvents,
  queueMessages,
  queueS3Event,
  waitFor,
  workerEnv,
} from './testing/emulator.ts';
import { startTestbed, testLog, type Testbed } from './testing/testbed.ts';
import { createWorker } from './worker.ts';

let testbed: Testbed;
let server: EmulatorControl;
let proxy: CountingProxy;
let dir: string;
const log = testLog();
const VISIBILITY_SECONDS = 3;

beforeAll(async () => {
  testbed = await startTestbed('worker-visibility-');
  ({ server, dir } = testbed);
  // Slow storage: every read of the video (a presigned GET) waits 3 s, so the job outlasts the timeout
  // even though the three frames are read at once.
  proxy = await startCountingProxy(testbed.local.endpoint, {
    delayMs: (r) => (r.method === 'GET' && r.path.includes('X-Amz-Signature=') ? 3000 : 0),
  });
});

afterAll(async () => {
  await proxy?.close();
  await testbed?.close();
});

it('keeps extending the message while a job runs longer than the visibility timeout', async () => {
  const { local } = testbed;
  const pipeline = createPipeline(local, randomUUID().slice(0, 8));
  const clip = join(dir, 'clip.mp4');
  await makeNumberedClip(clip, { seconds: 1 });
  const body = await readFile(clip);
  const key = 'uploads/slow.mp4';
  const eTag = await putObject(local.clients('deployer', pipeline.deployment).s3, pipeline.bucket, key, body);
  queueS3Event(server, pipeline, { key, size: body.length, eTag });
  // Without the relay's cache, ffprobe and each ffmpeg input wait for storage in turn.
  const env = workerEnv(local, pipeline, {
    WORKER_VISIBILITY_TIMEOUT: String(VISIBILITY_SECONDS),
    RANGE_CACHE_BYTES: '0',
  });
  const worker = createWorker(
    loadWorkerConfig(env),
    clientsVia(proxy.url, local, 'worker', pipeline.deployment),
    log,
  );
  void worker.run();
  try {
    const deadlines: number[] = [];
    const done = await waitFor(async () => {
      const event = publishedEvents(server, pipeline).find((e) => e.type === 'job.done');
      if (event) return event;
      const inflight = server.inspectQueue(pipeline.queue)?.messages.inflight ?? [];
      if (inflight.length === 0) return undefined;
      // Received once, and never visible again while the job runs.
      expect(inflight.map((entry) => entry.message.approximateReceiveCount)).toEqual([1]);
      expect(inflight[0]!.visibilityDeadline).toBeGreaterThan(Date.now());
      deadlines.push(inflight[0]!.visibilityDeadline);
      return undefined;
    });
    expect(done.type === 'job.done' && done.processingMs).toBeGreaterThan(2 * VISIBILITY_SECONDS * 1000);
    // The deadline moved on while the job ran: the first one would have passed long before the end.
    expect(Math.max(...deadlines) - Math.min(...deadlines)).toBeGreaterThan(VISIBILITY_SECONDS * 1000);
    expect(publishedEvents(server, pipeline).filter((e) => e.type === 'job.started')).toHaveLength(1);
    await waitFor(async () => queueMessages(server, pipeline.queue).length === 0);
  } finally {
    await worker.stop(0);
  }
});
