import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ffmpegPath } from '@thumbs/runtime';
import { JobError, UnrecoverableError } from './failure.ts';
import { inputOptions, probeVideo } from './ffmpeg.ts';
import { headSource, makeThumbnails } from './process-video.ts';
import { openRangeRelay, parseRange, type RangeRelay, type RangeRelayOptions } from './range-relay.ts';
import { makeTestClip } from '@thumbs/local/testing';
import { startCountingProxy, type CountingProxy } from './testing/counting-proxy.ts';
import { clientsVia, createPipeline, putObject, type Pipeline } from './testing/emulator.ts';
import { startTestbed, type Testbed } from './testing/testbed.ts';

const run = promisify(execFile);
const KiB = 1024;

let testbed: Testbed;
let pipeline: Pipeline;
let bucket: string;
let proxy: CountingProxy;
let dir: string;
const relays: RangeRelay[] = [];
const data = randomBytes(3 * 1024 * 1024 + 123);
const BIG = 64 * 1024 * 1024;

/**
 * A presigned GET as the worker makes it, through the counting proxy (or another at `endpoint`) to see what the
 * relay asks of storage.
 */
function presign(key: string, endpoint = proxy.url): Promise<string> {
  const { s3 } = clientsVia(endpoint, testbed.local, 'worker', pipeline.deployment);
  return getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: 600 });
}

/** The test's own uploads, as the deploy role. */
const deployer = () => testbed.local.clients('deployer', pipeline.deployment).s3;

async function relayFor(key: string, options: RangeRelayOptions = {}): Promise<RangeRelay> {
  const relay = await openRangeRelay(await presign(key), key, options);
  relays.push(relay);
  return relay;
}

async function get(url: string, range?: string) {
  const response = await fetch(url, { headers: range ? { range } : {} });
  return {
    status: response.status,
    contentRange: response.headers.get('content-range'),
    connection: response.headers.get('connection'),
    body: Buffer.from(await response.arrayBuffer()),
  };
}

beforeAll(async () => {
  testbed = await startTestbed('worker-relay-');
  dir = testbed.dir;
  pipeline = createPipeline(testbed.local, 'relay');
  bucket = pipeline.bucket;
  await putObject(deployer(), bucket, 'uploads/data.bin', data);
  await putObject(deployer(), bucket, 'uploads/big.bin', Buffer.alloc(BIG, 1));
  proxy = await startCountingProxy(testbed.local.endpoint);
});

afterEach(async () => {
  await Promise.all(relays.splice(0).map((relay) => relay.close()));
  proxy.requests.length = 0;
});

afterAll(async () => {
  await proxy?.close();
  await testbed?.close();
});

describe('parseRange', () => {
  it('reads what ffmpeg sends and rejects the rest', () => {
    expect(parseRange(undefined)).toBeUndefined();
    expect(parseRange('bytes=0-')).toEqual({ start: 0, end: undefined });
    expect(parseRange('bytes=100-199')).toEqual({ start: 100, end: 199 });
    expect(parseRange('bytes=-500')).toBeNull();
    expect(parseRange('bytes=0-1,5-9')).toBeNull();
    expect(parseRange('bytes=9-5')).toBeNull();
  });
});

describe('range relay', () => {
  it('answers open-ended reads with bounded windows that grow while reading on and shrink after a seek', async () => {
    const relay = await relayFor('uploads/data.bin', {
      minWindow: 64 * KiB,
      maxWindow: 256 * KiB,
      cacheBytes: 0,
    });
    expect(new URL(relay.url).hostname).toBe('127.0.0.1');
    const total = data.length;
    const windows: string[] = [];
    let offset = 0;
    while (offset < total) {
      const read = await get(relay.url, `bytes=${offset}-`);
      expect(read.status).toBe(206);
      expect(read.connection).toBe('close');
      expect(read.body.equals(data.subarray(offset, offset + read.body.length))).toBe(true);
      windows.push(read.contentRange ?? '');
      offset += read.body.length;
    }
    expect(windows.slice(0, 4)).toEqual([
      `bytes 0-${64 * KiB - 1}/${total}`,
      `bytes ${64 * KiB}-${192 * KiB - 1}/${total}`,
      `bytes ${192 * KiB}-${448 * KiB - 1}/${total}`,
      `bytes ${448 * KiB}-${704 * KiB - 1}/${total}`,
    ]);
    expect(windows.at(-1)).toMatch(new RegExp(`-${total - 1}/${total}$`));
    // Storage saw the same bounded ranges (the last one asked past the end), never an open-ended one.
    const asked = proxy.requests.map((r) => r.range);
    expect(asked.slice(0, -1)).toEqual(
      windows.slice(0, -1).map((w) => w.replace(/^bytes (\d+-\d+)\/\d+$/, 'bytes=$1')),
    );
    const lastStart = Number(/^bytes (\d+)-/.exec(windows.at(-1) ?? '')?.[1]);
    expect(asked.at(-1)).toBe(`bytes=${lastStart}-${lastStart + 256 * KiB - 1}`);

    const seek = await get(relay.url, 'bytes=1000000-');
    expect(seek.contentRange).toBe(`bytes 1000000-${1000000 + 64 * KiB - 1}/${total}`);
    expect(seek.body.equals(data.subarray(1000000, 1000000 + 64 * KiB))).toBe(true);
    expect(relay.stats()).toMatchObject({ requests: windows.length + 1, bytes: total + 64 * KiB, reused: 0 });
  });

  it('answers reads of bytes fetched before from its cache, across adjacent windows', async () => {
    const relay = await relayFor('uploads/data.bin', { minWindow: 64 * KiB, maxWindow: 64 * KiB });
    for (const offset of [0, 64 * KiB]) await get(relay.url, `bytes=${offset}-`);
    const again = await get(relay.url, 'bytes=1000-');
    expect(again.contentRange).toBe(`bytes 1000-${128 * KiB - 1}/${data.length}`);
    expect(again.body.equals(data.subarray(1000, 128 * KiB))).toBe(true);
    const bounded = await get(relay.url, 'bytes=10-19');
    expect(bounded.body.equals(data.subarray(10, 20))).toBe(true);
    expect(proxy.requests.map((r) => r.range)).toEqual([
      `bytes=0-${64 * KiB - 1}`,
      `bytes=${64 * KiB}-${128 * KiB - 1}`,
    ]);
    expect(relay.stats()).toMatchObject({ requests: 2, bytes: 128 * KiB, reused: 128 * KiB - 1000 + 10 });
  });

  it('stops a fetch where cached bytes begin, and reads on from the cache', async () => {
    const relay = await relayFor('uploads/data.bin', { minWindow: 64 * KiB });
    await get(relay.url, `bytes=${100 * KiB}-`);
    const before = await get(relay.url, `bytes=${80 * KiB}-`);
    expect(before.contentRange).toBe(`bytes ${80 * KiB}-${100 * KiB - 1}/${data.length}`);
    const next = await get(relay.url, `bytes=${100 * KiB}-`);
    expect(next.contentRange).toBe(`bytes ${100 * KiB}-${164 * KiB - 1}/${data.length}`);
    expect(next.body.equals(data.subarray(100 * KiB, 164 * KiB))).toBe(true);
    expect(proxy.requests.map((r) => r.range)).toEqual([
      `bytes=${100 * KiB}-${164 * KiB - 1}`,
      `bytes=${80 * KiB}-${100 * KiB - 1}`,
    ]);
  });

  it('keeps at most cacheBytes of windows, dropping the least recently used', async () => {
    const relay = await relayFor('uploads/data.bin', { minWindow: 64 * KiB, cacheBytes: 128 * KiB });
    const [a, b, c] = [0, 1000 * KiB, 2000 * KiB].map((offset) => `bytes=${offset}-`);
    for (const range of [a, b, a, c, a, b]) await get(relay.url, range);
    // a is read again before c arrives, so b is the one dropped, and fetched again.
    expect(proxy.requests.map((r) => r.range?.replace(/-\d+$/, '-'))).toEqual([a, b, c, b]);
  });

  it('serves a request without a range from the start, and bounded ranges no larger than asked', async () => {
    const relay = await relayFor('uploads/data.bin', { minWindow: 64 * KiB });
    const whole = await get(relay.url);
    expect([whole.status, whole.contentRange]).toEqual([206, `bytes 0-${64 * KiB - 1}/${data.length}`]);
    const small = await get(relay.url, 'bytes=10-19');
    expect([small.status, small.contentRange]).toEqual([206, `bytes 10-19/${data.length}`]);
    expect(small.body.equals(data.subarray(10, 20))).toBe(true);
  });

  it('answers HEAD with the total size', async () => {
    const relay = await relayFor('uploads/data.bin');
    const head = await fetch(relay.url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(data.length));
    expect(head.headers.get('accept-ranges')).toBe('bytes');
  });

  it("passes storage errors on with storage's status", async () => {
    const missing = await relayFor('uploads/missing.bin');
    expect((await get(missing.url, 'bytes=0-')).status).toBe(404);
    const relay = await relayFor('uploads/data.bin');
    expect((await get(relay.url, `bytes=${data.length}-`)).status).toBe(416);
    expect((await get(relay.url, 'bytes=-10')).status).toBe(416);
    expect((await get(`${relay.url}x`, 'bytes=0-')).status).toBe(404);
  });

  it('stops the storage transfer when the reader hangs up', async () => {
    const relay = await relayFor('uploads/big.bin', { minWindow: BIG });
    const aborted = new AbortController();
    const response = await fetch(relay.url, { signal: aborted.signal });
    const reader = response.body!.getReader();
    await reader.read();
    aborted.abort();
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Asked for the whole window; hung up after the first chunk.
    expect(proxy.requests.map((r) => r.range)).toEqual([`bytes=0-${BIG - 1}`]);
    console.info(`after hanging up: ${proxy.requests[0]?.bytes} bytes of a ${BIG} byte window`);
    expect(proxy.requests[0]?.bytes).toBeLessThan(BIG / 2);
  });
});

describe('ffmpeg through the relay', () => {
  it('reads the whole file byte-exact over many small windows (ffprobe and ffmpeg reconnect at each end)', async () => {
    const clip = join(dir, 'noisy.mp4');
    await makeTestClip(clip, {
      seconds: 3,
      filter: 'noise=alls=20:allf=t',
      extra: ['-movflags', '+faststart'],
    });
    const key = 'uploads/noisy clip.mp4';
    await putObject(deployer(), bucket, key, await readFile(clip));
    const relay = await relayFor(key, { minWindow: 4 * KiB, maxWindow: 16 * KiB });

    const media = { name: key, timeoutMs: 30_000 };
    expect(await probeVideo(relay.url, media)).toEqual(await probeVideo(clip, media));
    const decode = async (input: string) =>
      (
        await run(ffmpegPath(), [
          ...['-v', 'error', ...inputOptions(input), '-i', input],
          ...['-map', '0:v', '-f', 'framemd5', '-'],
        ])
      ).stdout;
    const frames = await decode(relay.url);
    expect(frames.split('\n').filter((line) => line && !line.startsWith('#'))).toHaveLength(30);
    expect(frames).toBe(await decode(clip));
    console.info(`decoded through the relay: ${JSON.stringify(relay.stats())}`);
    expect(relay.stats().requests).toBeGreaterThan(20);
  });

  it('fails a read from storage that stalls as a storage error (retried), long before the time limit', async () => {
    // Accepts every request and never answers.
    const stalled = createServer(() => {});
    await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', resolve));
    const { port } = stalled.address() as AddressInfo;
    const relay = await openRangeRelay(`http://127.0.0.1:${port}/x.mp4`, 'x.mp4', { stallMs: 300 });
    relays.push(relay);
    const started = Date.now();
    try {
      const error = await probeVideo(relay.url, { name: 'uploads/stalled.mp4', timeoutMs: 30_000 }).catch(
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ kind: 'storage' });
      expect(error).not.toBeInstanceOf(UnrecoverableError);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      stalled.closeAllConnections();
      stalled.close();
    }
  });

  it('reports a missing source by its name, with the storage error', async () => {
    const relay = await relayFor('uploads/gone.mp4');
    const error = await probeVideo(relay.url, { name: 'uploads/gone.mp4', timeoutMs: 30_000 }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ kind: 'storage' });
    expect(error).toBeInstanceOf(JobError);
    expect((error as Error).message).toMatch(/^ffprobe could not read uploads\/gone\.mp4: .*404 Not Found/);
    expect((error as Error).message).not.toContain(new URL(relay.url).pathname);
  });
});

describe('slow storage', () => {
  /** The counting proxy holding every GET of the object for `delayMs` before passing it on. */
  const slowProxy = (delayMs: number) =>
    startCountingProxy(testbed.local.endpoint, {
      delayMs: (request) =>
        request.method === 'GET' && request.path.startsWith(`/${bucket}/`) ? delayMs : 0,
    });

  it('counts the time readers wait on storage, not the time a slow reader holds storage back', async () => {
    const slow = await slowProxy(300);
    try {
      const url = await presign('uploads/data.bin', slow.url);
      const relay = await openRangeRelay(url, 'uploads/data.bin', { minWindow: 64 * KiB });
      relays.push(relay);
      expect((await get(relay.url, `bytes=0-${64 * KiB - 1}`)).status).toBe(206);
      await expect.poll(() => relay.stats().waitingMs).toBeGreaterThanOrEqual(290);
    } finally {
      await slow.close();
    }

    // Fast storage, a reader taking a chunk every 20 ms: the transfer waits on the reader, paused.
    const relay = await relayFor('uploads/big.bin', { minWindow: BIG });
    const reader = (await fetch(relay.url)).body!.getReader();
    const started = performance.now();
    while (performance.now() - started < 1500) {
      await reader.read();
      await sleep(20);
    }
    await reader.cancel();
    await expect.poll(() => relay.stats().waitingMs).toBeGreaterThan(0);
    console.info(`slow reader for 1.5 s: ${relay.stats().waitingMs.toFixed(0)} ms waiting on storage`);
    expect(relay.stats().waitingMs).toBeLessThan(500);
  });

  it('fails a job that runs out of time waiting on slow (never silent) storage as a storage error, retried', async () => {
    const clip = join(dir, 'slow-storage.mp4');
    await makeTestClip(clip, {
      seconds: 3,
      filter: 'noise=alls=20:allf=t',
      extra: ['-movflags', '+faststart'],
    });
    const key = 'uploads/slow storage.mp4';
    await putObject(deployer(), bucket, key, await readFile(clip));
    const slow = await slowProxy(150);
    const { s3 } = clientsVia(slow.url, testbed.local, 'worker', pipeline.deployment);
    try {
      const source = await headSource(s3, bucket, key);
      const settings = {
        s3,
        bucket,
        thumbnailPrefix: 'thumbnails/',
        maxWidth: 320,
        quality: 5,
        timeoutMs: 2500,
        // 16 KiB at a time, each 150 ms late: a few hundred KiB a second, far below what decoding takes.
        rangeRelay: { minWindow: 16 * KiB, maxWindow: 16 * KiB },
      };
      const error = await makeThumbnails(settings, source!).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(JobError);
      expect(error).not.toBeInstanceOf(UnrecoverableError);
      expect(error).toMatchObject({
        kind: 'storage',
        message: expect.stringMatching(
          /^storage too slow for uploads\/slow storage\.mp4: .* MiB in \d+\.\d s, reads waited/,
        ),
      });
    } finally {
      s3.destroy();
      await slow.close();
    }
  });
});
