import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import type { DlqEntry } from '@thumbs/model';
import { LOCAL_DEPLOYMENT, renderDeploymentPolicies } from '@thumbs/iam';
import { ffmpegPath } from '@thumbs/runtime';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The local stack's resource setup: through the endpoint, with the S3 event notification the proxy delivers.
import { ensurePipelineResources } from '@thumbs/local/testing';
import {
  ADMIN_TOKEN,
  startApi,
  startEmulator,
  waitFor,
  WsRecorder,
  type LocalAws,
  type Resources,
} from './testing/harness.ts';

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, '../../..');
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

/** Every log line of the worker and the API during these tests. */
const logs: string[] = [];
const logStream = new Writable({
  write(chunk: Buffer, _encoding, done) {
    logs.push(chunk.toString());
    done();
  },
});

let dir: string;
let local: LocalAws;
/** The worker role's credentials, given to the worker process (and searched for in the logs). */
let workerCredentials: ReturnType<LocalAws['credentials']>;
let worker: ChildProcess;
let api: Awaited<ReturnType<typeof startApi>>;
let resources: Resources;

async function upload(filename: string, contentType: string, body: Buffer): Promise<string> {
  const response = await api.app.inject({
    method: 'POST',
    url: '/api/uploads',
    headers: auth,
    payload: { filename, contentType, size: body.length },
  });
  expect(response.statusCode).toBe(200);
  const presigned = response.json();
  const put = await fetch(presigned.url, {
    method: 'PUT',
    headers: presigned.headers,
    body: new Uint8Array(body),
  });
  expect(put.status).toBe(200);
  return presigned.key;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'api-pipeline-'));
  // In memory: fauxqs 2.4.1 with SQLite persistence loses a message whose visibility is changed, which would
  // keep failed videos from ever reaching the DLQ.
  local = await startEmulator();
  const deployment = LOCAL_DEPLOYMENT;
  const names = {
    bucket: deployment.bucketName,
    testSourceBucket: deployment.testSourceBucketName,
    queue: deployment.queueName,
    dlq: `${deployment.queueName}-dlq`,
    topic: deployment.eventsTopicName,
  };
  const { arns, queuePolicies, topicPolicies } = await renderDeploymentPolicies(deployment);
  // What Terraform does, as the deploy role.
  const created = await ensurePipelineResources(local.clients('deployer', deployment), {
    bucket: names.bucket,
    testSourceBucket: names.testSourceBucket,
    uploadPrefix: 'uploads/',
    queueName: names.queue,
    dlqName: names.dlq,
    topicName: names.topic,
    maxReceiveCount: 3,
    visibilityTimeoutSeconds: 30,
    queuePolicy: queuePolicies[arns.queue],
    topicPolicy: topicPolicies[arns.topic],
  });
  resources = {
    ...names,
    queueUrl: created.queueUrl,
    dlqUrl: created.dlqUrl,
    topicArn: created.topicArn,
    deployment,
  };
  workerCredentials = local.credentials('worker', deployment);
  worker = spawn(process.execPath, ['apps/worker/src/main.ts'], {
    cwd: repo,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      AWS_ENDPOINT_URL: local.endpoint,
      AWS_REGION: deployment.region,
      AWS_ACCESS_KEY_ID: workerCredentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: workerCredentials.secretAccessKey,
      AWS_SESSION_TOKEN: workerCredentials.sessionToken,
      S3_BUCKET: resources.bucket,
      SQS_QUEUE_URL: resources.queueUrl,
      SQS_DLQ_URL: resources.dlqUrl,
      EVENTS_TOPIC_ARN: resources.topicArn,
      WORKER_NAME: 'api-test-worker',
      WORKER_WAIT_SECONDS: '1',
      FAILURE_BACKOFF_SECONDS: '0',
      LOG_LEVEL: 'debug',
    },
  });
  worker.stdout?.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
  worker.stderr?.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
  api = await startApi(local, resources, {}, { logger: pino({ level: 'debug' }, logStream) });
});

afterAll(async () => {
  worker?.kill('SIGTERM');
  await api?.app.close();
  await local?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('upload to thumbnails, through a real worker', () => {
  it('shows a video uploaded through POST /api/uploads as three thumbnails, live on the WebSocket', async () => {
    const ws = new WsRecorder(api.url);
    await ws.waitFor('snapshot');
    const video = join(dir, 'clip.mp4');
    await run(ffmpegPath(), [
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=160x120:rate=10:duration=2',
      '-pix_fmt',
      'yuv420p',
      video,
    ]);
    const key = await upload('My Clip.mp4', 'video/mp4', await readFile(video));

    const update = await ws.waitFor(
      'thumbnails',
      (m) => m.added.filter((t) => t.source === key).length === 3,
      60_000,
    );
    expect(update.added.map((t) => t.frame).sort()).toEqual(['10%', '50%', '95%']);
    const job = await ws.waitFor('job', (m) => m.job.source === key && m.job.status === 'done');
    expect(job.job.worker).toBe('api-test-worker');
    expect(job.job.latencyMs).toBeGreaterThan(0);

    const page = (await api.app.inject(`/api/thumbnails?source=${encodeURIComponent(key)}`)).json();
    expect(page.items).toHaveLength(3);
    const jpeg = Buffer.from(await (await fetch(page.items[0].url)).arrayBuffer());
    expect(jpeg.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    const metrics = (await api.app.inject('/api/metrics')).json();
    expect(metrics).toMatchObject({ thumbnails: 3, videosDone: 1 });
    ws.close();
  });

  it('shows a video that cannot be decoded in the DLQ with the worker error, and redrives it', async () => {
    const key = await upload('broken.mp4', 'video/mp4', Buffer.from('this is not a video at all'));
    const entry = await waitFor(
      async () => ((await api.app.inject('/api/dlq')).json() as DlqEntry[]).find((d) => d.source === key),
      60_000,
      'the broken video in the DLQ',
    );
    expect(entry.error).toEqual(expect.any(String));
    expect(entry.error).not.toMatch(/X-Amz-|https?:\/\//);
    const job = (await api.app.inject('/api/jobs')).json().find((j: { source: string }) => j.source === key);
    // No retry can make text a video: the worker dead-letters it at its first attempt, with the kind.
    expect(job).toMatchObject({ status: 'failed', attempts: 1, errorKind: 'not-a-video' });
    expect(entry).toMatchObject({ receiveCount: 1, errorKind: 'not-a-video' });
    const redrive = await api.app.inject({ method: 'POST', url: '/api/dlq/redrive', headers: auth });
    expect(redrive.json().moved).toBeGreaterThanOrEqual(1);
  });

  it('logs no credentials and no presigned URL, in the worker or the API', () => {
    const text = logs.join('');
    expect(text).toContain('job done');
    expect(text).toContain('job failed');
    expect(text).toContain('/api/uploads');
    expect(text).not.toMatch(/X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token/i);
    const { accessKeyId, secretAccessKey, sessionToken } = workerCredentials;
    for (const secret of [accessKeyId, secretAccessKey, sessionToken, ADMIN_TOKEN])
      expect(text).not.toContain(secret);
  });
});
