import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import type { AwsClients } from '@thumbs/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partSizeFor } from '../feeds/multipart-uploads.ts';
import {
  ADMIN_TOKEN,
  createResources,
  startApi,
  startEmulator,
  WsRecorder,
  type LocalAws,
  type Resources,
} from '../testing/harness.ts';

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
const MiB = 1024 ** 2;

let storageDir: string;
let local: LocalAws;
let resources: Resources;
let api: Awaited<ReturnType<typeof startApi>>;
/** The test's own checks, as a person at the console (the deploy role). */
let aws: AwsClients;

beforeAll(async () => {
  // ListParts and ListMultipartUploads are answered from the emulator's files: give it a storage directory.
  storageDir = mkdtempSync(join(tmpdir(), 'thumbs-multipart-'));
  local = await startEmulator({ s3StorageDir: storageDir });
  resources = await createResources(local, 'multipart');
  aws = local.clients('deployer', resources.deployment);
  api = await startApi(local, resources);
});

afterAll(async () => {
  await api?.app.close();
  await local?.stop();
  rmSync(storageDir, { recursive: true, force: true });
});

async function call(method: 'GET' | 'POST', url: string, payload?: object) {
  return api.app.inject({ method, url, headers: auth, ...(payload ? { payload } : {}) });
}

async function create(filename = 'holiday.mp4', size = 6 * MiB) {
  const response = await call('POST', '/api/uploads/multipart', { filename, contentType: 'video/mp4', size });
  expect(response.statusCode, response.body).toBe(200);
  return response.json<{ key: string; uploadId: string; partSize: number; partCount: number }>();
}

/** What names an upload in every later call. */
const ref = ({ key, uploadId }: { key: string; uploadId: string }) => ({ key, uploadId });

async function putParts(upload: { key: string; uploadId: string }, bodies: Map<number, Buffer>) {
  const signed = await call('POST', '/api/uploads/multipart/sign', {
    key: upload.key,
    uploadId: upload.uploadId,
    partNumbers: [...bodies.keys()],
  });
  expect(signed.statusCode, signed.body).toBe(200);
  const eTags = new Map<number, string>();
  for (const { partNumber, url } of signed.json<{ parts: { partNumber: number; url: string }[] }>().parts) {
    const put = await fetch(url, { method: 'PUT', body: new Uint8Array(bodies.get(partNumber)!) });
    expect(put.status, await put.clone().text()).toBe(200);
    eTags.set(partNumber, put.headers.get('etag') ?? '');
  }
  return eTags;
}

async function incompleteUploads(): Promise<string[]> {
  const listed = await aws.s3.send(new ListMultipartUploadsCommand({ Bucket: resources.bucket }));
  return (listed.Uploads ?? []).map((u) => u.UploadId ?? '');
}

describe('part size', () => {
  it('keeps every upload up to 5 TiB within 10,000 parts of at least 8 MiB', () => {
    expect(partSizeFor(1)).toBe(8 * MiB);
    expect(partSizeFor(1024 ** 3)).toBe(8 * MiB);
    for (const size of [80 * 1024 ** 3, 1024 ** 4, 5 * 1024 ** 4]) {
      expect(Math.ceil(size / partSizeFor(size))).toBeLessThanOrEqual(10_000);
      expect(partSizeFor(size) % MiB).toBe(0);
    }
  });
});

describe('multipart upload routes', () => {
  it('create, sign, list, complete: the object is the parts in order and its job is queued', async () => {
    const ws = new WsRecorder(api.url);
    await ws.waitFor('snapshot');
    const upload = await create('../My trip.MP4', 5 * MiB + 3);
    expect(upload.key).toMatch(/^uploads\/My trip-[0-9a-f]{8}\.mp4$/);
    expect(upload).toMatchObject({ partSize: 8 * MiB, partCount: 1 });
    const first = Buffer.alloc(5 * MiB, 'a');
    const last = Buffer.from('end');
    const eTags = await putParts(upload, new Map([[2, last]]));
    eTags.set(1, (await putParts(upload, new Map([[1, first]]))).get(1) ?? '');

    const listed = await call(
      'GET',
      `/api/uploads/multipart/parts?key=${encodeURIComponent(upload.key)}&uploadId=${upload.uploadId}`,
    );
    expect(listed.statusCode, listed.body).toBe(200);
    expect(listed.json().parts).toEqual([
      { partNumber: 1, eTag: eTags.get(1), size: first.length },
      { partNumber: 2, eTag: eTags.get(2), size: last.length },
    ]);

    const parts = [...eTags].map(([partNumber, eTag]) => ({ partNumber, eTag })).reverse();
    const completed = await call('POST', '/api/uploads/multipart/complete', { ...ref(upload), parts });
    expect(completed.statusCode, completed.body).toBe(200);
    expect(completed.json().eTag).toMatch(/-2"$/);
    const stored = await aws.s3.send(new GetObjectCommand({ Bucket: resources.bucket, Key: upload.key }));
    expect(Buffer.from(await stored.Body!.transformToByteArray()).equals(Buffer.concat([first, last]))).toBe(
      true,
    );
    const job = await ws.waitFor('job', (m) => m.job.source === upload.key);
    expect(job.job.status).toBe('queued');
    ws.close();
  });

  it('refuses to complete with a wrong ETag or a part under 5 MiB, as S3 does, and keeps the upload', async () => {
    const upload = await create();
    const eTags = await putParts(
      upload,
      new Map([
        [1, Buffer.alloc(1024, 'x')],
        [2, Buffer.alloc(1024, 'y')],
      ]),
    );
    const wrong = await call('POST', '/api/uploads/multipart/complete', {
      ...ref(upload),
      parts: [
        { partNumber: 1, eTag: '"00000000000000000000000000000000"' },
        { partNumber: 2, eTag: eTags.get(2) },
      ],
    });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().message).toMatch(/InvalidPart/);
    const small = await call('POST', '/api/uploads/multipart/complete', {
      ...ref(upload),
      parts: [...eTags].map(([partNumber, eTag]) => ({ partNumber, eTag })),
    });
    expect(small.statusCode).toBe(400);
    expect(small.json().message).toMatch(/EntityTooSmall/);
    expect(await incompleteUploads()).toContain(upload.uploadId);
    expect((await call('POST', '/api/uploads/multipart/abort', ref(upload))).statusCode).toBe(204);
  });

  it('abort leaves no incomplete upload behind; the upload is then unknown (404)', async () => {
    const upload = await create();
    await putParts(upload, new Map([[1, Buffer.alloc(5 * MiB, 'z')]]));
    expect(await incompleteUploads()).toContain(upload.uploadId);
    const aborted = await call('POST', '/api/uploads/multipart/abort', ref(upload));
    expect(aborted.statusCode, aborted.body).toBe(204);
    expect(await incompleteUploads()).not.toContain(upload.uploadId);
    const listed = await call(
      'GET',
      `/api/uploads/multipart/parts?key=${encodeURIComponent(upload.key)}&uploadId=${upload.uploadId}`,
    );
    expect(listed.statusCode).toBe(404);
    expect((await call('POST', '/api/uploads/multipart/abort', ref(upload))).statusCode).toBe(404);
  });

  it('part URLs are signature-checked by the endpoint: a tampered one is refused', async () => {
    const upload = await create();
    const signed = await call('POST', '/api/uploads/multipart/sign', { ...ref(upload), partNumbers: [1] });
    const url = new URL(signed.json().parts[0].url);
    url.searchParams.set('partNumber', '2');
    const put = await fetch(url, { method: 'PUT', body: 'x' });
    expect(put.status).toBe(403);
    expect(await put.text()).toContain('SignatureDoesNotMatch');
    await call('POST', '/api/uploads/multipart/abort', ref(upload));
  });

  it('asks for the admin token and rejects bad requests with a clear 4xx', async () => {
    const open = await api.app.inject({
      method: 'POST',
      url: '/api/uploads/multipart',
      payload: { filename: 'a.mp4', contentType: 'video/mp4', size: 1 },
    });
    expect(open.statusCode).toBe(401);
    const cases: [string, object, number][] = [
      ['/api/uploads/multipart', { filename: 'a.txt', contentType: 'text/plain', size: 1 }, 400],
      ['/api/uploads/multipart', { filename: 'a.mp4', contentType: 'video/mp4', size: 6 * 1024 ** 4 }, 413],
      ['/api/uploads/multipart/sign', { key: 'thumbnails/a.mp4', uploadId: 'x', partNumbers: [1] }, 400],
      ['/api/uploads/multipart/sign', { key: 'uploads/a.mp4', uploadId: 'x', partNumbers: [0] }, 400],
      ['/api/uploads/multipart/sign', { key: 'uploads/a.mp4', uploadId: 'x', partNumbers: [10_001] }, 400],
      ['/api/uploads/multipart/sign', { key: 'uploads/a.mp4', uploadId: 'x', partNumbers: [] }, 400],
      ['/api/uploads/multipart/complete', { key: 'uploads/a.mp4', uploadId: 'x', parts: [] }, 400],
      ['/api/uploads/multipart/abort', { key: 'uploads/a.mp4' }, 400],
      ['/api/uploads/multipart/abort', { key: 'uploads/a.mp4', uploadId: 'unknown' }, 404],
    ];
    for (const [url, payload, status] of cases) {
      const response = await call('POST', url, payload);
      expect(response.statusCode, `${url} ${JSON.stringify(payload)}`).toBe(status);
      expect(response.json().message).toEqual(expect.any(String));
    }
  });
});
