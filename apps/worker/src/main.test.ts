import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { type LocalAws, makeTestClip, type EmulatorControl } from '@thumbs/local/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createPipeline,
  publishedEvents,
  queueMessages,
  queueS3Event,
  waitFor,
  workerEnv,
  type Pipeline,
} from './testing/emulator.ts';
import { startTestbed, type Testbed } from './testing/testbed.ts';

const main = fileURLToPath(new URL('./main.ts', import.meta.url));
let testbed: Testbed;
let local: LocalAws;
let server: EmulatorControl;
let dir: string;
let slowClip: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  testbed = await startTestbed('worker-main-');
  ({ local, server, dir } = testbed);
  // Seeking near the end of one 12 s GOP at 720p decodes ~300 frames: long enough to be caught mid-job.
  slowClip = join(dir, 'slow.mp4');
  await makeTestClip(slowClip, { seconds: 12, size: '1280x720', fps: 25, extra: ['-g', '300'] });
});

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

afterAll(async () => {
  await testbed?.close();
});

interface Run {
  child: ChildProcess;
  output: () => string;
  exit: Promise<{ code: number | null; stderr: string; stdout: string }>;
}

function startMain(env: Record<string, string>): Run {
  const child = spawn(process.execPath, [main], {
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<{ code: number | null; stderr: string; stdout: string }>((resolve) =>
    child.on('exit', (code) => resolve({ code, stderr, stdout })),
  );
  return { child, output: () => stdout, exit };
}

async function queueSlowVideo(pipeline: Pipeline, key: string): Promise<void> {
  const body = await readFile(slowClip);
  const put = await local
    .clients('deployer', pipeline.deployment)
    .s3.send(new PutObjectCommand({ Bucket: pipeline.bucket, Key: key, Body: body }));
  queueS3Event(server, pipeline, { key, size: body.length, eTag: put.ETag ?? '' });
}

const started = (pipeline: Pipeline) => () =>
  Promise.resolve(publishedEvents(server, pipeline).some((event) => event.type === 'job.started'));

async function thumbnails(pipeline: Pipeline): Promise<number> {
  const result = await local
    .clients('deployer', pipeline.deployment)
    .s3.send(new ListObjectsV2Command({ Bucket: pipeline.bucket, Prefix: 'thumbnails/' }));
  return result.KeyCount ?? 0;
}

describe('worker process', () => {
  it('exits non-zero with a clear message on bad configuration', async () => {
    const { exit } = startMain({ WORKER_WAIT_SECONDS: 'soon', AWS_ENDPOINT_URL: 'not a url' });
    const { code, stderr } = await exit;
    expect(code).toBe(78);
    expect(stderr).toContain('WORKER_WAIT_SECONDS: expected an integer ≥ 0 and ≤ 20, got "soon"');
    expect(stderr).toContain('AWS_ENDPOINT_URL: expected an http(s) URL');
  });

  it('exits 0 on SIGTERM while idle, once the long poll in progress is over', async () => {
    const pipeline = createPipeline(local, randomUUID().slice(0, 8));
    const { child, output, exit } = startMain(workerEnv(local, pipeline, { WORKER_WAIT_SECONDS: '2' }));
    await waitFor(async () => output().includes('polling the work queue'));
    await new Promise((resolve) => setTimeout(resolve, 500));
    const signalled = Date.now();
    child.kill('SIGTERM');
    const { code, stdout } = await exit;
    expect(code).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(2000 + 2000);
    expect(stdout).toContain('worker stopped');
  });

  it('releases at once a message its last long poll receives after SIGTERM, so another worker gets it', async () => {
    const pipeline = createPipeline(local, randomUUID().slice(0, 8));
    const { child, output, exit } = startMain(workerEnv(local, pipeline, { WORKER_WAIT_SECONDS: '20' }));
    await waitFor(async () => output().includes('polling the work queue'));
    await new Promise((resolve) => setTimeout(resolve, 500));
    child.kill('SIGTERM');
    await waitFor(async () => output().includes('stopping'));
    const sent = Date.now();
    server.sendMessage(pipeline.queue, 'uploads/after-scale-in.mp4');
    // Another worker polls the same queue (the queue's visibility timeout is 30 s).
    const { sqs } = local.clients('worker', pipeline.deployment);
    let received;
    while (!received && Date.now() - sent < 20_000) {
      const result = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: pipeline.queueUrl,
          WaitTimeSeconds: 1,
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }),
      );
      received = result.Messages?.[0];
    }
    expect(received?.Body).toBe('uploads/after-scale-in.mp4');
    expect(Date.now() - sent).toBeLessThan(5000);
    // The stopped worker's poll had it first, and gave it back.
    expect(received?.Attributes?.ApproximateReceiveCount).toBe('2');
    const { code, stdout } = await exit;
    expect(code).toBe(0);
    expect(stdout).toContain('received while stopping; releasing the message');
  });

  it('finishes the current job on SIGTERM within the grace period, then exits 0', async () => {
    const pipeline = createPipeline(local, randomUUID().slice(0, 8));
    await queueSlowVideo(pipeline, 'uploads/finish.mp4');
    const { child, exit } = startMain(workerEnv(local, pipeline, { WORKER_SHUTDOWN_GRACE_MS: '60000' }));
    await waitFor(started(pipeline));
    child.kill('SIGTERM');
    expect((await exit).code).toBe(0);
    expect(await thumbnails(pipeline)).toBe(3);
    expect(queueMessages(server, pipeline.queue)).toEqual([]);
  });

  it('releases the current job at once when the grace period is over, then exits 0', async () => {
    const pipeline = createPipeline(local, randomUUID().slice(0, 8));
    await queueSlowVideo(pipeline, 'uploads/release.mp4');
    const { child, exit } = startMain(workerEnv(local, pipeline, { WORKER_SHUTDOWN_GRACE_MS: '0' }));
    await waitFor(started(pipeline));
    child.kill('SIGTERM');
    expect((await exit).code).toBe(0);
    expect(await thumbnails(pipeline)).toBe(0);
    // Released with a visibility timeout of 0, which the local endpoint makes 1 s (an emulator bug's
    // workaround, apps/local/src/sqs-visibility.ts): due back within a second, not after 30.
    expect(queueMessages(server, pipeline.queue).map((m) => m.approximateReceiveCount)).toEqual([1]);
    const inflight = server.inspectQueue(pipeline.queue)?.messages.inflight ?? [];
    for (const entry of inflight) expect(entry.visibilityDeadline).toBeLessThanOrEqual(Date.now() + 1000);
    // The release is said like any failure, with its reason, but not as the last attempt.
    expect(
      publishedEvents(server, pipeline).map((e) =>
        e.type === 'job.failed' ? `${e.type}:${e.kind}:${e.final}` : e.type,
      ),
    ).toEqual(['job.started', 'job.failed:interrupted:false']);
  });
});
