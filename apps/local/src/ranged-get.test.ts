import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { ffmpegPath, ffprobePath } from '@thumbs/runtime';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Authorizer } from './aws-auth/authorizer.ts';
import { startAwsProxy } from './aws-proxy.ts';
import { silentLog } from './log.ts';
import { objectFiles, resolveRange } from './ranged-get.ts';
import { deploymentOf, REGION, startLocalAws, type LocalAws } from './testing/local-aws.ts';

const run = promisify(execFile);
const BUCKET = 'ranged-get';
const MiB = 1024 * 1024;
const BIG_SIZE = 200 * MiB;
const BIG_KEY = 'uploads/big video.mp4';
const deployment = deploymentOf({ bucket: BUCKET, queue: 'ranged-get-jobs', topic: 'ranged-get-events' });

/** 200 MB where every 4-byte word holds its own index, so any misplaced byte shows. */
function patterned(size: number): Buffer {
  const body = Buffer.alloc(size);
  const words = new Uint32Array(body.buffer, body.byteOffset, size / 4);
  for (let i = 0; i < words.length; i++) words[i] = i;
  return body;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A raw GET, so that the path (with its query) and Host header go out exactly as given. */
function get(port: number, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const PER_ANSWER = ['date', 'connection', 'keep-alive', 'x-amz-request-id'];
const DASHBOARD = deployment.uploadAllowedOrigins[0]!;
const ADDED_BY_PROXY = [
  'access-control-allow-origin',
  'access-control-expose-headers',
  'vary',
  'accept-ranges',
];

/** What the client sees, minus what differs on every answer and what only the proxy adds. */
function comparable(answer: Answer) {
  const headers = { ...answer.headers };
  for (const name of [...PER_ANSWER, ...ADDED_BY_PROXY]) delete headers[name];
  const body = answer.body.toString('latin1').replace(/<RequestId>\w+<\/RequestId>/, '<RequestId/>');
  return { status: answer.status, headers, body };
}

/** Bytes this process has read through read(2) so far: files (the in-process emulator's) and sockets. */
function bytesReadByProcess(): number {
  return Number(/^rchar: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'))?.[1]);
}

/** The files this process holds open. */
function openFiles(): string[] {
  return readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      return [readlinkSync(`/proc/self/fd/${fd}`)];
    } catch {
      return [];
    }
  });
}

/** The path and query of a URL, as sent: no `..` segments resolved. */
function pathOf(url: string): string {
  return url.slice(url.indexOf('/', url.indexOf('//') + 2));
}

describe('ranged GetObject served from the emulator files', () => {
  let dir: string;
  let aws: LocalAws;
  let fauxqs: LocalAws['emulator'];
  let proxy: LocalAws['proxy'];
  /** The operator (deploy role): creates the bucket, uploads, and reads anything in it. */
  let s3: S3Client;
  let big: Buffer;

  /** A GetObject of `key` presigned by the operator for the endpoint on `port`: its path and query. */
  async function path(key: string, port = proxy.port): Promise<string> {
    const client =
      port === proxy.port
        ? s3
        : new S3Client({
            endpoint: `http://127.0.0.1:${port}`,
            region: REGION,
            forcePathStyle: true,
            credentials: aws.credentials('deployer'),
          });
    const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: BUCKET, Key: key }), {
      expiresIn: 600,
    });
    if (client !== s3) client.destroy();
    return pathOf(url);
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ranged-get-'));
    aws = await startLocalAws({ deployment, enforce: true, s3StorageDir: join(dir, 's3') });
    ({ emulator: fauxqs, proxy } = aws);
    s3 = aws.clients('deployer').s3;
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    big = patterned(BIG_SIZE);
    await s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: BIG_KEY, Body: big, ContentType: 'video/mp4' }),
    );
  });

  afterAll(async () => {
    s3?.destroy();
    await aws?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('resolves ranges by the emulator rules', () => {
    expect(resolveRange('bytes=0-9', 100)).toEqual({ start: 0, end: 9 });
    expect(resolveRange('bytes=90-200', 100)).toEqual({ start: 90, end: 99 });
    expect(resolveRange('bytes=95-', 100)).toEqual({ start: 95, end: 99 });
    expect(resolveRange('bytes=-10', 100)).toEqual({ start: 90, end: 99 });
    expect(resolveRange('bytes=-100', 100)).toEqual({ start: 0, end: 99 });
    for (const unsatisfiable of [
      'bytes=100-',
      'bytes=100-200',
      'bytes=5-4',
      'bytes=-0',
      'bytes=-101',
      'bytes=-',
    ])
      expect(resolveRange(unsatisfiable, 100)).toBeNull();
  });

  it('names files as fauxqs does, and refuses keys that could leave the objects directory', () => {
    const objects = join('/s3', 'buckets', 'b', 'objects');
    const data = (key: string) => objectFiles('/s3', 'b', key)?.data;
    expect(data('a/b c+d é.mp4')).toBe(join(objects, 'a', 'b c+d é.mp4.data'));
    expect(objectFiles('/s3', 'b', 'a/b')?.meta).toBe(join(objects, 'a', 'b.meta.json'));
    expect(data('x<y>:"|?*\\%z')).toBe(join(objects, 'x%3cy%3e%3a%22%7c%3f%2a%5c%25z.data'));
    expect(data('dir/')).toBe(join(objects, 'dir', '.data'));
    expect(data('dir/..')).toBe(join(objects, 'dir', '...data'));
    expect(data('..')).toBe(join(objects, '...data'));
    for (const key of ['../x', 'a/../../x', 'a/./x', '/x', 'a//x']) expect(data(key), key).toBeUndefined();
    expect(objectFiles('/s3', '..', 'x')).toBeUndefined();
    expect(objectFiles('/s3', 'a/b', 'x')).toBeUndefined();
  });

  it('returns exactly the requested bytes of a 200 MB object, with the headers the emulator sends', async () => {
    const last = BIG_SIZE - 1;
    const cases: [string, number, number][] = [
      ['bytes=0-1048575', 0, MiB - 1],
      ['bytes=104857601-105906176', 104857601, 105906176],
      [`bytes=${BIG_SIZE - MiB}-${last}`, BIG_SIZE - MiB, last],
      [`bytes=${BIG_SIZE - 10}-${BIG_SIZE + 1000}`, BIG_SIZE - 10, last],
      ['bytes=-1000', BIG_SIZE - 1000, last],
      [`bytes=${BIG_SIZE - 5001}-`, BIG_SIZE - 5001, last],
    ];
    for (const [range, start, end] of cases) {
      const answer = await get(proxy.port, await path(BIG_KEY), { range, origin: DASHBOARD });
      expect(answer.status, range).toBe(206);
      expect(answer.headers['content-range']).toBe(`bytes ${start}-${end}/${BIG_SIZE}`);
      expect(answer.headers['content-length']).toBe(String(end - start + 1));
      expect(answer.headers['content-type']).toBe('video/mp4');
      expect(answer.headers['accept-ranges']).toBe('bytes');
      // Terraform's CORS rule lets the dashboard PUT, nothing else: a GET gets no grant.
      expect(answer.headers['access-control-allow-origin']).toBeUndefined();
      expect(answer.body.equals(big.subarray(start, end + 1)), range).toBe(true);
    }
    // The same answer as the emulator's own, for a small range (the emulator reads all 200 MB for it).
    const ours = await get(proxy.port, await path(BIG_KEY), { range: 'bytes=1000-1999' });
    const theirs = await get(fauxqs.port, await path(BIG_KEY), { range: 'bytes=1000-1999' });
    expect(comparable(ours)).toEqual(comparable(theirs));
  });

  it('answers an unsatisfiable range with 416 and Content-Range bytes */size, as the emulator does', async () => {
    const range = `bytes=${BIG_SIZE}-`;
    const ours = await get(proxy.port, await path(BIG_KEY), { range });
    expect(ours.status).toBe(416);
    expect(ours.headers['content-range']).toBe(`bytes */${BIG_SIZE}`);
    expect(ours.body.toString()).toContain('<Code>InvalidRange</Code>');
    expect(comparable(ours)).toEqual(comparable(await get(fauxqs.port, await path(BIG_KEY), { range })));
  });

  it('serves keys with spaces, +, unicode, escaped characters and dots, path-style and virtual-hosted', async () => {
    // A `..` segment is forwarded (the proxy reads URLs normalised), still answered right by the emulator.
    const forwarded = new Set(['dots/..']);
    const keys = ['uploads/a b+c.mp4', 'uploads/é 日本/ü.mov', 'odd/x%y<z>?.mkv', 'dots/..x', 'trailing/'];
    for (const [i, key] of [...keys, ...forwarded].entries()) {
      const body = Buffer.from(`${i}:${key}:`.repeat(50));
      await s3.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, Metadata: { source: `n${i}` } }),
      );
      const ours = await get(proxy.port, await path(key), { range: 'bytes=3-40' });
      expect(ours.headers['accept-ranges'], key).toBe(forwarded.has(key) ? undefined : 'bytes');
      expect(ours.body.equals(body.subarray(3, 41)), key).toBe(true);
      expect(ours.headers['x-amz-meta-source']).toBe(`n${i}`);
      expect(comparable(ours)).toEqual(
        comparable(await get(fauxqs.port, await path(key), { range: 'bytes=3-40' })),
      );
    }
    const virtualHosted = new S3Client({
      endpoint: `http://s3.localhost:${proxy.port}`,
      region: REGION,
      credentials: aws.credentials('deployer'),
    });
    const url = await getSignedUrl(
      virtualHosted,
      new GetObjectCommand({ Bucket: BUCKET, Key: 'uploads/a b+c.mp4' }),
      { expiresIn: 600 },
    );
    virtualHosted.destroy();
    const virtual = await get(proxy.port, pathOf(url), {
      host: `${BUCKET}.s3.localhost:${proxy.port}`,
      range: 'bytes=-5',
    });
    expect(virtual.status).toBe(206);
    expect(virtual.headers['accept-ranges']).toBe('bytes');
    expect(virtual.body.toString()).toBe('.mp4:');
  });

  it('passes errors and requests it cannot serve cheaply to the emulator unchanged', async () => {
    const missing = await get(proxy.port, await path('uploads/missing.mp4'), { range: 'bytes=0-9' });
    expect(missing.status).toBe(404);
    expect(missing.body.toString()).toContain('<Code>NoSuchKey</Code>');
    expect(comparable(missing)).toEqual(
      comparable(await get(fauxqs.port, await path('uploads/missing.mp4'), { range: 'bytes=0-9' })),
    );
    await expect(
      s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'uploads/missing.mp4', Range: 'bytes=0-9' })),
    ).rejects.toMatchObject({ name: 'NoSuchKey' });
    await expect(
      s3.send(new GetObjectCommand({ Bucket: 'no-such-bucket', Key: 'a.mp4', Range: 'bytes=0-9' })),
    ).rejects.toMatchObject({ name: 'NoSuchBucket' });

    const small = 'uploads/a b+c.mp4';
    const ifMatch = await get(proxy.port, await path(small), { range: 'bytes=0-9', 'if-match': '"nope"' });
    expect(ifMatch.status).toBe(412);
    // The version asked for is served from the file, as the emulator would serve it.
    const current = await get(fauxqs.port, await path(small), { range: 'bytes=0-9' });
    const matching = { range: 'bytes=0-9', 'if-match': String(current.headers.etag) };
    expect(comparable(await get(proxy.port, await path(small), matching))).toEqual(comparable(current));
    const multiple = await get(proxy.port, await path(small), { range: 'bytes=0-1,4-5' });
    expect(comparable(multiple)).toEqual(
      comparable(await get(fauxqs.port, await path(small), { range: 'bytes=0-1,4-5' })),
    );
    expect(multiple.headers['accept-ranges']).toBeUndefined();
  });

  it('forwards to the emulator when it does not keep objects in the storage directory', async () => {
    const other = await startAwsProxy({
      port: 0,
      upstreamPort: fauxqs.port,
      notificationsFile: join(dir, 'other-notifications.json'),
      eventsFile: join(dir, 'other-s3-events.jsonl'),
      s3StorageDir: join(dir, 'elsewhere'),
      region: REGION,
      authorizer: new Authorizer(aws.authority, `http://127.0.0.1:${fauxqs.port}`, REGION),
      enforce: true,
      sessionSeconds: 3600,
      log: silentLog,
    });
    try {
      const answer = await get(other.port, await path('uploads/a b+c.mp4', other.port), {
        range: 'bytes=0-3',
      });
      expect(answer.status).toBe(206);
      expect(answer.body.toString()).toBe('0:up');
      expect(answer.headers['accept-ranges']).toBeUndefined();
    } finally {
      await other.stop();
    }
  });

  it('serves a presigned ranged GET', async () => {
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: BUCKET, Key: BIG_KEY }), {
      expiresIn: 600,
    });
    const response = await fetch(url, { headers: { range: 'bytes=4000000-4000099' } });
    expect(response.status).toBe(206);
    expect(response.headers.get('accept-ranges')).toBe('bytes');
    expect(Buffer.from(await response.arrayBuffer()).equals(big.subarray(4000000, 4000100))).toBe(true);
  });

  it('lets ffprobe and ffmpeg read a video through a presigned URL', async () => {
    const clip = join(dir, 'clip.mp4');
    await run(ffmpegPath(), [
      ...['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10', '-t', '2'],
      ...['-pix_fmt', 'yuv420p', clip],
    ]);
    await s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'uploads/clip 1.mp4', Body: readFileSync(clip) }),
    );
    // Signed as the worker signs the URLs it hands ffprobe and ffmpeg.
    const worker = aws.clients('worker').s3;
    const url = await getSignedUrl(
      worker,
      new GetObjectCommand({ Bucket: BUCKET, Key: 'uploads/clip 1.mp4' }),
      {
        expiresIn: 600,
      },
    );
    const probe = await run(ffprobePath(), [
      ...['-v', 'error', '-show_entries', 'format=duration', '-of', 'default=nw=1:nk=1', url],
    ]);
    expect(Number(probe.stdout.trim())).toBeCloseTo(2, 0);
    const frame = join(dir, 'frame.jpg');
    await run(ffmpegPath(), ['-v', 'error', '-y', '-ss', '1', '-i', url, '-frames:v', '1', frame]);
    expect(statSync(frame).size).toBeGreaterThan(500);
    worker.destroy();
  });

  it('stops reading the file and closes it when the reader hangs up mid-range', async () => {
    const data = objectFiles(join(dir, 's3'), BUCKET, BIG_KEY)!.data;
    const readBefore = bytesReadByProcess();
    const signed = await path(BIG_KEY);
    await new Promise<void>((resolve, reject) => {
      const req = request({
        host: '127.0.0.1',
        port: proxy.port,
        path: signed,
        headers: { range: 'bytes=0-' },
      });
      req.on('response', (res) => {
        expect(res.statusCode).toBe(206);
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', reject);
      req.end();
    });
    await expect.poll(() => openFiles().includes(data), { timeout: 5000 }).toBe(false);
    // A few MiB in flight when the reader left, not the 200 MiB asked for.
    expect(bytesReadByProcess() - readBefore).toBeLessThan(40 * MiB);
    const after = await get(proxy.port, signed, { range: 'bytes=0-99' });
    expect(after.body.equals(big.subarray(0, 100))).toBe(true);
  });

  it('reads only about the range from disk: 50 ranged 1 MiB reads cost far less than 50 whole-object reads', async () => {
    const fullStarted = performance.now();
    const signed = await path(BIG_KEY);
    const whole = await get(proxy.port, signed);
    const fullMs = performance.now() - fullStarted;
    expect(whole.body.length).toBe(BIG_SIZE);

    const readBefore = bytesReadByProcess();
    const started = performance.now();
    for (let i = 0; i < 50; i++) {
      const start = Math.floor((i * (BIG_SIZE - MiB)) / 49);
      const answer = await get(proxy.port, signed, { range: `bytes=${start}-${start + MiB - 1}` });
      expect(answer.body.equals(big.subarray(start, start + MiB))).toBe(true);
    }
    const rangedMs = performance.now() - started;
    const readPerRequest = (bytesReadByProcess() - readBefore) / 50;
    // The 1 MiB from the file and the same 1 MiB again from the client's socket, plus headers and read-ahead;
    // the emulator alone would read 200 MiB per request.
    expect(readPerRequest).toBeLessThan(4 * MiB);
    expect(rangedMs).toBeLessThan(fullMs * 10);
  });
});
