import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import {
  type LocalAws,
  makeAudioOnly,
  makeNumberedClip,
  makeTestClip,
  type EmulatorControl,
} from '@thumbs/local/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  buildS3Event,
  buildS3TestEvent,
  failureKey,
  readVideoInfoMetadata,
  thumbnailKeys,
  type FailureRecord,
} from '@thumbs/model';
import { loadWorkerConfig } from './config.ts';
import type { Consumer } from './consumer.ts';
import {
  createPipeline,
  publishedEvents,
  queueMessages,
  queueS3Event,
  REGION,
  waitFor,
  workerEnv,
  type Pipeline,
} from './testing/emulator.ts';
import { startTestbed, testLog, type Testbed } from './testing/testbed.ts';
import { createWorker } from './worker.ts';

let testbed: Testbed;
let local: LocalAws;
let server: EmulatorControl;
let dir: string;
const workers: Consumer[] = [];
const log = testLog();

beforeAll(async () => {
  testbed = await startTestbed('worker-test-');
  ({ local, server, dir } = testbed);
});

afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.stop(0)));
});

afterAll(async () => {
  await testbed?.close();
});

function newPipeline(): Pipeline {
  return createPipeline(local, randomUUID().slice(0, 8));
}

/** The test's own S3 actions (uploading videos, looking at results), as the deploy role. */
const deployer = (pipeline: Pipeline) => local.clients('deployer', pipeline.deployment).s3;

/** A worker of the pipeline, with the worker role's credentials for it. */
function startWorker(pipeline: Pipeline, extra: Record<string, string> = {}): void {
  const config = loadWorkerConfig(workerEnv(local, pipeline, extra));
  const worker = createWorker(config, local.clients('worker', pipeline.deployment), log);
  workers.push(worker);
  void worker.run();
}

/** Puts a file into S3 and queues the S3 event notification AWS would send for it. */
async function upload(pipeline: Pipeline, key: string, file: string): Promise<void> {
  const body = await readFile(file);
  const put = await deployer(pipeline).send(
    new PutObjectCommand({ Bucket: pipeline.bucket, Key: key, Body: body }),
  );
  queueS3Event(server, pipeline, { key, size: body.length, eTag: put.ETag ?? '' });
}

async function listKeys(pipeline: Pipeline, prefix: string): Promise<string[]> {
  const result = await deployer(pipeline).send(
    new ListObjectsV2Command({ Bucket: pipeline.bucket, Prefix: prefix }),
  );
  return (result.Contents ?? []).map((object) => object.Key ?? '').sort();
}

async function clip(name: string, make: (path: string) => Promise<void>): Promise<string> {
  const path = join(dir, name);
  await make(path);
  return path;
}

const doneSources = (pipeline: Pipeline) =>
  publishedEvents(server, pipeline).flatMap((event) => (event.type === 'job.done' ? [event.source] : []));

describe('worker', () => {
  it('stores three thumbnails per video under keys that never collide, then deletes the message', async () => {
    const pipeline = newPipeline();
    const mp4 = await clip('clip.mp4', (path) => makeNumberedClip(path, { seconds: 2 }));
    const mov = await clip('clip.mov', (path) => makeTestClip(path));
    const odd = 'uploads/My Holiday + Café 日本 (1).mp4';
    await upload(pipeline, 'uploads/clip.mp4', mp4);
    await upload(pipeline, 'uploads/clip.mov', mov);
    await upload(pipeline, odd, mp4);
    startWorker(pipeline);

    await waitFor(async () => doneSources(pipeline).length === 3);
    const expected = ['uploads/clip.mp4', 'uploads/clip.mov', odd]
      .flatMap((key) => thumbnailKeys(key))
      .sort();
    expect(await listKeys(pipeline, 'thumbnails/')).toEqual(expected);
    expect(new Set(expected).size).toBe(9);
    await waitFor(async () => queueMessages(server, pipeline.queue).length === 0);

    const head = await deployer(pipeline).send(
      new HeadObjectCommand({ Bucket: pipeline.bucket, Key: thumbnailKeys(odd)[1] }),
    );
    expect(head.ContentType).toBe('image/jpeg');
    expect(decodeURIComponent(head.Metadata?.source ?? '')).toBe(odd);
    expect(head.Metadata?.frame).toBe('50%');
    const images = await Promise.all(
      thumbnailKeys('uploads/clip.mov').map(async (key) => {
        const object = await deployer(pipeline).send(
          new GetObjectCommand({ Bucket: pipeline.bucket, Key: key }),
        );
        return Buffer.from(await object.Body!.transformToByteArray()).toString('base64');
      }),
    );
    expect(new Set(images).size).toBe(3);

    const events = publishedEvents(server, pipeline).filter(
      (event) => 'source' in event && event.source === odd,
    );
    expect(events.map((event) => (event.type === 'job.stage' ? event.stage : event.type))).toEqual([
      'job.started',
      'extracting',
      'storing',
      'job.done',
    ]);
    const done = events[3];
    expect(done?.type === 'job.done' && done.thumbnails.map((t) => [t.key, t.frame])).toEqual([
      [thumbnailKeys(odd)[0], '10%'],
      [thumbnailKeys(odd)[1], '50%'],
      [thumbnailKeys(odd)[2], '95%'],
    ]);
    expect(done?.type === 'job.done' && done.thumbnails.every((t) => t.size > 0)).toBe(true);
    expect(done?.type === 'job.done' && done.uploadedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    const started = events[0];
    expect(started?.type === 'job.started' && started.receivedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    // The probe's findings travel with the event and stay on every thumbnail.
    const size = (await readFile(mp4)).length;
    const video = { width: 320, height: 240, rotation: 0, codec: 'h264', size };
    expect(done?.type === 'job.done' && done.video).toMatchObject(video);
    expect(done?.type === 'job.done' && done.video?.durationSeconds).toBeCloseTo(2, 1);
    expect(done?.type === 'job.done' && done.sourceRead?.bytes).toBeGreaterThan(0);
    expect(readVideoInfoMetadata(head.Metadata)).toEqual({
      video: done?.type === 'job.done' && done.video,
      sourceRead: done?.type === 'job.done' && done.sourceRead,
    });
  });

  it('gives the same three keys when a message is delivered twice, without redoing the work', async () => {
    const pipeline = newPipeline();
    const mp4 = await clip('twice.mp4', (path) => makeNumberedClip(path, { seconds: 1 }));
    await upload(pipeline, 'uploads/twice.mp4', mp4);
    startWorker(pipeline);
    await waitFor(async () => doneSources(pipeline).length === 1);
    const first = await deployer(pipeline).send(
      new HeadObjectCommand({ Bucket: pipeline.bucket, Key: thumbnailKeys('uploads/twice.mp4')[0] }),
    );

    await upload(pipeline, 'uploads/twice.mp4', mp4);
    await waitFor(async () => doneSources(pipeline).length === 2);
    const [firstDone, secondDone] = publishedEvents(server, pipeline).filter((e) => e.type === 'job.done');
    expect(secondDone?.type === 'job.done' && secondDone.video).toEqual(
      firstDone?.type === 'job.done' && firstDone.video,
    );
    expect(await listKeys(pipeline, 'thumbnails/')).toEqual(thumbnailKeys('uploads/twice.mp4').sort());
    const second = await deployer(pipeline).send(
      new HeadObjectCommand({ Bucket: pipeline.bucket, Key: thumbnailKeys('uploads/twice.mp4')[0] }),
    );
    expect(second.LastModified).toEqual(first.LastModified);
  });

  it('moves files no retry can fix to the DLQ at their first attempt, with kind and message, while good ones flow', async () => {
    const pipeline = newPipeline();
    const corrupt = join(dir, 'corrupt.mp4');
    await writeFile(corrupt, Buffer.from('definitely not a video '.repeat(200)));
    const audio = await clip('audio.m4a', makeAudioOnly);
    const good = await clip('good.mp4', (path) => makeNumberedClip(path, { seconds: 1 }));
    await upload(pipeline, 'uploads/corrupt.mp4', corrupt);
    await upload(pipeline, 'uploads/audio-only.mp4', audio);
    await upload(pipeline, 'uploads/good.mp4', good);
    startWorker(pipeline);

    await waitFor(async () => queueMessages(server, pipeline.dlq).length === 2);
    await waitFor(async () => queueMessages(server, pipeline.queue).length === 0);
    expect(doneSources(pipeline)).toEqual(['uploads/good.mp4']);
    const dead = queueMessages(server, pipeline.dlq).map((m) => JSON.parse(m.body).Records[0].s3.object.key);
    expect(dead.sort()).toEqual(['uploads/audio-only.mp4', 'uploads/corrupt.mp4']);

    const failed = publishedEvents(server, pipeline).flatMap((e) => (e.type === 'job.failed' ? [e] : []));
    const audioFailures = failed.filter((e) => e.source === 'uploads/audio-only.mp4');
    expect(audioFailures.map((e) => [e.attempt, e.final, e.kind])).toEqual([[1, true, 'no-video-stream']]);
    expect(audioFailures[0]?.error).toBe('no video stream in uploads/audio-only.mp4');
    const corruptFailure = failed.find((e) => e.source === 'uploads/corrupt.mp4');
    expect(corruptFailure?.error).toMatch(/^ffprobe could not read uploads\/corrupt\.mp4: /);
    expect(corruptFailure).toMatchObject({ attempt: 1, final: true, kind: 'not-a-video' });
    expect(corruptFailure?.error).not.toContain('X-Amz-Signature');

    const record = await deployer(pipeline).send(
      new GetObjectCommand({ Bucket: pipeline.bucket, Key: failureKey('uploads/audio-only.mp4') }),
    );
    const failure = JSON.parse(await record.Body!.transformToString()) as FailureRecord;
    expect(failure).toMatchObject({
      source: 'uploads/audio-only.mp4',
      kind: 'no-video-stream',
      error: 'no video stream in uploads/audio-only.mp4',
      attempt: 1,
      worker: 'test-worker',
    });
    expect(await listKeys(pipeline, 'thumbnails/')).toEqual(thumbnailKeys('uploads/good.mp4').sort());
  });

  it('keeps the message when the thumbnails cannot all be stored', async () => {
    const pipeline = newPipeline();
    const mp4 = await clip('unstored.mp4', (path) => makeNumberedClip(path, { seconds: 1 }));
    await upload(pipeline, 'uploads/unstored.mp4', mp4);
    // Thumbnails go under a prefix the worker's role may read (so their absence is known) but not write.
    startWorker(pipeline, { S3_THUMBNAIL_PREFIX: 'uploads/thumbnails/', FAILURE_BACKOFF_SECONDS: '30' });

    const failure = await waitFor(async () =>
      publishedEvents(server, pipeline).find((event) => event.type === 'job.failed'),
    );
    expect(failure.type === 'job.failed' && failure.error).toMatch(
      /^could not upload uploads\/thumbnails\/uploads\/unstored\.mp4\/.* AccessDenied: /,
    );
    expect(failure.type === 'job.failed' && failure.final).toBe(false);
    // The probe got that far: the failure says what the video is.
    expect(failure.type === 'job.failed' && failure.video).toMatchObject({ codec: 'h264', rotation: 0 });
    const inflight = server.inspectQueue(pipeline.queue)?.messages.inflight ?? [];
    expect(inflight.map((entry) => entry.message.approximateReceiveCount)).toEqual([1]);
    // Backed off, not waiting out the whole visibility timeout.
    expect(inflight[0]!.visibilityDeadline - Date.now()).toBeGreaterThan(20_000);
    expect(await listKeys(pipeline, 'uploads/thumbnails/')).toEqual([]);
  });

  it('deletes S3 test events and unreadable messages, and reads plain keys and SNS envelopes', async () => {
    const pipeline = newPipeline();
    const mp4 = await clip('plain.mp4', (path) => makeNumberedClip(path, { seconds: 1 }));
    await deployer(pipeline).send(
      new PutObjectCommand({ Bucket: pipeline.bucket, Key: 'uploads/plain.mp4', Body: await readFile(mp4) }),
    );
    await deployer(pipeline).send(
      new PutObjectCommand({
        Bucket: pipeline.bucket,
        Key: 'uploads/wrapped.mp4',
        Body: await readFile(mp4),
      }),
    );
    server.sendMessage(pipeline.queue, buildS3TestEvent(pipeline.bucket));
    server.sendMessage(pipeline.queue, '{"not": "an event"');
    server.sendMessage(pipeline.queue, 'uploads/plain.mp4');
    const wrapped = buildS3Event({
      bucket: pipeline.bucket,
      key: 'uploads/wrapped.mp4',
      size: 1,
      eTag: 'x',
      eventName: 'ObjectCreated:Put',
      region: REGION,
    });
    server.sendMessage(pipeline.queue, JSON.stringify({ Type: 'Notification', Message: wrapped }));
    server.sendMessage(pipeline.queue, 'uploads/deleted-before-processing.mp4');
    startWorker(pipeline);

    await waitFor(async () => queueMessages(server, pipeline.queue).length === 0);
    expect(queueMessages(server, pipeline.dlq)).toEqual([]);
    expect(doneSources(pipeline).sort()).toEqual(['uploads/plain.mp4', 'uploads/wrapped.mp4']);
    const gone = publishedEvents(server, pipeline).find(
      (e) => 'source' in e && e.source === 'uploads/deleted-before-processing.mp4',
    );
    expect(gone).toMatchObject({ type: 'job.failed', final: true });
  });
});

describe('a source overwritten while it is processed', () => {
  /** A worker whose S3 calls run `hook` once, after the first call that `when` picks. */
  function startHookedWorker(
    pipeline: Pipeline,
    when: (command: object) => boolean,
    hook: () => Promise<void>,
  ): void {
    const clients = local.clients('worker', pipeline.deployment);
    const s3 = clients.s3 as unknown as { send: (command: object) => Promise<unknown> };
    const send = s3.send.bind(s3);
    let fired = false;
    s3.send = async (command) => {
      const result = await send(command);
      if (!fired && when(command)) {
        fired = true;
        await hook();
      }
      return result;
    };
    const worker = createWorker(loadWorkerConfig(workerEnv(local, pipeline)), clients, log);
    workers.push(worker);
    void worker.run();
  }

  const isCommand = (command: object, name: string, key: string): boolean =>
    command.constructor.name === name &&
    !!(command as { input?: { Key?: string } }).input?.Key?.startsWith(key);

  async function thumbnailVersions(pipeline: Pipeline, source: string): Promise<(string | undefined)[]> {
    return Promise.all(
      thumbnailKeys(source).map(async (key) => {
        const head = await deployer(pipeline).send(
          new HeadObjectCommand({ Bucket: pipeline.bucket, Key: key }),
        );
        return head.Metadata?.['source-etag'];
      }),
    );
  }

  async function overwrite(pipeline: Pipeline, key: string, file: string): Promise<string> {
    const put = await deployer(pipeline).send(
      new PutObjectCommand({ Bucket: pipeline.bucket, Key: key, Body: await readFile(file) }),
    );
    return (put.ETag ?? '').replace(/"/g, '');
  }

  it('reads one version only, and leaves the thumbnails to the new version when it changes mid-read', async () => {
    const pipeline = newPipeline();
    const before = await clip('v1.mp4', (path) => makeNumberedClip(path, { seconds: 1 }));
    const after = await clip('v2.mp4', (path) => makeNumberedClip(path, { seconds: 2 }));
    await upload(pipeline, 'uploads/changing.mp4', before);
    let newETag = '';
    // Overwritten right after the worker HEADs the first version: every read of it then meets the second.
    startHookedWorker(
      pipeline,
      (command) => isCommand(command, 'HeadObjectCommand', 'uploads/changing.mp4'),
      async () => {
        newETag = await overwrite(pipeline, 'uploads/changing.mp4', after);
        queueS3Event(server, pipeline, { key: 'uploads/changing.mp4', size: 1, eTag: newETag });
      },
    );
    await waitFor(async () => doneSources(pipeline).length === 1);
    await waitFor(async () => queueMessages(server, pipeline.queue).length === 0);
    expect(await thumbnailVersions(pipeline, 'uploads/changing.mp4')).toEqual([newETag, newETag, newETag]);
    // Only the new version's job finished: the old one stopped at its first read of the new bytes.
    expect(doneSources(pipeline)).toEqual(['uploads/changing.mp4']);
    expect(queueMessages(server, pipeline.dlq)).toEqual([]);
    expect(publishedEvents(server, pipeline).filter((e) => e.type === 'job.failed')).toEqual([]);
  });

  it('retries at once when it changed after the old thumbnails were stored, so none of them remain', async () => {
    const pipeline = newPipeline();
    const before = await clip('w1.mp4', (path) => makeNumberedClip(path, { seconds: 1 }));
    const after = await clip('w2.mp4', (path) => makeNumberedClip(path, { seconds: 2 }));
    await upload(pipeline, 'uploads/late.mp4', before);
    let newETag = '';
    // The new version's own message is not even needed: the old one's retry makes its thumbnails.
    startHookedWorker(
      pipeline,
      (command) => isCommand(command, 'PutObjectCommand', 'thumbnails/'),
      async () => {
        newETag = await overwrite(pipeline, 'uploads/late.mp4', after);
      },
    );
    await waitFor(async () => doneSources(pipeline).length === 1);
    await waitFor(async () => queueMessages(server, pipeline.queue).length === 0);
    expect(await thumbnailVersions(pipeline, 'uploads/late.mp4')).toEqual([newETag, newETag, newETag]);
    const started = publishedEvents(server, pipeline).filter((e) => e.type === 'job.started');
    expect(started.map((e) => e.type === 'job.started' && e.attempt)).toEqual([1, 2]);
  });
});
