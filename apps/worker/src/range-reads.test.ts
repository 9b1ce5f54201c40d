import { randomUUID } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AwsClients } from '@thumbs/runtime';
import { loadWorkerConfig } from './config.ts';
import { headSource, makeThumbnails } from './process-video.ts';
import { DEFAULT_MAX_WINDOW } from './range-relay.ts';
import { makeLargeClip, type EmulatorControl } from '@thumbs/local/testing';
import { startCountingProxy, type CountingProxy, type ProxiedRequest } from './testing/counting-proxy.ts';
import {
  clientsVia,
  createPipeline,
  putObject,
  publishedEvents,
  queueS3Event,
  waitFor,
  workerEnv,
  type Pipeline,
} from './testing/emulator.ts';
import { startTestbed, testLog, type Testbed } from './testing/testbed.ts';
import { createWorker } from './worker.ts';

let testbed: Testbed;
let server: EmulatorControl;
/** The test's own S3 actions, as the deploy role, straight to the endpoint. */
let deployer: AwsClients;
/** The worker role's clients, through the counting proxy. */
let proxied: AwsClients;
let proxy: CountingProxy;
let dir: string;
let pipeline: Pipeline;
const log = testLog();

beforeAll(async () => {
  testbed = await startTestbed('worker-range-');
  ({ server, dir } = testbed);
  proxy = await startCountingProxy(testbed.local.endpoint);
  pipeline = createPipeline(testbed.local, randomUUID().slice(0, 8));
  deployer = testbed.local.clients('deployer', pipeline.deployment);
  proxied = clientsVia(proxy.url, testbed.local, 'worker', pipeline.deployment);
});

afterEach(() => {
  proxy.requests.length = 0;
});

afterAll(async () => {
  await proxy?.close();
  await testbed?.close();
});

/** Stores a large clip (120 s, ~275 MB) under `key`; returns its size. */
async function storeLargeClip(key: string, options: { gopSeconds?: number; moovAtEnd?: boolean }) {
  const file = join(dir, 'large.mp4');
  await makeLargeClip(file, { repeats: 12, ...options });
  const body = await readFile(file);
  const eTag = await putObject(deployer.s3, pipeline.bucket, key, body);
  await rm(file);
  return { size: body.length, eTag };
}

/** Presigned GETs (ffprobe and ffmpeg, through the relay) carry their signature in the query. */
function sourceReads(): ProxiedRequest[] {
  return proxy.requests.filter((r) => r.method === 'GET' && r.path.includes('X-Amz-Signature='));
}

function report(label: string, reads: ProxiedRequest[], size: number, ms: number): number {
  const bytes = reads.reduce((sum, r) => sum + r.bytes, 0);
  const fraction = bytes / size;
  console.info(
    `${label}: ${reads.length} requests, ${bytes} of ${size} bytes (${(fraction * 100).toFixed(1)} %), ${ms} ms`,
  );
  return fraction;
}

function rangeOf(read: ProxiedRequest): { start: number; end: number } {
  const [, start, end] = /^bytes=(\d+)-(\d+)$/.exec(read.range ?? '') ?? [];
  return { start: Number(start), end: Number(end) };
}

describe('range reads of a large video', () => {
  it('fetches ≤ 5 % of a 275 MB video with 1 s keyframes, in bounded windows around the seek points', async () => {
    const key = 'uploads/large video.mp4';
    const { size, eTag } = await storeLargeClip(key, {});
    queueS3Event(server, pipeline, { key, size, eTag });
    // Everything the worker sends to AWS goes through the proxy, so its presigned URLs point there too.
    const worker = createWorker(loadWorkerConfig(workerEnv(testbed.local, pipeline)), proxied, log);
    void worker.run();
    try {
      const done = await waitFor(async () =>
        publishedEvents(server, pipeline).find((e) => e.type === 'job.done' && e.source === key),
      );
      const reads = sourceReads();
      const fraction = report(
        '1 s GOP, index first',
        reads,
        size,
        done.type === 'job.done' ? done.processingMs : 0,
      );
      expect(size).toBeGreaterThan(250_000_000);
      expect(fraction).toBeLessThanOrEqual(0.05);

      // Every request is bounded, and none asks for more than the largest window.
      const ranges = reads.map(rangeOf);
      for (const { start, end } of ranges) expect(end - start + 1).toBeLessThanOrEqual(DEFAULT_MAX_WINDOW);
      // ffprobe and the three ffmpeg inputs all read the header: storage sends each byte once.
      const sent = reads.map((read) => [rangeOf(read).start, rangeOf(read).start + read.bytes] as const);
      sent.sort(([a], [b]) => a - b);
      for (const [index, [start]] of sent.entries()) {
        expect(start).toBeGreaterThanOrEqual(sent[index - 1]?.[1] ?? 0);
      }
      // A request that does not continue an earlier one is a seek: one to the keyframe at or before each point
      // (the bitrate is even, so bytes ∝ time: 1 s of 120 s is 0.8 % of the file).
      const ends = new Set<number>();
      const seeks: number[] = [];
      for (const { start, end } of ranges) {
        if (start > 0 && !ends.has(start)) seeks.push(start / size);
        ends.add(end + 1);
      }
      seeks.sort();
      expect(seeks).toHaveLength(3);
      for (const [index, point] of [0.1, 0.5, 0.95].entries()) {
        expect(seeks[index]).toBeGreaterThan(point - 0.01);
        // A point on a keyframe starts there (its bytes lie just past the share of the header before them).
        expect(seeks[index]).toBeLessThanOrEqual(point + 0.001);
      }
    } finally {
      await worker.stop(0);
      await deployer.s3.send(new DeleteObjectCommand({ Bucket: pipeline.bucket, Key: key }));
    }
  });

  // Costs of other layouts, for the record. An index at the end costs each of the four opens (ffprobe, then
  // one per point) a window at both ends; a long GOP must decode from the keyframe before each point.
  it.each([
    { label: '1 s GOP, index last', gopSeconds: 1, moovAtEnd: true, bound: 0.06 },
    { label: '10 s GOP, index first', gopSeconds: 10, moovAtEnd: false, bound: 0.2 },
  ])(
    'fetches a bounded share of a 275 MB video with $label',
    async ({ label, gopSeconds, moovAtEnd, bound }) => {
      const key = `uploads/${randomUUID()}.mp4`;
      const { size } = await storeLargeClip(key, { gopSeconds, moovAtEnd });
      const { s3 } = proxied;
      try {
        const source = await headSource(s3, pipeline.bucket, key);
        const started = Date.now();
        let relayed = { requests: 0, bytes: 0 };
        const settings = { s3, bucket: pipeline.bucket, thumbnailPrefix: 'thumbnails/', timeoutMs: 60_000 };
        const thumbnails = await makeThumbnails(
          { ...settings, maxWidth: 640, quality: 3 },
          source!,
          undefined,
          { sourceRead: (read) => (relayed = read) },
        );
        const fraction = report(label, sourceReads(), size, Date.now() - started);
        expect(thumbnails).toHaveLength(3);
        expect(relayed.requests).toBe(sourceReads().length);
        expect(fraction).toBeLessThanOrEqual(bound);
      } finally {
        await deployer.s3.send(new DeleteObjectCommand({ Bucket: pipeline.bucket, Key: key }));
      }
    },
  );
});
