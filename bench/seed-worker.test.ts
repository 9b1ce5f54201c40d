import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeTestClip } from '../apps/local/src/testing/clips.ts';
import { createPipeline, type Pipeline } from '../apps/worker/src/testing/emulator.ts';
import { startTestbed, type Testbed } from '../apps/worker/src/testing/testbed.ts';
import { seedMakeThumbnails } from './seed-worker.ts';

let testbed: Testbed;
let pipeline: Pipeline;

beforeAll(async () => {
  testbed = await startTestbed('bench-seed-');
  pipeline = createPipeline(testbed.local, 'seed');
});

afterAll(async () => {
  await testbed?.close();
});

it("the baseline makes the seed's three JPEGs from a full download and leaves no scratch files", async () => {
  const { bucket, deployment } = pipeline;
  // The upload and the checks are the operator's (deploy role); the seed's method runs as a worker would.
  const deployer = testbed.local.clients('deployer', deployment).s3;
  const clip = join(testbed.dir, 'clip.mp4');
  await makeTestClip(clip, { seconds: 2 });
  await deployer.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'uploads/clip.mp4', Body: await readFile(clip) }),
  );
  const work = join(testbed.dir, 'work');
  await mkdir(work);

  const keys = await seedMakeThumbnails(
    {
      s3: testbed.local.clients('worker', deployment).s3,
      bucket,
      thumbnailPrefix: 'thumbnails/',
      workDir: work,
    },
    'uploads/clip.mp4',
  );

  expect(keys).toEqual(['thumbnails/clip_1.jpg', 'thumbnails/clip_2.jpg', 'thumbnails/clip_3.jpg']);
  const listed = await deployer.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'thumbnails/' }));
  expect(listed.Contents?.map((o) => o.Key).sort()).toEqual(keys);
  const jpeg = await deployer.send(new GetObjectCommand({ Bucket: bucket, Key: keys[1] }));
  const bytes = await jpeg.Body?.transformToByteArray();
  expect([...(bytes ?? []).slice(0, 2)]).toEqual([0xff, 0xd8]);
  expect(await readdir(work)).toEqual([]);
});
