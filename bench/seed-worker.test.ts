import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FauxqsServer } from 'fauxqs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { AwsClients } from '@thumbs/runtime';
import { makeTestClip } from '../apps/worker/src/testing/clips.ts';
import { startEmulator } from '../apps/worker/src/testing/emulator.ts';
import { seedMakeThumbnails } from './seed-worker.ts';

let server: FauxqsServer;
let clients: AwsClients;
let dir: string;

beforeAll(async () => {
  ({ server, clients } = await startEmulator());
  dir = await mkdtemp(join(tmpdir(), 'bench-seed-'));
});

afterAll(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

it("the baseline makes the seed's three JPEGs from a full download and leaves no scratch files", async () => {
  server.createBucket('bench');
  const clip = join(dir, 'clip.mp4');
  await makeTestClip(clip, { seconds: 2 });
  await clients.s3.send(
    new PutObjectCommand({ Bucket: 'bench', Key: 'uploads/clip.mp4', Body: await readFile(clip) }),
  );
  const work = join(dir, 'work');
  await mkdir(work);

  const keys = await seedMakeThumbnails(
    { s3: clients.s3, bucket: 'bench', thumbnailPrefix: 'thumbnails/', workDir: work },
    'uploads/clip.mp4',
  );

  expect(keys).toEqual(['thumbnails/clip_1.jpg', 'thumbnails/clip_2.jpg', 'thumbnails/clip_3.jpg']);
  const listed = await clients.s3.send(new ListObjectsV2Command({ Bucket: 'bench', Prefix: 'thumbnails/' }));
  expect(listed.Contents?.map((o) => o.Key).sort()).toEqual(keys);
  const jpeg = await clients.s3.send(new GetObjectCommand({ Bucket: 'bench', Key: keys[1] }));
  const bytes = await jpeg.Body?.transformToByteArray();
  expect([...(bytes ?? []).slice(0, 2)]).toEqual([0xff, 0xd8]);
  expect(await readdir(work)).toEqual([]);
});
