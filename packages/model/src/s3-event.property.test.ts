import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildS3Event,
  decodeS3EventKey,
  encodeS3EventKey,
  parseQueueMessage,
  type QueueMessage,
} from './s3-event.ts';

/** Checks the shape of a result by hand, so a wrong type fails here and not in a consumer. */
function expectTyped(result: QueueMessage): void {
  expect(['test-event', 'objects', 'invalid']).toContain(result.kind);
  if (result.kind === 'invalid') {
    expect(typeof result.reason).toBe('string');
    expect(result.reason.length).toBeGreaterThan(0);
  }
  if (result.kind === 'objects') {
    expect(result.objects.length).toBeGreaterThan(0);
    for (const object of result.objects) {
      expect(typeof object.key).toBe('string');
      expect(object.key.length).toBeGreaterThan(0);
      expect(object.key).not.toMatch(/\p{Cs}/u);
      for (const field of ['bucket', 'eTag', 'eventName', 'eventTime'] as const)
        expect(['string', 'undefined']).toContain(typeof object[field]);
      expect(['number', 'undefined']).toContain(typeof object.size);
    }
  }
  if (result.kind === 'test-event') expect(['string', 'undefined']).toContain(typeof result.bucket);
}

/** S3 keys are UTF-8: any string of whole code points (no lone surrogates), not empty. */
const s3Key = fc.string({ unit: 'binary', minLength: 1, maxLength: 200 });

/** Values shaped like parts of S3 events and SNS envelopes, often with the wrong types in the right places. */
const eventish = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.jsonValue({ maxDepth: 3 }),
    fc.string({ unit: 'binary' }),
    tie('record'),
    tie('event'),
    tie('envelope'),
  ),
  record: fc.record(
    {
      eventName: fc.oneof(
        fc.constantFrom('ObjectCreated:Put', 'ObjectRemoved:Delete', 'ObjectCreated:Copy'),
        tie('value'),
      ),
      eventTime: tie('value'),
      s3: fc.oneof(
        fc.record(
          {
            bucket: fc.oneof(fc.record({ name: tie('value') }, { requiredKeys: [] }), tie('value')),
            object: fc.oneof(
              fc.record(
                {
                  key: fc.oneof(s3Key.map(encodeS3EventKey), fc.string({ unit: 'binary' }), tie('value')),
                  size: tie('value'),
                  eTag: tie('value'),
                },
                { requiredKeys: [] },
              ),
              tie('value'),
            ),
          },
          { requiredKeys: [] },
        ),
        tie('value'),
      ),
    },
    { requiredKeys: [] },
  ),
  event: fc.record({ Records: fc.oneof(fc.array(tie('value'), { maxLength: 4 }), tie('value')) }),
  envelope: fc.record({
    Type: fc.constantFrom('Notification', 'SubscriptionConfirmation'),
    Message: fc.oneof(
      tie('value').map((v) => JSON.stringify(v) ?? ''),
      fc.string({ unit: 'binary' }),
    ),
    Event: fc.constantFrom('s3:TestEvent', undefined),
  }),
}));

describe('parseQueueMessage (property)', () => {
  it('never throws on arbitrary strings, and returns a typed result', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }), fc.string()),
        (body) => expectTyped(parseQueueMessage(body)),
      ),
      { numRuns: 2000 },
    );
  });

  it('never throws on lone surrogates, invalid URL escapes and JSON-looking junk', () => {
    const junk = fc.oneof(
      fc.string({
        unit: fc.constantFrom('{', '}', '[', ']', '"', ':', ',', '%', '+', '\\', 'a', '\ud800', '\u0000'),
      }),
      fc.constantFrom(
        '%',
        '%E0%A4%A',
        '%ZZ',
        '\ud800',
        '"\\ud800"',
        '{"Records":[{"s3":{"object":{"key":"%"}}}]}',
      ),
    );
    fc.assert(
      fc.property(junk, (body) => expectTyped(parseQueueMessage(body))),
      { numRuns: 2000 },
    );
  });

  it('never throws on S3-event-shaped and SNS-envelope-shaped JSON with wrong types anywhere', () => {
    fc.assert(
      fc.property(eventish.value, (value) => expectTyped(parseQueueMessage(JSON.stringify(value) ?? ''))),
      { numRuns: 3000 },
    );
  });

  it('survives huge and deeply nested bodies', () => {
    for (const body of [
      '['.repeat(100_000) + ']'.repeat(100_000),
      '{"a":'.repeat(50_000) + '1' + '}'.repeat(50_000),
      '['.repeat(1_000_000),
      JSON.stringify({ Records: Array.from({ length: 10_000 }, () => ({ s3: {} })) }),
      'k'.repeat(5_000_000),
    ]) {
      expectTyped(parseQueueMessage(body));
    }
  });

  it('reads back the key of any S3 event, bare or inside an SNS envelope', () => {
    fc.assert(
      fc.property(s3Key, fc.boolean(), (key, wrapped) => {
        const event = buildS3Event({
          bucket: 'b',
          key,
          size: 1,
          eTag: 'e',
          eventName: 'ObjectCreated:Put',
          region: 'us-east-1',
        });
        const body = wrapped ? JSON.stringify({ Type: 'Notification', Message: event }) : event;
        const result = parseQueueMessage(body);
        expect(result.kind === 'objects' && result.objects[0]?.key).toBe(key);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('S3 event key encoding (property)', () => {
  it('round-trips any unicode key', () => {
    fc.assert(
      fc.property(fc.oneof(s3Key, fc.string({ unit: 'grapheme', minLength: 1 })), (key) => {
        const encoded = encodeS3EventKey(key);
        expect(encoded).toMatch(/^[A-Za-z0-9%+/*._-]*$/);
        expect(decodeS3EventKey(encoded)).toBe(key);
      }),
      { numRuns: 5000 },
    );
  });
});
