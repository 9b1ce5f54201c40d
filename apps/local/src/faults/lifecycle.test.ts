/**
 * A video's life beyond its upload, on the real local stack with the API: a deleted video takes its
 * thumbnails with it within seconds; a purge in the middle of a burst leaves nothing behind once the work
 * drains; and a video uploaded while the bucket notification was off is found and processed by the backfill.
 */
import { DeleteObjectCommand, PutBucketNotificationConfigurationCommand } from '@aws-sdk/client-s3';
import { thumbnailKeys, type PipelineState } from '@thumbs/model';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  BUCKET,
  listKeys,
  queueDepth,
  startFaultStack,
  testClip,
  testDir,
  until,
  upload,
  type FaultStack,
} from './harness.ts';

let env: FaultStack;
let clip: Buffer;

beforeAll(async () => {
  const { dir, dataDir } = testDir('faults-lifecycle-');
  clip = await testClip(dir);
  env = await startFaultStack({
    dataDir,
    startApi: true,
    childEnv: { BACKFILL_INTERVAL_SECONDS: '2', BACKFILL_GRACE_SECONDS: '1', BACKFILL_PAGE_DELAY_MS: '0' },
  });
});

afterAll(async () => {
  await env?.close();
});

async function state(): Promise<PipelineState> {
  const response = await fetch(`${env.stack.urls.api}/api/state`);
  return (await response.json()) as PipelineState;
}

const idle = () =>
  until(
    'an empty work queue',
    () => queueDepth(env.aws.sqs, env.stack.resources.queueUrl),
    (d) => d.visible + d.inFlight === 0,
    120_000,
  );

it('removes a deleted video’s thumbnails within seconds, in S3 and on the dashboard', async () => {
  const source = 'uploads/to be deleted.mp4';
  await upload(env.aws.s3, source, clip);
  await until(
    'its thumbnails',
    () => listKeys(env.aws.s3, `thumbnails/${source}/`),
    (k) => k.length === 3,
    60_000,
  );
  await until(
    'the dashboard showing them',
    state,
    (s) => s.thumbnails.some((t) => t.source === source),
    30_000,
  );

  await env.aws.s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: source }));
  const deletedAt = Date.now();
  await until(
    'its thumbnails gone',
    () => listKeys(env.aws.s3, `thumbnails/${source}/`),
    (k) => k.length === 0,
    30_000,
  );
  await until(
    'the dashboard dropping them',
    state,
    (s) => !s.thumbnails.some((t) => t.source === source),
    30_000,
  );
  expect(Date.now() - deletedAt).toBeLessThan(30_000);
});

it('leaves nothing behind after a purge in the middle of a burst', async () => {
  const sources = Array.from({ length: 12 }, (_, i) => `uploads/purged ${i}.mp4`);
  await Promise.all(sources.map((source) => upload(env.aws.s3, source, clip)));
  await until(
    'the first video done',
    () => env.events.of('job.done'),
    (done) => done.some((e) => 'source' in e && sources.includes(e.source)),
    60_000,
  );
  const purge = await fetch(`${env.stack.urls.api}/api/purge`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${env.stack.token}` },
  });
  expect(purge.status).toBe(200);
  await idle();
  // The removal events of the purged videos arrive after the jobs that were in flight: wait for the last.
  await until(
    'no thumbnails left',
    () => listKeys(env.aws.s3, 'thumbnails/'),
    (k) => k.length === 0,
    60_000,
  );
  await new Promise((resolve) => setTimeout(resolve, 3000));
  expect(await listKeys(env.aws.s3, 'thumbnails/')).toEqual([]);
  expect(await listKeys(env.aws.s3, 'failures/')).toEqual([]);
  expect(await listKeys(env.aws.s3, 'uploads/')).toEqual([]);
  expect((await state()).thumbnails).toEqual([]);
});

it('finds and processes, with the backfill, a video uploaded while the notification was off', async () => {
  await env.aws.s3.send(
    new PutBucketNotificationConfigurationCommand({ Bucket: BUCKET, NotificationConfiguration: {} }),
  );
  const source = 'uploads/never notified.mp4';
  await upload(env.aws.s3, source, clip);
  await until(
    'its thumbnails, by the backfill',
    () => listKeys(env.aws.s3, `thumbnails/${source}/`),
    (k) => k.length === 3,
    90_000,
  );
  expect((await listKeys(env.aws.s3, `thumbnails/${source}/`)).sort()).toEqual(thumbnailKeys(source).sort());
  await until(
    'the dashboard counting it',
    state,
    (s) => (s.backfill.unprocessed ?? 0) >= 1 || s.backfill.queued >= 1,
    30_000,
  );
});
