import { connect } from 'node:net';
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, createResources, startApi, startEmulator, type LocalAws } from '../testing/harness.ts';

const UPLOAD_MAX_BYTES = 50 * 1024 * 1024;

let local: LocalAws;
let api: Awaited<ReturnType<typeof startApi>>;

beforeAll(async () => {
  local = await startEmulator();
  api = await startApi(local, await createResources(local, 'hostile'), {
    ADMIN_RATE_LIMIT: '1000000',
    UPLOAD_MAX_BYTES: String(UPLOAD_MAX_BYTES),
  });
});

afterAll(async () => {
  await api?.app.close();
  await local?.stop();
});

const ROUTES = [
  ['GET', '/health'],
  ['GET', '/ready'],
  ['GET', '/api/state'],
  ['GET', '/api/metrics'],
  ['GET', '/api/queue'],
  ['GET', '/api/pods'],
  ['GET', '/api/jobs'],
  ['GET', '/api/dlq'],
  ['GET', '/api/thumbnails'],
  ['GET', '/metrics'],
  ['GET', '/docs/json'],
  ['POST', '/api/uploads'],
  ['POST', '/api/uploads/multipart'],
  ['POST', '/api/uploads/multipart/sign'],
  ['GET', '/api/uploads/multipart/parts'],
  ['POST', '/api/uploads/multipart/complete'],
  ['POST', '/api/uploads/multipart/abort'],
  ['POST', '/api/test'],
  ['POST', '/api/dlq/redrive'],
  ['DELETE', '/api/purge'],
] as const;

/** A client error, or success: anything but a server error, and an error always says what was wrong. */
function expectNoServerError(response: LightMyRequestResponse, what: string): void {
  expect(response.statusCode, what).toBeGreaterThanOrEqual(200);
  expect(response.statusCode, `${what} → ${response.body.slice(0, 300)}`).toBeLessThan(500);
  if (response.statusCode >= 400) {
    const body = response.json() as { statusCode: number; message: string };
    expect(body.statusCode, what).toBe(response.statusCode);
    expect(body.message, what).toEqual(expect.any(String));
  }
}

const deepJson = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
const deepArray = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

/** Request bodies: JSON of any shape, upload-shaped JSON with wrong types, broken JSON, invalid UTF-8. */
const body = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc
    .record(
      {
        filename: fc.oneof(fc.string({ unit: 'binary' }), fc.jsonValue()),
        contentType: fc.oneof(fc.constantFrom('video/mp4', 'video/quicktime', ''), fc.jsonValue()),
        size: fc.oneof(fc.integer(), fc.double(), fc.jsonValue(), fc.constant(Number.MAX_SAFE_INTEGER)),
        extra: fc.jsonValue(),
      },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v)),
  fc.string({ unit: 'binary' }),
  fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from([0xff, 0xfe, 0xc3, ...bytes])),
  fc.constantFrom(
    deepJson(2000),
    deepArray(7000),
    deepJson(100_000),
    '{"filename":"a.mp4","contentType":"video/mp4","size":1,"size":"dup"}',
    '{"__proto__":{"polluted":true},"filename":"a.mp4","contentType":"video/mp4","size":1}',
    '{"constructor":{"prototype":{"polluted":true}}}',
    'x'.repeat(2_000_000),
    '',
  ),
);

const contentType = fc.oneof(
  fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'application/json; charset=latin1',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/octet-stream',
    'application/xml',
  ),
  fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz/;=+-. '.split('')), maxLength: 40 }),
);

/** Query strings: known keys with junk values, unknown keys, broken percent escapes, repeated keys. */
const query = fc.oneof(
  fc.constant(''),
  fc
    .array(
      fc.tuple(
        fc.oneof(
          fc.constantFrom('source', 'frame', 'limit', 'cursor', 'limit[]', '__proto__', 'constructor'),
          fc.string(),
        ),
        fc.oneof(
          fc.string({ unit: 'binary' }).map(encodeURIComponent),
          fc.constantFrom('%', '%zz', '%E0%A4%A', '%C0%80', '%00', '1e3', '-1', '0x10', 'NaN', '10%25'),
          fc.string({ maxLength: 3000 }).map(encodeURIComponent),
        ),
      ),
      { maxLength: 6 },
    )
    .map((pairs) => '?' + pairs.map(([k, v]) => `${encodeURIComponent(k)}=${v}`).join('&')),
);

const authorization = fc.oneof(
  fc.constant(`Bearer ${ADMIN_TOKEN}`),
  fc.constant(undefined),
  fc.constantFrom(
    'Bearer',
    'Bearer ',
    'bearer ' + ADMIN_TOKEN,
    'Basic dGVzdDp0ZXN0',
    `Bearer ${'x'.repeat(8000)}`,
  ),
  fc.string({ unit: fc.constantFrom(...'ABCDEFabcdef0123456789 -_.'.split('')), maxLength: 200 }),
);

describe('every route under random requests (property)', () => {
  it('answers random bodies, content types, queries and tokens with a 2xx or a 4xx, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ROUTES),
        query,
        body,
        contentType,
        authorization,
        async ([method, url], search, payload, type, auth) => {
          const headers: Record<string, string> = { 'content-type': type };
          if (auth !== undefined) headers.authorization = auth;
          const response = await api.app.inject({ method, url: url + search, headers, payload });
          expectNoServerError(response, `${method} ${url}${search.slice(0, 80)} ${type}`);
        },
      ),
      { numRuns: 600 },
    );
  });

  it('gives a 400 (not a 500) for every wrong-typed upload field, a 413 for oversized bodies', async () => {
    const cases: [string, number][] = [
      [deepJson(100_000), 413],
      [deepArray(7000), 400],
      ['{"filename":"a.mp4","contentType":"video/mp4","size":1e400}', 400],
      ['{"filename":"a.mp4","contentType":"video/mp4","size":1.5}', 400],
      ['{"filename":"a.mp4","contentType":"video/mp4","size":null}', 400],
      ['{"filename":["a.mp4"],"contentType":"video/mp4","size":1}', 400],
      ['{"filename":{"toString":"a.mp4"},"contentType":"video/mp4","size":1}', 400],
      ['{"filename":"","contentType":"video/mp4","size":1}', 400],
    ];
    for (const [payload, status] of cases) {
      const response = await api.app.inject({
        method: 'POST',
        url: '/api/uploads',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        payload,
      });
      expect(response.statusCode, payload.slice(0, 60)).toBe(status);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('survives malformed HTTP on a real socket and keeps serving', async () => {
    const { port } = new URL(api.url);
    const raw = (request: string | Buffer) =>
      new Promise<string>((resolve) => {
        const socket = connect(Number(port), '127.0.0.1');
        let answer = '';
        socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
        socket.on('close', () => resolve(answer));
        socket.on('error', () => resolve(answer));
        socket.end(request);
      });
    const answers = await Promise.all([
      raw('GARBAGE\r\n\r\n'),
      raw(
        Buffer.concat([
          Buffer.from('GET /api/thumbnails?source='),
          Buffer.from([0xff, 0xc0]),
          Buffer.from(' HTTP/1.1\r\nHost: x\r\n\r\n'),
        ]),
      ),
      raw(`GET /api/state HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`),
      raw(
        'POST /api/uploads HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      ),
      raw(
        'POST /api/uploads HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 99999999\r\n\r\n{',
      ),
    ]);
    for (const answer of answers) expect(answer).toMatch(/^HTTP\/1\.1 4\d\d/);
    expect((await fetch(`${api.url}/health`)).status).toBe(200);
  });
});

describe('upload names', () => {
  const presign = (filename: string, size = 1000, contentType = 'video/mp4') =>
    api.app.inject({
      method: 'POST',
      url: '/api/uploads',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      payload: { filename, contentType, size },
    });

  /** The key is `uploads/<one safe segment>`, whatever the browser sent. */
  function expectSafeKey(key: string, what: string): void {
    expect(key, what).toMatch(/^uploads\/[^/\\]+$/);
    const name = key.slice('uploads/'.length);
    expect(name, what).not.toMatch(/\.\./);
    expect(name, what).not.toMatch(/^[.\s]/);
    // eslint-disable-next-line no-control-regex -- no control characters is the point
    expect(name, what).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(name.length, what).toBeLessThanOrEqual(120);
    expect(name, what).toMatch(/-[0-9a-f]{8}\.mp4$/);
  }

  it('stores hostile names under a safe key inside uploads/', async () => {
    const hostile = [
      '../../../etc/passwd.mp4',
      '..\\..\\windows\\system32\\evil.mp4',
      '/etc/cron.d/job.mp4',
      'C:\\Users\\me\\clip.mp4',
      '....//....//clip.mp4',
      '..mp4',
      '.hidden.mp4',
      ' .mp4',
      'a/../../b.mp4',
      'uploads/../thumbnails/x.mp4',
      'clip\u0000.txt.mp4',
      'line\r\nbreak\t.mp4',
      '\u202egnp.mp4',
      '%2e%2e%2fclip.mp4',
      `${'é'.repeat(1010)}.mp4`,
      `${'../'.repeat(300)}x.mp4`,
      'CON.mp4',
      '😀'.repeat(200) + '.mp4',
    ];
    for (const filename of hostile) {
      const response = await presign(filename);
      expect(response.statusCode, filename.slice(0, 60)).toBe(200);
      expectSafeKey(response.json().key, filename.slice(0, 60));
    }
  });

  it('gives a safe key or a 400 for any name (property)', async () => {
    const segment = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.constantFrom('..', '.', '', '/', '\\', '\u0000', '%2e%2e', '~'),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(segment, { maxLength: 8 }),
        fc.constantFrom('/', '\\', ''),
        async (parts, sep) => {
          const filename = `${parts.join(sep)}.mp4`.slice(-1024);
          const response = await presign(filename);
          if (response.statusCode === 200) expectSafeKey(response.json().key, JSON.stringify(filename));
          else expect(response.statusCode, JSON.stringify(filename)).toBe(400);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('refuses wrong extensions, content types and 2,000-character names with a 400, sizes over the limit with a 413', async () => {
    const long = await presign(`${'a'.repeat(2000)}.mp4`);
    expect(long.statusCode).toBe(400);
    expect(long.json().message).toMatch(/filename must NOT have more than 1024 characters/);
    for (const filename of [
      'clip.exe',
      'clip.mp4.exe',
      'clip.mp4/',
      'clip',
      'clip.mp4 ',
      'clip.MP4\u0000.html',
    ]) {
      const response = await presign(filename);
      expect(response.statusCode, filename).toBe(400);
      expect(response.json().message).toMatch(/not a supported video file name/);
    }
    for (const contentType of [
      'text/html',
      'image/svg+xml',
      'application/javascript',
      'video/mp4; x=<script>',
    ]) {
      const response = await presign('clip.mp4', 10, contentType);
      expect(response.statusCode, contentType).toBe(400);
      expect(response.json().message).toMatch(/content type/);
    }
    const over = await presign('clip.mp4', UPLOAD_MAX_BYTES + 1);
    expect(over.statusCode).toBe(413);
    expect(over.json().message).toBe(`uploads are limited to ${UPLOAD_MAX_BYTES} bytes`);
    expect((await presign('clip.mp4', UPLOAD_MAX_BYTES)).statusCode).toBe(200);
  });

  it('presigns for one key, one content type and one length, for 15 minutes', async () => {
    const response = await presign('clip.mov', 4321, 'video/quicktime');
    const { url, key, headers, expiresAt } = response.json();
    const params = new URL(url).searchParams;
    expect(new URL(url).pathname.endsWith(`/${key}`)).toBe(true);
    expect(params.get('X-Amz-SignedHeaders')?.split(';').sort()).toEqual([
      'content-length',
      'content-type',
      'host',
    ]);
    expect(params.get('X-Amz-Expires')).toBe('900');
    expect(headers).toEqual({ 'Content-Type': 'video/quicktime' });
    const ttl = Date.parse(expiresAt) - Date.now();
    expect(ttl).toBeGreaterThan(850_000);
    expect(ttl).toBeLessThanOrEqual(900_000);
  });
});
