import { describe, expect, it } from 'vitest';
import {
  buildS3Event,
  buildS3TestEvent,
  decodeS3EventKey,
  encodeS3EventKey,
  parseQueueMessage,
} from './s3-event.ts';

const event = (key: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    Records: [
      {
        eventName: 'ObjectCreated:Put',
        eventTime: '2025-01-02T03:04:05.000Z',
        s3: { bucket: { name: 'b' }, object: { key, size: 5, eTag: 'abc' } },
        ...extra,
      },
    ],
  });

describe('parseQueueMessage', () => {
  it('reads an S3 event built the AWS way', () => {
    const body = buildS3Event({
      bucket: 'thumbnail-pipeline',
      key: 'uploads/clip.mp4',
      size: 1234,
      eTag: '"d41d8cd98f00b204e9800998ecf8427e"',
      eventName: 'ObjectCreated:Put',
      region: 'us-east-1',
      time: new Date('2025-01-02T03:04:05Z'),
    });
    expect(parseQueueMessage(body)).toEqual({
      kind: 'objects',
      objects: [
        {
          key: 'uploads/clip.mp4',
          bucket: 'thumbnail-pipeline',
          size: 1234,
          eTag: 'd41d8cd98f00b204e9800998ecf8427e',
          eventName: 'ObjectCreated:Put',
          eventTime: '2025-01-02T03:04:05.000Z',
        },
      ],
    });
  });

  it('reads a removal event, which carries no size or ETag', () => {
    const body = buildS3Event({
      bucket: 'b',
      key: 'uploads/gone clip.mp4',
      eventName: 'ObjectRemoved:Delete',
      region: 'us-east-1',
      time: new Date('2025-01-02T03:04:05Z'),
    });
    expect(body).not.toContain('eTag');
    expect(parseQueueMessage(body)).toEqual({
      kind: 'objects',
      objects: [
        {
          key: 'uploads/gone clip.mp4',
          bucket: 'b',
          size: undefined,
          eTag: undefined,
          eventName: 'ObjectRemoved:Delete',
          eventTime: '2025-01-02T03:04:05.000Z',
        },
      ],
    });
  });

  it('decodes keys: + is a space, %XX are UTF-8 bytes, %2B is a plus', () => {
    const parsed = parseQueueMessage(event('uploads/My+Holiday+%2B+Caf%C3%A9+%E6%97%A5%E6%9C%AC.mp4'));
    expect(parsed).toMatchObject({
      kind: 'objects',
      objects: [{ key: 'uploads/My Holiday + Café 日本.mp4' }],
    });
  });

  it('reads every record of a multi-record event', () => {
    const body = JSON.stringify({
      Records: [
        { eventName: 'ObjectCreated:Put', s3: { object: { key: 'uploads/a.mp4' } } },
        { eventName: 'ObjectCreated:Copy', s3: { object: { key: 'uploads/b.mov' } } },
      ],
    });
    const parsed = parseQueueMessage(body);
    expect(parsed.kind === 'objects' && parsed.objects.map((o) => o.key)).toEqual([
      'uploads/a.mp4',
      'uploads/b.mov',
    ]);
  });

  it('recognises the S3 test event', () => {
    expect(parseQueueMessage(buildS3TestEvent('thumbnail-pipeline'))).toEqual({
      kind: 'test-event',
      bucket: 'thumbnail-pipeline',
    });
  });

  it('unwraps an SNS envelope once', () => {
    const inner = event('uploads/x.mp4');
    expect(parseQueueMessage(JSON.stringify({ Type: 'Notification', Message: inner }))).toMatchObject({
      kind: 'objects',
      objects: [{ key: 'uploads/x.mp4' }],
    });
    const twice = JSON.stringify({
      Type: 'Notification',
      Message: JSON.stringify({ Type: 'Notification', Message: inner }),
    });
    expect(parseQueueMessage(twice).kind).toBe('invalid');
  });

  it('takes a plain key body, trimmed, as is', () => {
    expect(parseQueueMessage('  uploads/a b+c.mp4\n')).toEqual({
      kind: 'objects',
      objects: [{ key: 'uploads/a b+c.mp4' }],
    });
  });

  it.each([
    ['non-JSON garbage that looks like JSON', '{"Records": [', 'does not parse'],
    ['JSON that is not an object', '[1, 2]', 'not an object'],
    ['an object without records', '{"hello": "world"}', 'neither'],
    ['an empty record list', '{"Records": []}', 'no records'],
    [
      'a record without a key',
      '{"Records": [{"eventName": "ObjectCreated:Put", "s3": {"object": {}}}]}',
      'no s3.object.key',
    ],
    [
      'an event the pipeline does not subscribe to',
      '{"Records": [{"eventName": "ObjectRestore:Completed", "s3": {"object": {"key": "a.mp4"}}}]}',
      'ignored event',
    ],
    ['bad % encoding', event('uploads/%E0%A4%A.mp4'), 'not valid URL encoding'],
    ['control characters', 'uploads/a\u0000b.mp4', 'control characters'],
    ['an empty body', '   ', 'empty'],
    ['a key longer than S3 allows', 'k'.repeat(1025), 'longer than 1024 bytes'],
  ])('rejects %s', (_name, body, reason) => {
    const parsed = parseQueueMessage(body);
    expect(parsed.kind).toBe('invalid');
    expect(parsed.kind === 'invalid' && parsed.reason).toContain(reason);
  });

  it('keeps the good records of an event that also has bad ones', () => {
    const body = JSON.stringify({
      Records: [{ s3: { object: {} } }, { s3: { object: { key: 'uploads/ok.mp4' } } }],
    });
    expect(parseQueueMessage(body)).toMatchObject({ kind: 'objects', objects: [{ key: 'uploads/ok.mp4' }] });
  });
});

describe('S3 event key encoding', () => {
  it.each([
    'uploads/clip.mp4',
    'uploads/My Holiday + Café 日本 (1).mp4',
    "uploads/odd!'()*~&=?#%.mov",
    'uploads/deep/er/path/😀.mkv',
  ])('round-trips %s', (key) => {
    expect(decodeS3EventKey(encodeS3EventKey(key))).toBe(key);
  });

  it('encodes the way S3 does: + for spaces, slashes kept, plus signs escaped', () => {
    expect(encodeS3EventKey('uploads/a b+c/é.mp4')).toBe('uploads/a+b%2Bc/%C3%A9.mp4');
  });
});
