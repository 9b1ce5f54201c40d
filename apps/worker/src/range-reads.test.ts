import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FauxqsServer } from 'fauxqs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildS3Event } from '@thumbs/model';
import { createLogger, type AwsClients } from '@thumbs/runtime';
import { loadWorkerConfig } from './config.ts';
import { makeTestClip } from './testing/clips.ts';
import { startCountingProxy, type CountingProxy } from './testing/counting-proxy.ts';
import {
  clientsFor,
  createPipeline,
  putObject,
  publishedEvents,
  REGION,
  startEmulator,
  waitFor,
  workerEnv,
} from './testing/emulator.ts';
import { createWorker } from './worker.ts';

let server: FauxqsServer;
let direct: AwsClients;
let proxy: CountingProxy;
let dir: string;
const log = createLogger('worker-test');
log.level = process.env.TEST_LOG_LEVEL ?? 'silent';

beforeAll(async () => {
  const emulator = await startEmulator();
  server = emulator.server;
  direct = emulator.clients;
  proxy = await startCountingProxy(emulator.endpoint);
  dir = await mkdtemp(join(tmpdir(), 'worker-range-'));
});

afterAll(async () => {
  await proxy?.close();
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

it('fetches the video by ranges around the seek points, never as a whole', async () => {
  // 30 s of noisy 640x360 at 25 fps (~90 MB, 3 MB/s like phone video), one keyframe per second as phones
  // record, index at the front.
  const video = join(dir, 'large.mp4');
  await makeTestClip(video, {
    seconds: 30,
    size: '640x360',
    fps: 25,
    filter: 'noise=alls=30:allf=t',
    extra: ['-c:v', 'mpeg4', '-q:v', '2', '-g', '25', '-movflags', '+faststart'],
  });
  const body = await readFile(video);
  const pipeline = createPipeline(server, randomUUID().slice(0, 8));
  const key = 'uploads/large video.mp4';
  const eTag = await putObject(direct.s3, pipeline.bucket, key, body);
  server.sendMessage(
    pipeline.queue,
    buildS3Event({
      bucket: pipeline.bucket,
      key,
      size: body.length,
      eTag,
      eventName: 'ObjectCreated:Put',
      region: REGION,
    }),
  );

  // Everything the worker sends to AWS goes through the proxy, so its presigned URLs point there too.
  const worker = createWorker(loadWorkerConfig(workerEnv(proxy.url, pipeline)), clientsFor(proxy.url), log);
  void worker.run();
  try {
    const done = await waitFor(async () =>
      publishedEvents(server, pipeline).find((e) => e.type === 'job.done'),
    );
    // Presigned GETs (ffprobe and ffmpeg) carry their signature in the query; SDK calls sign headers.
    const reads = proxy.requests.filter((r) => r.method === 'GET' && r.path.includes('X-Amz-Signature='));
    const bytes = reads.reduce((sum, r) => sum + r.bytes, 0);
    const fraction = bytes / body.length;
    console.info(
      `range reads: ${reads.length} requests, ${bytes} of ${body.length} bytes (${(fraction * 100).toFixed(1)} %), ` +
        `processing ${done.type === 'job.done' ? done.processingMs : '?'} ms`,
    );
    expect(body.length).toBeGreaterThan(60_000_000);
    expect(reads.every((r) => r.range?.startsWith('bytes='))).toBe(true);
    // ffprobe and each of the three inputs start at the index; then one jump to just before each point.
    const jumps = reads
      .map((r) => Number(/^bytes=(\d+)-/.exec(r.range ?? '')?.[1] ?? 0) / body.length)
      .filter((start) => start > 0)
      .sort();
    expect(jumps).toHaveLength(3);
    // Each jump lands at the keyframe (≤ 1 s) before its point; the bitrate is even, so bytes ∝ time.
    for (const [index, point] of [0.1, 0.5, 0.95].entries()) {
      expect(jumps[index]).toBeGreaterThan(point - 0.06);
      expect(jumps[index]).toBeLessThanOrEqual(point);
    }
    // ffmpeg 4.1 asks for open-ended ranges, so socket buffers take a few MB per request beyond what it
    // decodes: bounded per request, whatever the size of the video.
    expect(fraction).toBeLessThan(0.6);
  } finally {
    await worker.stop(0);
  }
});
