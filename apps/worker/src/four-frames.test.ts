/**
 * Adding a frame position is a change to FRAMES alone: with a fourth position in a test-only frame table,
 * the worker stores four thumbnails, the key scheme reads them back, and the dashboard's message check
 * accepts the new label (and still refuses one that is not in the table).
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { makeTestClip } from '@thumbs/local/testing';
import { conforms, parseThumbnailKey, ServerMessageSchema, type PipelineEvent } from '@thumbs/model';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { loadWorkerConfig } from './config.ts';
import type { Consumer } from './consumer.ts';
import {
  createPipeline,
  publishedEvents,
  queueS3Event,
  waitFor,
  workerEnv,
  type Pipeline,
} from './testing/emulator.ts';
import { startTestbed, testLog, type Testbed } from './testing/testbed.ts';
import { createWorker } from './worker.ts';

vi.mock('@thumbs/model/frames', () => {
  const FRAMES = [
    { label: '10%', fraction: 0.1, slug: '10' },
    { label: '25%', fraction: 0.25, slug: '25' },
    { label: '50%', fraction: 0.5, slug: '50' },
    { label: '95%', fraction: 0.95, slug: '95' },
  ];
  return {
    FRAMES,
    FRAME_LABELS: FRAMES.map((f) => f.label),
    frameBySlug: (slug: string) => FRAMES.find((f) => f.slug === slug),
    frameByLabel: (label: string) => FRAMES.find((f) => f.label === label),
  };
});

let testbed: Testbed;
let pipeline: Pipeline;
let worker: Consumer;

beforeAll(async () => {
  testbed = await startTestbed('four-frames-test-');
  pipeline = createPipeline(testbed.local, randomUUID().slice(0, 8));
  const config = loadWorkerConfig(workerEnv(testbed.local, pipeline));
  worker = createWorker(config, testbed.local.clients('worker', pipeline.deployment), testLog());
  void worker.run();
});

afterAll(async () => {
  await worker?.stop(0);
  await testbed?.close();
});

it('makes, names and announces one thumbnail per FRAMES entry, and the dashboard accepts the new label', async () => {
  const path = join(testbed.dir, 'clip.mp4');
  await makeTestClip(path);
  const clip = await readFile(path);
  const source = 'uploads/four.mp4';
  const s3 = testbed.local.clients('deployer', pipeline.deployment).s3;
  const put = await s3.send(new PutObjectCommand({ Bucket: pipeline.bucket, Key: source, Body: clip }));
  queueS3Event(testbed.server, pipeline, { key: source, size: clip.length, eTag: put.ETag ?? '' });

  let done: Extract<PipelineEvent, { type: 'job.done' }> | undefined;
  await waitFor(async () => {
    done = publishedEvents(testbed.server, pipeline).find(
      (e): e is Extract<PipelineEvent, { type: 'job.done' }> => e.type === 'job.done' && e.source === source,
    );
    return done !== undefined;
  });
  expect(done!.thumbnails.map((t) => t.frame)).toEqual(['10%', '25%', '50%', '95%']);

  const listed = await s3.send(
    new ListObjectsV2Command({ Bucket: pipeline.bucket, Prefix: `thumbnails/${source}/` }),
  );
  const keys = (listed.Contents ?? []).map((o) => o.Key ?? '').sort();
  expect(keys).toEqual(['10', '25', '50', '95'].map((slug) => `thumbnails/${source}/${slug}.jpg`));
  expect(keys.map((key) => parseThumbnailKey(key)?.frame)).toEqual(['10%', '25%', '50%', '95%']);

  const thumbnail = (frame: string) => ({
    key: `thumbnails/${source}/x.jpg`,
    url: 'http://localhost/x.jpg',
    frame,
    source,
    lastModified: new Date().toISOString(),
    size: 1,
  });
  const update = (frame: string) => ({ type: 'thumbnails', added: [thumbnail(frame)], removed: [] });
  expect(conforms(ServerMessageSchema, update('25%'))).toBe(true);
  expect(conforms(ServerMessageSchema, update('30%'))).toBe(false);
});
