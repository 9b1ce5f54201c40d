import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { PublishCommand } from '@aws-sdk/client-sns';
import { buildS3Event, failureKey, thumbnailKeys, type PipelineEvent } from '@thumbs/model';
import type { AwsClients } from '@thumbs/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_TOKEN,
  createResources,
  startApi,
  startEmulator,
  waitFor,
  WsRecorder,
  type LocalAws,
  type Resources,
} from '../testing/harness.ts';

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
const VIDEOS = 5;

let local: LocalAws;
let resources: Resources;
let api: Awaited<ReturnType<typeof startApi>>;
/** The test's own calls (seeding, checking results): the deploy role's, as a person at the console. */
let aws: AwsClients;

async function put(key: string, body = 'x', bucket = resources.bucket): Promise<void> {
  await aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

async function keysUnder(prefix: string, bucket = resources.bucket): Promise<string[]> {
  const listed = await aws.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (listed.Contents ?? []).map((o) => o.Key ?? '');
}

beforeAll(async () => {
  local = await startEmulator();
  resources = await createResources(local, 'routes');
  aws = local.clients('deployer', resources.deployment);
  for (let v = 0; v < VIDEOS; v++) {
    await put(`uploads/seed-${v}.mp4`);
    for (const key of thumbnailKeys(`uploads/seed-${v}.mp4`)) await put(key, 'jpeg-bytes');
  }
  api = await startApi(local, resources);
  await waitFor(() => api.pipeline.thumbnails.ready, 10_000, 'the thumbnail index');
});

afterAll(async () => {
  await api?.app.close();
  await local?.stop();
});

describe('read routes', () => {
  it('answers health, readiness and every part of the state', async () => {
    expect((await api.app.inject('/health')).json()).toEqual({ status: 'ok' });
    expect((await api.app.inject('/ready')).json()).toMatchObject({ status: 'ready' });
    const state = (await api.app.inject('/api/state')).json();
    expect(Object.keys(state).sort()).toEqual(
      [
        'backfill',
        'dlq',
        'generatedAt',
        'history',
        'jobs',
        'metrics',
        'pods',
        'queue',
        'sources',
        'thumbnails',
      ].sort(),
    );
    expect(state.thumbnails).toHaveLength(VIDEOS * 3);
    expect(state.sources.s3.ok).toBe(true);
    const metrics = (await api.app.inject('/api/metrics')).json();
    expect(metrics).toMatchObject({
      thumbnails: VIDEOS * 3,
      videosDone: VIDEOS,
      storageBytes: VIDEOS * 3 * 10,
    });
    const queue = await waitFor(async () => {
      const body = (await api.app.inject('/api/queue')).json();
      return body.history.length > 0 && body;
    });
    expect(queue).toMatchObject({ depth: expect.any(Number), inFlight: expect.any(Number), dlqDepth: 0 });
    expect(queue.history[0]).toEqual({
      time: expect.any(String),
      depth: expect.any(Number),
      inFlight: expect.any(Number),
    });
    for (const url of ['/api/pods', '/api/jobs', '/api/dlq']) {
      const response = await api.app.inject(url);
      expect(response.statusCode).toBe(200);
      expect(Array.isArray(response.json())).toBe(true);
    }
  });

  it('pages thumbnails with source, frame, limit and cursor filters', async () => {
    const source = 'uploads/seed-2.mp4';
    const bySource = (await api.app.inject(`/api/thumbnails?source=${encodeURIComponent(source)}`)).json();
    expect(bySource.items.map((t: { frame: string }) => t.frame).sort()).toEqual(['10%', '50%', '95%']);
    expect(bySource.items[0]).toMatchObject({
      source,
      key: expect.stringMatching(/^thumbnails\//),
      size: 10,
    });
    const image = await fetch(bySource.items[0].url);
    expect(await image.text()).toBe('jpeg-bytes');

    const middle = (await api.app.inject('/api/thumbnails?frame=50%25')).json();
    expect(middle.items).toHaveLength(VIDEOS);
    expect(middle.items.every((t: { frame: string }) => t.frame === '50%')).toBe(true);

    const seen = new Set<string>();
    let cursor: string | null = null;
    do {
      const url: string = `/api/thumbnails?limit=4${cursor ? `&cursor=${cursor}` : ''}`;
      const page = (await api.app.inject(url)).json();
      for (const item of page.items) seen.add(item.key);
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen.size).toBe(VIDEOS * 3);
  });

  it('rejects bad queries with a 400 and a clear message', async () => {
    for (const query of [
      'limit=0',
      'limit=501',
      'limit=abc',
      'frame=33%25',
      'cursor=not-a-cursor',
      'unknown=1',
    ]) {
      const response = await api.app.inject(`/api/thumbnails?${query}`);
      expect(response.statusCode, query).toBe(400);
      expect(response.json().message, query).toEqual(expect.any(String));
    }
  });

  it('answers unknown routes and methods with a JSON 404', async () => {
    for (const [method, url] of [
      ['GET', '/api/nothing'],
      ['POST', '/api/state'],
      ['PUT', '/api/purge'],
    ] as const) {
      const response = await api.app.inject({ method, url });
      expect(response.statusCode).toBe(404);
      expect(response.json()).toMatchObject({ statusCode: 404 });
    }
  });

  it('serves OpenAPI at /docs and Prometheus metrics at /metrics', async () => {
    const openapi = (await api.app.inject('/docs/json')).json();
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining([
        '/api/state',
        '/api/thumbnails',
        '/api/uploads',
        '/api/purge',
        '/api/dlq/redrive',
      ]),
    );
    expect((await api.app.inject('/docs')).statusCode).toBeLessThan(400);
    const metrics = await api.app.inject('/metrics');
    expect(metrics.headers['content-type']).toMatch(/^text\/plain/);
    expect(metrics.body).toMatch(/^thumbnails \d+$/m);
    expect(metrics.body).toMatch(/^queue_depth \d+$/m);
    expect(metrics.body).toMatch(/^ws_clients \d+$/m);
    expect(metrics.body).toMatch(/http_request_duration_seconds_count\{.*route="\/api\/state"/);
  });
});

describe('admin routes', () => {
  const routes = [
    ['POST', '/api/dlq/redrive'],
    ['POST', '/api/uploads'],
    ['POST', '/api/test'],
    ['DELETE', '/api/purge'],
  ] as const;

  it('answer 401 without the token, or with a wrong one, and change nothing', async () => {
    const before = await keysUnder('');
    for (const [method, url] of routes) {
      for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: ADMIN_TOKEN }]) {
        const response = await api.app.inject({
          method,
          url,
          headers,
          payload:
            url === '/api/uploads' ? { filename: 'a.mp4', contentType: 'video/mp4', size: 10 } : undefined,
        });
        expect(response.statusCode, `${method} ${url}`).toBe(401);
        expect(response.json().message).toEqual(expect.any(String));
      }
    }
    expect(await keysUnder('')).toEqual(before);
    expect((await api.app.inject('/api/jobs')).json()).toEqual([]);
  });

  it('rate-limits admin routes', async () => {
    const limited = await startApi(local, resources, { ADMIN_RATE_LIMIT: '2' });
    try {
      const codes = [];
      for (let i = 0; i < 3; i++)
        codes.push((await limited.app.inject({ method: 'POST', url: '/api/dlq/redrive' })).statusCode);
      expect(codes).toEqual([401, 401, 429]);
    } finally {
      await limited.app.close();
    }
  });

  it('presigns an upload under uploads/ that accepts exactly the announced file', async () => {
    const ws = new WsRecorder(api.url);
    await ws.waitFor('snapshot');
    const body = 'not really a video, but 38 bytes long';
    const response = await api.app.inject({
      method: 'POST',
      url: '/api/uploads',
      headers: auth,
      payload: {
        filename: '../../etc/My\u0007 clip..final.MOV',
        contentType: 'video/quicktime',
        size: body.length,
      },
    });
    expect(response.statusCode).toBe(200);
    const upload = response.json();
    expect(upload).toMatchObject({ method: 'PUT', headers: { 'Content-Type': 'video/quicktime' } });
    expect(upload.key).toMatch(/^uploads\/My clip\.final-[0-9a-f]{8}\.mov$/);
    const put = await fetch(upload.url, { method: 'PUT', headers: upload.headers, body });
    expect(put.status).toBe(200);
    const stored = await aws.s3.send(new GetObjectCommand({ Bucket: resources.bucket, Key: upload.key }));
    expect(await stored.Body?.transformToString()).toBe(body);
    const job = await ws.waitFor('job', (m) => m.job.source === upload.key);
    expect(job.job).toMatchObject({ status: 'queued', attempts: 0 });
    ws.close();
  });

  it('rejects bad upload requests with a 4xx', async () => {
    const cases: [unknown, number][] = [
      [{}, 400],
      [{ filename: 'a.mp4', contentType: 'video/mp4' }, 400],
      [{ filename: 'a.mp4', contentType: 'video/mp4', size: 'big' }, 400],
      [{ filename: 'a.mp4', contentType: 'video/mp4', size: -1 }, 400],
      [{ filename: 42, contentType: 'video/mp4', size: 1 }, 400],
      [{ filename: 'notes.txt', contentType: 'text/plain', size: 1 }, 400],
      [{ filename: 'a.mp4', contentType: 'image/png', size: 1 }, 400],
      [{ filename: 'a.mp4', contentType: 'video/mp4', size: 1, extra: true }, 400],
      [{ filename: 'a.mp4', contentType: 'video/mp4', size: 6 * 1024 ** 3 }, 413],
      [{ filename: 'a.mp4', contentType: 'video/mp4', size: 1, pad: 'x'.repeat(100_000) }, 413],
      ['not json at all', 400],
    ];
    for (const [payload, status] of cases) {
      const response = await api.app.inject({
        method: 'POST',
        url: '/api/uploads',
        headers: { ...auth, 'content-type': 'application/json' },
        payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
      });
      expect(response.statusCode, JSON.stringify(payload).slice(0, 80)).toBe(status);
      expect(response.json().message).toEqual(expect.any(String));
    }
  });

  it('lists dead letters with their last error, and redrives them to the work queue', async () => {
    const sources = ['uploads/broken-1.mp4', 'uploads/broken-2.mp4', 'uploads/broken 3.mp4'];
    for (const source of sources) {
      await aws.sqs.send(
        new SendMessageCommand({
          QueueUrl: resources.dlqUrl,
          MessageBody: buildS3Event({
            bucket: resources.bucket,
            key: source,
            size: 1,
            eTag: '"abc"',
            region: 'us-east-1',
            eventName: 'ObjectCreated:Put',
          }),
        }),
      );
    }
    // The worker records each final failure; the panel lists dead letters from those records.
    for (const source of sources) {
      await put(
        failureKey(source),
        JSON.stringify({
          source,
          error: source === sources[0] ? 'moov atom not found' : 'corrupt',
          attempt: 3,
          worker: 'w1',
          time: new Date().toISOString(),
        }),
      );
    }
    const dlq = await waitFor(async () => {
      const body = (await api.app.inject('/api/dlq')).json();
      return body.length === 3 && body;
    });
    expect(dlq.map((d: { source: string }) => d.source).sort()).toEqual([...sources].sort());
    expect(dlq.find((d: { source: string }) => d.source === sources[0]).error).toBe('moov atom not found');

    const redrive = await api.app.inject({ method: 'POST', url: '/api/dlq/redrive', headers: auth });
    expect(redrive.json()).toEqual({ moved: 3 });
    const moved = await aws.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: resources.queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
      }),
    );
    expect(moved.Messages).toHaveLength(3);
    expect((await api.app.inject('/api/dlq')).json()).toEqual([]);
    expect((await api.app.inject('/api/queue')).json().dlqDepth).toBe(0);
  });

  it('copies the test source videos into uploads/', async () => {
    await put('samples/a.mp4', 'a', resources.testSourceBucket);
    await put('samples/b.webm', 'b', resources.testSourceBucket);
    await put('README.txt', 'not a video', resources.testSourceBucket);
    const response = await api.app.inject({ method: 'POST', url: '/api/test', headers: auth });
    expect(response.json()).toEqual({ queued: 2 });
    const copies = (await keysUnder('uploads/test-')).map((k) => k.split('/').pop());
    expect(copies.sort()).toEqual(['a.mp4', 'b.webm']);
    const jobs = (await api.app.inject('/api/jobs')).json();
    expect(jobs.filter((j: { source: string }) => j.source.startsWith('uploads/test-'))).toHaveLength(2);
  });
});

describe('events and purge', () => {
  it('shows a finished video as soon as its job.done event arrives (REST and WebSocket)', async () => {
    const ws = new WsRecorder(api.url);
    await ws.waitFor('snapshot');
    const source = 'uploads/fresh.mp4';
    const keys = thumbnailKeys(source);
    for (const key of keys) await put(key, 'jpeg');
    const event: PipelineEvent = {
      type: 'job.done',
      source,
      attempt: 1,
      worker: 'w1',
      thumbnails: keys.map((key, i) => ({ key, frame: (['10%', '50%', '95%'] as const)[i]!, size: 4 })),
      uploadedAt: new Date(Date.now() - 3000).toISOString(),
      processingMs: 1200,
      time: new Date().toISOString(),
    };
    const sent = Date.now();
    await aws.sns.send(new PublishCommand({ TopicArn: resources.topicArn, Message: JSON.stringify(event) }));
    const update = await ws.waitFor('thumbnails', (m) => m.added.some((t) => t.source === source));
    expect(Date.now() - sent).toBeLessThan(3000);
    expect(update.added.map((t) => t.key).sort()).toEqual([...keys].sort());
    expect(
      (await ws.waitFor('job', (m) => m.job.source === source && m.job.status === 'done')).job.latencyMs,
    ).toBeGreaterThan(0);
    const listed = (await api.app.inject(`/api/thumbnails?source=${encodeURIComponent(source)}`)).json();
    expect(listed.items).toHaveLength(3);
    ws.close();
  });

  it('purges uploads/, thumbnails/ and failures/ in batches, and the state follows at once', async () => {
    for (let i = 0; i < 1100; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, j) => put(`thumbnails/uploads/bulk-${i + j}.mp4/50.jpg`)),
      );
    }
    await put(failureKey('uploads/broken-1.mp4'), '{}');
    await put('keep/me.txt');
    const total =
      (await keysUnder('uploads/')).length + 1100 + 3 * (VIDEOS + 1) + (await keysUnder('failures/')).length;
    const ws = new WsRecorder(api.url);
    await ws.waitFor('snapshot');
    const response = await api.app.inject({ method: 'DELETE', url: '/api/purge', headers: auth });
    expect(response.json()).toEqual({ deleted: total });
    for (const prefix of ['uploads/', 'thumbnails/', 'failures/'])
      expect(await keysUnder(prefix)).toEqual([]);
    expect(await keysUnder('keep/')).toEqual(['keep/me.txt']);
    await ws.waitFor('purged');
    const metrics = await ws.waitFor('metrics', (m) => m.metrics.thumbnails === 0);
    expect(metrics.metrics.videosDone).toBe(0);
    expect((await api.app.inject('/api/thumbnails')).json()).toEqual({ items: [], nextCursor: null });
    expect((await api.app.inject('/api/jobs')).json()).toEqual([]);
    ws.close();
  });
});
