/**
 * A worker killed in the middle of a job (kill -9), or asked to stop (SIGTERM: scale-in, rolling update),
 * never costs a video and never leaves half-written output.
 */
import { GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { failureKey, thumbnailKeys } from '@thumbs/model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PodChange } from '../pods.ts';
import {
  BUCKET,
  listKeys,
  queueDepth,
  slowProbe,
  startFaultStack,
  testClip,
  testDir,
  until,
  upload,
  workerPids,
  type FaultStack,
} from './harness.ts';

const VISIBILITY_SECONDS = 5;
const GRACE_MS = 5000;

describe('worker faults', () => {
  let env: FaultStack;
  let clip: Buffer;
  const terminations: { name: string; exitCode: number; phase: string; type: PodChange['type'] }[] = [];

  beforeAll(async () => {
    const { dir, dataDir } = testDir('faults-worker-');
    clip = await testClip(dir);
    env = await startFaultStack({
      dataDir,
      maxWorkers: 1,
      visibilityTimeoutSeconds: VISIBILITY_SECONDS,
      childEnv: { ...slowProbe(dir, 3, 20), WORKER_SHUTDOWN_GRACE_MS: String(GRACE_MS) },
    });
    env.stack.registry.on('change', ({ type, pod }) => {
      const state = pod.container.state;
      if ('terminated' in state)
        terminations.push({ name: pod.name, exitCode: state.terminated.exitCode, phase: pod.phase, type });
    });
  });

  afterAll(async () => {
    await env?.close();
  });

  /** Waits for the job of `source` to start and returns the worker running it. */
  async function jobStarted(source: string, attempt: number) {
    const started = await until(
      `job.started of ${source} (attempt ${attempt})`,
      () => env.events.of('job.started', source),
      (list) => list.length >= attempt,
      60_000,
    );
    const event = started[attempt - 1]!;
    const worker = workerPids(env.stack).find((w) => 'worker' in event && w.name === event.worker);
    if (!worker) throw new Error(`no running worker named ${JSON.stringify(event)}`);
    return { event, time: Date.now(), ...worker };
  }

  async function jobDone(source: string) {
    return until(
      `job.done of ${source}`,
      () => env.events.of('job.done', source),
      (list) => list.length > 0,
      90_000,
    );
  }

  async function queueEmpty() {
    await until(
      'an empty work queue',
      () => queueDepth(env.aws.sqs, env.stack.resources.queueUrl),
      (d) => d.visible + d.inFlight === 0,
      30_000,
    );
  }

  /** Exactly three whole JPEGs made from this version of the source, and nothing else for it. */
  async function expectOneSetOfThumbnails(source: string): Promise<void> {
    const keys = await listKeys(env.aws.s3, `thumbnails/${source}/`);
    expect(keys.sort()).toEqual(thumbnailKeys(source));
    const sourceTag = (await env.aws.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: source }))).ETag;
    for (const key of keys) {
      const object = await env.aws.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      const bytes = Buffer.from(await object.Body!.transformToByteArray());
      expect(bytes.subarray(0, 2).toString('hex')).toBe('ffd8');
      expect(bytes.subarray(-2).toString('hex')).toBe('ffd9');
      expect(object.Metadata?.['source-etag']).toBe(sourceTag?.replace(/"/g, ''));
    }
  }

  it('kill -9 mid-job: the message returns after its visibility timeout and the video gets one set of thumbnails', async () => {
    const source = 'uploads/slow crash.mp4';
    await upload(env.aws.s3, source, clip);
    const first = await jobStarted(source, 1);
    process.kill(first.pid, 'SIGKILL');

    await until(
      'the killed worker recorded as Failed with exit code 137',
      () => terminations,
      (list) => list.some((t) => t.name === first.name && t.exitCode === 137 && t.phase === 'Failed'),
      20_000,
    );
    const second = await jobStarted(source, 2);
    expect(second.event).toMatchObject({ attempt: 2 });
    // Invisible until the last extension's timeout runs out: at least two thirds of it after the kill.
    expect(second.time - first.time).toBeGreaterThanOrEqual(((VISIBILITY_SECONDS * 2) / 3) * 1000 - 500);
    await jobDone(source);
    await queueEmpty();

    expect(env.events.of('job.done', source)).toHaveLength(1);
    await expectOneSetOfThumbnails(source);
    expect(await listKeys(env.aws.s3, 'failures/')).toEqual([]);
    expect(await listKeys(env.aws.s3, '')).toEqual([...thumbnailKeys(source), source].sort());
    const multipart = await env.aws.s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
    expect(multipart.Uploads ?? []).toEqual([]);
  }, 150_000);

  /** Sends SIGTERM and waits until the worker has exited on its own with code 0. */
  async function terminate(worker: { name: string; pid: number }) {
    const succeeded = () => terminations.filter((t) => t.name === worker.name && t.phase === 'Succeeded');
    const before = succeeded().length;
    process.kill(worker.pid, 'SIGTERM');
    const exits = await until(
      `${worker.name} recorded as Succeeded`,
      succeeded,
      (list) => list.length > before,
      GRACE_MS + 15_000,
    );
    return exits.at(-1)!;
  }

  it('SIGTERM mid-job: the worker finishes the job within the grace period and exits 0', async () => {
    const source = 'uploads/slow term.mp4';
    await upload(env.aws.s3, source, clip);
    const started = await jobStarted(source, 1);
    const exit = await terminate(started);

    expect(exit.exitCode).toBe(0);
    const [done] = await jobDone(source);
    expect(done).toMatchObject({ worker: started.name, attempt: 1 });
    await queueEmpty();
    expect(env.events.of('job.started', source)).toHaveLength(1);
    await expectOneSetOfThumbnails(source);
  }, 150_000);

  it('SIGTERM with a job longer than the grace period: the job is released, the worker exits 0', async () => {
    const source = 'uploads/slower release.mp4';
    await upload(env.aws.s3, source, clip);
    const started = await jobStarted(source, 1);
    const exit = await terminate(started);

    expect(exit.exitCode).toBe(0);
    expect(readFileSync(join(env.stack.logDir, `${started.name}.log`), 'utf8')).toContain(
      'job interrupted by shutdown; releasing the message',
    );
    expect((await jobStarted(source, 2)).event).toMatchObject({ attempt: 2 });
    await jobDone(source);
    await queueEmpty();
    expect(env.events.of('job.done', source)).toHaveLength(1);
    // The interruption is said like any other failure (a job interrupted at every attempt reaches the DLQ
    // with its reason), and the success after it clears the record.
    expect(env.events.of('job.failed', source)).toMatchObject([
      { kind: 'interrupted', attempt: 1, final: false },
    ]);
    expect(await listKeys(env.aws.s3, 'failures/')).not.toContain(failureKey(source));
    await expectOneSetOfThumbnails(source);
  }, 150_000);
});
