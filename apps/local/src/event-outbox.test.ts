import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { EventOutbox, type S3ObjectEvent } from './event-outbox.ts';
import { silentLog } from './log.ts';

let dir: string;
let file: string;
const outboxes: EventOutbox[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'outbox-'));
  file = join(dir, 's3-events.jsonl');
});

afterEach(async () => {
  await Promise.all(outboxes.splice(0).map((o) => o.stop()));
  rmSync(dir, { recursive: true, force: true });
});

function outbox(deliver: (event: S3ObjectEvent) => Promise<void>, log = silentLog): EventOutbox {
  const created = new EventOutbox({ file, deliver, log, retry: { firstMs: 5, maxMs: 20 } });
  outboxes.push(created);
  return created;
}

function event(key: string): S3ObjectEvent {
  const time = new Date();
  return { bucket: 'b', key, event: 'ObjectCreated:Put', time: time.toISOString(), sequencer: '01', size: 1 };
}

/** An error the way the SDK reports an unreachable endpoint: no HTTP status at all. */
const unreachable = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { name: 'Error' });

it('keeps every recorded event across a stop before delivery, and delivers them in order after', async () => {
  const first = outbox(() => Promise.reject(unreachable()));
  for (const key of ['uploads/1.mp4', 'uploads/2.mp4', 'uploads/3.mp4']) first.record(event(key));
  await first.stop();

  const delivered: string[] = [];
  const second = outbox(async (e) => void delivered.push(e.key));
  expect(second.pending).toBe(3);
  second.start();
  await second.idle();
  expect(delivered).toEqual(['uploads/1.mp4', 'uploads/2.mp4', 'uploads/3.mp4']);
  // Delivered events are forgotten: a third start finds nothing to send.
  expect(readFileSync(file, 'utf8')).toBe('');
  expect(outbox(() => Promise.reject(new Error('nothing to deliver'))).pending).toBe(0);
});

it('retries while the queue is unreachable and delivers once it is back', async () => {
  let failures = 0;
  const delivered: string[] = [];
  const logged: string[] = [];
  const box = outbox(
    async (e) => {
      if (failures++ < 5) throw unreachable();
      delivered.push(e.key);
    },
    (_level, message) => void logged.push(message),
  );
  box.record(event('uploads/during outage.mp4'));
  box.record(event('uploads/after it.mp4'));
  await box.idle();
  expect(delivered).toEqual(['uploads/during outage.mp4', 'uploads/after it.mp4']);
  expect(logged.filter((m) => m.includes('retrying'))).toHaveLength(1);
});

it('drops an event SQS refuses for good (a client error), and goes on with the next', async () => {
  const delivered: string[] = [];
  const logged: string[] = [];
  const box = outbox(
    async (e) => {
      if (e.key.includes('refused'))
        throw Object.assign(new Error('message too long'), { $metadata: { httpStatusCode: 400 } });
      delivered.push(e.key);
    },
    (_level, message) => void logged.push(message),
  );
  box.record(event('uploads/refused.mp4'));
  box.record(event('uploads/fine.mp4'));
  await box.idle();
  expect(delivered).toEqual(['uploads/fine.mp4']);
  expect(logged.join('\n')).toContain('dropped: message too long');
});

it('ignores a line torn by a kill in the middle of its write', async () => {
  const first = outbox(() => Promise.reject(unreachable()));
  first.record(event('uploads/whole.mp4'));
  await first.stop();
  appendFileSync(file, '{"pending":{"id":2,"bucket":"b","ke');
  const delivered: string[] = [];
  const second = outbox(async (e) => void delivered.push(e.key));
  second.start();
  await second.idle();
  expect(delivered).toEqual(['uploads/whole.mp4']);
});

it('gives sequencers that grow for events in the same millisecond', () => {
  const box = outbox(async () => undefined);
  const now = new Date();
  const [a, b] = [box.sequencer(now), box.sequencer(now)];
  expect(a.length).toBe(b.length);
  expect(b > a).toBe(true);
});
