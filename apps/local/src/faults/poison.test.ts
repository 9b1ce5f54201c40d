/**
 * Poison input: files that can never become thumbnails each reach the DLQ at their first attempt (the worker
 * dead-letters them itself), with their kind and error in GET /api/dlq, while good videos keep flowing.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { isPermanentFailure, type DlqEntry, thumbnailKeys } from '@thumbs/model';
import { ffmpegPath } from '@thumbs/runtime';
import { makeAudioOnly } from '../testing/clips.ts';
import {
  listKeys,
  queueDepth,
  startFaultStack,
  testClip,
  testDir,
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

it('sends each poison file to the DLQ at its first attempt with its kind and error, while good videos flow', async () => {
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

  await until(
    'thumbnails of the good videos',
    () => listKeys(env.aws.s3, 'thumbnails/'),
    (keys) => keys.length === 12,
    90_000,
  );
  await until(
    'every poison file in the DLQ',
    () => queueDepth(env.aws.sqs, env.stack.resources.dlqUrl),
    (d) => d.visible + d.inFlight === poisonKeys.length,
    60_000,
  );
  // No retry can make these thumbnails: one attempt each, final, with a kind that says so.
  for (const source of poisonKeys) {
    const failures = env.events.of('job.failed', source);
    expect(
      failures.map(
        (e) => e.type === 'job.failed' && [e.attempt, e.final, isPermanentFailure(e.kind ?? 'unknown')],
      ),
      source,
    ).toEqual([[1, true, true]]);
  }
  expect((await listKeys(env.aws.s3, 'thumbnails/')).sort()).toEqual(
    goodKeys.flatMap((source) => thumbnailKeys(source)).sort(),
  );
  expect((await listKeys(env.aws.s3, 'failures/')).sort()).toEqual(
    poisonKeys.map((k) => `failures/${k}.json`).sort(),
  );
  // The worker sends a poison message to the DLQ before it deletes the original: the work queue empties after.
  await until(
    'the work queue empty',
    () => queueDepth(env.aws.sqs, env.stack.resources.queueUrl),
    (d) => d.visible + d.inFlight === 0,
    30_000,
  );

  const dlq = await until(
    'every poison file in GET /api/dlq with its kind and error',
    async () => (await (await fetch(`${env.stack.urls.api}/api/dlq`)).json()) as DlqEntry[],
    (entries) => entries.length === poisonKeys.length && entries.every((e) => e.error && e.errorKind),
    30_000,
  );
  expect(dlq.map((e) => e.source).sort()).toEqual([...poisonKeys].sort());
  expect(dlq.map((e) => e.receiveCount)).toEqual(poisonKeys.map(() => 1));
}, 240_000);

/**
 * The API lists the dead letters from the failure records, never by receiving the DLQ: another reader holding
 * DLQ messages (an operator's console, a script) hides nothing from the panel, and the panel's readers leave
 * the DLQ's visible count alone.
 */
it('GET /api/dlq lists every dead letter while another reader holds them, and never holds them itself', async () => {
  const dlqUrl = env.stack.resources.dlqUrl;
  const held = await env.aws.sqs.send(
    new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 5 }),
  );
  expect(held.Messages?.length).toBeGreaterThan(0);
  // Listed while held: the list comes from the failure records, not from receiving the DLQ.
  await until(
    'all five dead letters listed while held',
    async () => (await (await fetch(`${env.stack.urls.api}/api/dlq`)).json()) as DlqEntry[],
    (entries) => entries.length === 5,
    4_000,
  );
  // Once the other reader's hold ends, every dead letter can be received: the API's listings held none.
  // (The emulator's in-flight count goes stale without a long poll, so wait out the hold by the clock.)
  const heldUntil = Date.now() + 5500;
  await until('the hold over', Date.now, (now) => now > heldUntil, 10_000);
  const again = await env.aws.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: dlqUrl,
      MaxNumberOfMessages: 10,
      VisibilityTimeout: 1,
      WaitTimeSeconds: 1,
    }),
  );
  expect(again.Messages).toHaveLength(5);
}, 60_000);
