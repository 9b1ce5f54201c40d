/**
 * Poison input: files that can never become thumbnails each reach the DLQ after three receives, with their
 * error visible in GET /api/dlq, while good videos keep flowing.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { buildS3Event, type DlqEntry } from '@thumbs/model';
import { ffmpegPath } from '@thumbs/runtime';
import { makeAudioOnly } from '../../../worker/src/testing/clips.ts';
import {
  BUCKET,
  listKeys,
  queueDepth,
  startFaultStack,
  testClip,
  testDir,
  thumbnailsOf,
  until,
  upload,
  type FaultStack,
} from './harness.ts';

const { dir, dataDir } = testDir('faults-poison-');
let env: FaultStack;

beforeAll(async () => {
  env = await startFaultStack({
    dataDir,
    startApi: true,
    maxWorkers: 2,
    childEnv: { FAILURE_BACKOFF_SECONDS: '1' },
  });
  // The worker started for the s3:TestEvent scales in after the cooldown. Were the first upload to land in its
  // last long poll, that receive (released at once, as a stopping worker does) would count as attempt 1.
  await until(
    'the fleet back to zero',
    () => env.stack.fleet.workers.length,
    (n) => n === 0,
    30_000,
  );
});

afterAll(async () => {
  await env?.close();
});

async function poisonFiles(): Promise<Record<string, Buffer>> {
  await makeAudioOnly(join(dir, 'audio.m4a'));
  // An index at the end, cut off: the file starts like a video but cannot be opened.
  await promisify(execFile)(ffmpegPath(), [
    ...['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=s=160x120:r=10:d=2'],
    ...['-c:v', 'mpeg4', join(dir, 'whole.mp4')],
  ]);
  const whole = readFileSync(join(dir, 'whole.mp4'));
  return {
    'uploads/poison/corrupt.mp4': Buffer.from(Array.from({ length: 64 * 1024 }, (_, i) => (i * 7919) % 251)),
    'uploads/poison/empty.mp4': Buffer.alloc(0),
    'uploads/poison/audio only.mp4': readFileSync(join(dir, 'audio.m4a')),
    'uploads/poison/notes.txt.mp4': Buffer.from('These are meeting notes, not a video.\n'.repeat(20)),
    'uploads/poison/truncated.mp4': whole.subarray(0, Math.floor(whole.length / 2)),
  };
}

it('sends each poison file to the DLQ after three receives with its error, while good videos flow', async () => {
  const poison = await poisonFiles();
  const good = await testClip(dir, 'good.mp4');
  const goodKeys = Array.from({ length: 4 }, (_, i) => `uploads/good ${i}.mp4`);
  // Interleaved, so that the good videos queue behind and between the poison.
  const poisonKeys = Object.keys(poison);
  for (let i = 0; i < Math.max(poisonKeys.length, goodKeys.length); i++) {
    const bad = poisonKeys[i];
    if (bad) await upload(env.aws.s3, bad, poison[bad]!);
    const fine = goodKeys[i];
    if (fine) await upload(env.aws.s3, fine, good);
  }

  // Good videos are done before the poison has used up its three attempts.
  await until(
    'thumbnails of the good videos',
    () => listKeys(env.aws.s3, 'thumbnails/'),
    (keys) => keys.length === 12,
    90_000,
  );
  expect(env.events.of('job.failed').filter((e) => 'final' in e && e.final)).not.toHaveLength(
    poisonKeys.length,
  );

  await until(
    'every poison file in the DLQ',
    () => queueDepth(env.aws.sqs, env.stack.resources.dlqUrl),
    (d) => d.visible + d.inFlight === poisonKeys.length,
    120_000,
  );
  for (const source of poisonKeys) {
    const failures = env.events.of('job.failed', source);
    const attempts = failures.map((e) => ('attempt' in e ? e.attempt : 0)).sort();
    expect(attempts, source).toEqual([1, 2, 3]);
    expect(failures.filter((e) => 'final' in e && e.final).map((e) => 'attempt' in e && e.attempt)).toEqual([
      3,
    ]);
  }
  expect((await listKeys(env.aws.s3, 'thumbnails/')).sort()).toEqual(goodKeys.flatMap(thumbnailsOf).sort());
  expect((await listKeys(env.aws.s3, 'failures/')).sort()).toEqual(
    poisonKeys.map((k) => `failures/${k}.json`).sort(),
  );
  expect(await queueDepth(env.aws.sqs, env.stack.resources.queueUrl)).toEqual({ visible: 0, inFlight: 0 });

  const dlq = await until(
    'every poison file in GET /api/dlq with its error',
    async () => (await (await fetch(`${env.stack.urls.api}/api/dlq`)).json()) as DlqEntry[],
    (entries) =>
      entries.length === poisonKeys.length && entries.every((e) => e.error !== null && e.source !== null),
    30_000,
  );
  expect(dlq.map((e) => e.source).sort()).toEqual([...poisonKeys].sort());
  for (const entry of dlq) expect(entry.error).toContain(entry.source!.split('/').pop());
}, 240_000);

/**
 * The API lists the DLQ by receiving its messages, so messages another reader holds at that moment (a second
 * API replica's peek, an operator polling the DLQ) are missing from that listing: it must be read again
 * until whole, not only when the DLQ's depth changes (a bug this test found, fixed in the API).
 */
it('GET /api/dlq heals a listing that missed messages another reader was holding', async () => {
  const dlqUrl = env.stack.resources.dlqUrl;
  await until(
    'another reader holding DLQ messages',
    async () =>
      (
        await env.aws.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 3 }),
        )
      ).Messages ?? [],
    (held) => held.length > 0,
    20_000,
  );
  const late = 'uploads/poison/late.mp4';
  await env.aws.sqs.send(
    new SendMessageCommand({
      QueueUrl: dlqUrl,
      MessageBody: buildS3Event({
        bucket: BUCKET,
        key: late,
        size: 1,
        eTag: 'x',
        eventName: 'ObjectCreated:Put',
        region: 'us-east-1',
      }),
    }),
  );
  // (The emulator's in-flight count goes stale without a long poll, so wait out the hold by the clock.)
  const heldUntil = Date.now() + 3500;
  await until('the held messages visible again', Date.now, (now) => now > heldUntil, 10_000);
  const entries = await until(
    'all six DLQ entries in GET /api/dlq',
    async () => (await (await fetch(`${env.stack.urls.api}/api/dlq`)).json()) as DlqEntry[],
    (list) => list.length === 6,
    20_000,
  );
  expect(entries.map((e) => e.source)).toContain(late);
}, 90_000);

/**
 * The dashboard's DLQ panel shows how often each video was tried. Every listing of the DLQ receives its
 * messages, which SQS counts as receives too, so the count read from the DLQ grows with each listing; the
 * worker's failure record knows the attempt that sent the video to the DLQ.
 */
it('GET /api/dlq reports three receives for each poison file, however often the DLQ was listed', async () => {
  const dlq = (await (await fetch(`${env.stack.urls.api}/api/dlq`)).json()) as DlqEntry[];
  const poison = dlq.filter((e) => e.source !== 'uploads/poison/late.mp4');
  expect(poison).toHaveLength(5);
  expect(poison.map((e) => e.receiveCount)).toEqual([3, 3, 3, 3, 3]);
});
