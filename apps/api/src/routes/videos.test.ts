import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import {
  failureKey,
  parseQueueMessage,
  thumbnailKeys,
  videoInfoMetadata,
  type VideoDetail,
  type VideoInfo,
} from '@thumbs/model';
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
const info: VideoInfo = {
  durationSeconds: 12.5,
  width: 1920,
  height: 1080,
  rotation: 90,
  codec: 'h264',
  container: 'QuickTime / MOV',
  size: 4_200_000,
  bitRate: 2_688_000,
};
const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();

let local: LocalAws;
let resources: Resources;
let api: Awaited<ReturnType<typeof startApi>>;
let aws: AwsClients;

async function put(key: string, body = 'x', metadata?: Record<string, string>): Promise<void> {
  await aws.s3.send(
    new PutObjectCommand({ Bucket: resources.bucket, Key: key, Body: body, Metadata: metadata }),
  );
}

async function keysUnder(prefix: string): Promise<string[]> {
  const listed = await aws.s3.send(new ListObjectsV2Command({ Bucket: resources.bucket, Prefix: prefix }));
  return (listed.Contents ?? []).map((o) => o.Key ?? '');
}

const detailOf = (source: string) => api.app.inject({ url: '/api/video', query: { source } });

beforeAll(async () => {
  local = await startEmulator();
  resources = await createResources(local, 'videos');
  aws = local.clients('deployer', resources.deployment);
  api = await startApi(local, resources);
});

afterAll(async () => {
  await api?.app.close();
  await local?.stop();
});

describe('GET /api/video', () => {
  it("serves an older video's detail from the bucket: thumbnails in frame order, the probe's findings", async () => {
    const source = 'uploads/old/clip one.mp4';
    await put(source);
    const metadata = videoInfoMetadata(info, { bytes: 81_920, requests: 3 });
    for (const key of [...thumbnailKeys(source)].reverse()) await put(key, 'jpeg', metadata);
    const response = await detailOf(source);
    expect(response.statusCode).toBe(200);
    const detail = response.json<VideoDetail>();
    expect(detail.thumbnails.map((th) => th.frame)).toEqual(['10%', '50%', '95%']);
    expect(detail.thumbnails[0]?.url).toMatch(/^http/);
    expect(detail).toMatchObject({
      source,
      job: null,
      video: info,
      sourceRead: { bytes: 81_920, requests: 3 },
      failure: null,
      deadLetter: false,
    });
    expect(detail.attempts.map((a) => a.event)).toEqual(['done']);
  });

  it("shows a failed video's full error and the probe's findings from its failure record", async () => {
    const source = 'uploads/broken.mov';
    const error = 'ffmpeg could not decode frame 120: '.padEnd(400, 'x');
    await put(
      failureKey(source),
      JSON.stringify({ source, kind: 'corrupt', error, attempt: 2, worker: 'w-1', time: t(9), video: info }),
    );
    const detail = (await detailOf(source)).json<VideoDetail>();
    expect(detail.failure).toEqual({ error, kind: 'corrupt', attempt: 2, worker: 'w-1', time: t(9) });
    expect(detail.video).toEqual(info);
    expect(detail.attempts).toEqual([
      { event: 'failed', time: t(9), attempt: 2, worker: 'w-1', error, kind: 'corrupt', final: false },
    ]);
  });

  it('gives the timeline this replica saw: queued, received by a worker, started, done', async () => {
    const source = 'uploads/live.mp4';
    const common = { source, attempt: 1, worker: 'worker-a' };
    await api.pipeline.apply({ type: 'job.queued', source, time: t(0) });
    await api.pipeline.apply({
      type: 'job.started',
      ...common,
      uploadedAt: t(0),
      receivedAt: t(1),
      time: t(2),
    });
    await api.pipeline.apply({ type: 'job.stage', ...common, stage: 'extracting', time: t(3) });
    expect((await detailOf(source)).json<VideoDetail>().job).toMatchObject({
      status: 'processing',
      stage: 'extracting',
    });
    await api.pipeline.apply({
      type: 'job.done',
      ...common,
      thumbnails: [],
      uploadedAt: t(0),
      processingMs: 3000,
      video: info,
      sourceRead: { bytes: 1000, requests: 2 },
      time: t(5),
    });
    const detail = (await detailOf(source)).json<VideoDetail>();
    expect(detail.attempts.map((a) => [a.event, a.worker, a.time])).toEqual([
      ['queued', null, t(0)],
      ['received', 'worker-a', t(1)],
      ['started', 'worker-a', t(2)],
      ['done', 'worker-a', t(5)],
    ]);
    expect(detail).toMatchObject({ video: info, sourceRead: { bytes: 1000, requests: 2 } });
    expect(detail.job).toMatchObject({ status: 'done', stage: null });
  });

  it('answers 404 for a video nothing is known of, and 400 without a source', async () => {
    expect((await detailOf('uploads/never.mp4')).statusCode).toBe(404);
    expect((await api.app.inject('/api/video')).statusCode).toBe(400);
  });
});

describe('admin actions on one video', () => {
  it('need the admin token, and refuse keys outside uploads/', async () => {
    const source = 'uploads/old/clip one.mp4';
    const reprocess = { method: 'POST' as const, url: '/api/video/reprocess', query: { source } };
    expect((await api.app.inject(reprocess)).statusCode).toBe(401);
    expect(
      (await api.app.inject({ method: 'DELETE', url: '/api/video', query: { source } })).statusCode,
    ).toBe(401);
    const outside = { method: 'DELETE' as const, url: '/api/video', query: { source: 'thumbnails/x.mp4' } };
    expect((await api.app.inject({ ...outside, headers: auth })).statusCode).toBe(400);
    expect(await keysUnder(source)).toEqual([source]);
  });

  it('reprocess sends the upload to the work queue as its S3 event and marks the job queued', async () => {
    const source = 'uploads/old/clip one.mp4';
    const ws = new WsRecorder(api.url);
    await ws.opened;
    const response = await api.app.inject({
      method: 'POST',
      url: '/api/video/reprocess',
      query: { source },
      headers: auth,
    });
    expect(response.json()).toEqual({ queued: 1 });
    const received = await aws.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: resources.queueUrl, WaitTimeSeconds: 2 }),
    );
    expect(parseQueueMessage(received.Messages?.[0]?.Body ?? '')).toMatchObject({
      kind: 'objects',
      objects: [{ key: source, bucket: resources.bucket }],
    });
    await ws.waitFor('job', (m) => m.job.source === source && m.job.status === 'queued');
    ws.socket.close();
    const missing = { method: 'POST' as const, url: '/api/video/reprocess', headers: auth };
    expect((await api.app.inject({ ...missing, query: { source: 'uploads/gone.mp4' } })).statusCode).toBe(
      404,
    );
  });

  it('delete removes the video, its thumbnails and failure record, and tells the dashboards', async () => {
    const source = 'uploads/old/clip one.mp4';
    await put(
      failureKey(source),
      JSON.stringify({ source, error: 'e', attempt: 1, worker: 'w', time: t(1) }),
    );
    const ws = new WsRecorder(api.url);
    await ws.opened;
    const response = await api.app.inject({
      method: 'DELETE',
      url: '/api/video',
      query: { source },
      headers: auth,
    });
    expect(response.statusCode).toBe(200);
    await ws.waitFor('removed', (m) => m.source === source);
    ws.socket.close();
    expect(await keysUnder('uploads/old/')).toEqual([]);
    expect(await keysUnder(`thumbnails/${source}`)).toEqual([]);
    expect(await keysUnder(failureKey(source))).toEqual([]);
    await waitFor(async () => (await detailOf(source)).statusCode === 404, 5000, 'the detail to be gone');
  });
});
