import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DeleteObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildS3Event, thumbnailKeys } from '@thumbs/model';
import { loadWorkerConfig } from './config.ts';
import type { Consumer } from './consumer.ts';
import { makeTestClip } from '@thumbs/local/testing';
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
let pipeline: Pipeline;
let worker: Consumer;
let clip: Buffer;

beforeAll(async () => {
  testbed = await startTestbed('remove-video-test-');
  pipeline = createPipeline(testbed.local, randomUUID().slice(0, 8));
  const config = loadWorkerConfig(workerEnv(testbed.local, pipeline));
  worker = createWorker(config, testbed.local.clients('worker', pipeline.deployment), testLog());
  void worker.run();
  const path = join(testbed.dir, 'clip.mp4');
  await makeTestClip(path);
  clip = await readFile(path);
});

afterAll(async () => {
  await worker?.stop(0);
  await testbed?.close();
});

const s3 = () => testbed.local.clients('deployer', pipeline.deployment).s3;

async function thumbnailsOf(source: string): Promise<string[]> {
  const listed = await s3().send(
    new ListObjectsV2Command({ Bucket: pipeline.bucket, Prefix: `thumbnails/${source}/` }),
  );
  return (listed.Contents ?? []).map((o) => o.Key ?? '').sort();
}

async function processed(source: string): Promise<void> {
  const put = await s3().send(new PutObjectCommand({ Bucket: pipeline.bucket, Key: source, Body: clip }));
  queueS3Event(testbed.server, pipeline, { key: source, size: clip.length, eTag: put.ETag ?? '' });
  await waitFor(async () => (await thumbnailsOf(source)).length === thumbnailKeys(source).length);
}

function queueRemoval(source: string): void {
  testbed.server.sendMessage(
    pipeline.queue,
    buildS3Event({ bucket: pipeline.bucket, key: source, eventName: 'ObjectRemoved:Delete', region: REGION }),
  );
}

const removedEvents = (source: string) =>
  publishedEvents(testbed.server, pipeline).filter((e) => e.type === 'video.removed' && e.source === source);

it("removes a deleted video's thumbnails and tells the dashboards, once per event", async () => {
  const source = 'uploads/deleted later.mp4';
  await processed(source);
  await s3().send(new DeleteObjectCommand({ Bucket: pipeline.bucket, Key: source }));
  queueRemoval(source);
  await waitFor(async () => removedEvents(source).length === 1);
  expect(await thumbnailsOf(source)).toEqual([]);
  // At least once: the same event again finds nothing left to remove, and says so again harmlessly.
  queueRemoval(source);
  await waitFor(async () => removedEvents(source).length === 2);
  await waitFor(async () => queueMessages(testbed.server, pipeline.queue).length === 0);
});

it('keeps the thumbnails when the video was uploaded again before its removal event arrived', async () => {
  const source = 'uploads/replaced.mp4';
  await processed(source);
  queueRemoval(source);
  await waitFor(async () => queueMessages(testbed.server, pipeline.queue).length === 0);
  expect(await thumbnailsOf(source)).toEqual([...thumbnailKeys(source)].sort());
  expect(removedEvents(source)).toEqual([]);
});
