/**
 * What a work-queue message body can hold, and how to read it. Bodies come from S3 event notifications
 * (possibly wrapped in an SNS envelope), from people sending a plain object key, or are junk.
 */

import { truncateText } from './text.ts';

/** The S3 events the pipeline subscribes to: a video written, and a video deleted. */
export type S3ObjectEventName =
  | 'ObjectCreated:Put'
  | 'ObjectCreated:Copy'
  | 'ObjectCreated:CompleteMultipartUpload'
  | 'ObjectCreated:Post'
  | 'ObjectRemoved:Delete'
  | 'ObjectRemoved:DeleteMarkerCreated';

export function isRemovalEvent(eventName: string | undefined): boolean {
  return eventName?.startsWith('ObjectRemoved:') ?? false;
}

export interface ObjectRef {
  key: string;
  bucket?: string;
  size?: number;
  eTag?: string;
  eventName?: string;
  eventTime?: string;
}

export type QueueMessage =
  | { kind: 'test-event'; bucket?: string }
  | { kind: 'objects'; objects: ObjectRef[] }
  | { kind: 'invalid'; reason: string };

const MAX_KEY_BYTES = 1024;

/** Keys in S3 event records are form-URL-encoded: `+` stands for a space, `%XX` for UTF-8 bytes. */
export function decodeS3EventKey(encoded: string): string {
  return decodeURIComponent(encoded.replace(/\+/g, ' '));
}

/** Encodes a key the way S3 writes it into event records (form encoding that keeps `/`). */
export function encodeS3EventKey(key: string): string {
  return encodeURIComponent(key)
    .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+')
    .replace(/%2F/g, '/');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readRecord(record: unknown): ObjectRef | string {
  if (!isRecord(record)) return 'record is not an object';
  const eventName = typeof record.eventName === 'string' ? record.eventName : undefined;
  if (eventName !== undefined && !eventName.startsWith('ObjectCreated:') && !isRemovalEvent(eventName))
    return `ignored event ${eventName}`;
  const s3 = isRecord(record.s3) ? record.s3 : undefined;
  const object = s3 && isRecord(s3.object) ? s3.object : undefined;
  const bucket = s3 && isRecord(s3.bucket) && typeof s3.bucket.name === 'string' ? s3.bucket.name : undefined;
  if (!object || typeof object.key !== 'string' || object.key === '') return 'record has no s3.object.key';
  let key: string;
  try {
    key = decodeS3EventKey(object.key);
  } catch {
    return `record key is not valid URL encoding: ${truncateText(object.key, 100)}`;
  }
  return {
    key,
    bucket,
    size: typeof object.size === 'number' ? object.size : undefined,
    eTag: typeof object.eTag === 'string' ? object.eTag : undefined,
    eventName,
    eventTime: typeof record.eventTime === 'string' ? record.eventTime : undefined,
  };
}

function readJson(value: unknown, depth: number): QueueMessage {
  if (typeof value === 'string') return readPlainKey(value);
  if (!isRecord(value)) return { kind: 'invalid', reason: 'body is JSON but not an object' };
  if (value.Event === 's3:TestEvent') {
    return { kind: 'test-event', bucket: typeof value.Bucket === 'string' ? value.Bucket : undefined };
  }
  // SNS envelope (fan-out without raw message delivery): read the message inside, once.
  if (value.Type === 'Notification' && typeof value.Message === 'string' && depth === 0) {
    return parseQueueMessage(value.Message, depth + 1);
  }
  if (Array.isArray(value.Records)) {
    const objects: ObjectRef[] = [];
    const problems: string[] = [];
    for (const record of value.Records) {
      const read = readRecord(record);
      if (typeof read === 'string') problems.push(read);
      else objects.push(read);
    }
    if (objects.length > 0) return { kind: 'objects', objects };
    return { kind: 'invalid', reason: problems[0] ?? 'event has no records' };
  }
  return { kind: 'invalid', reason: 'JSON body is neither an S3 event nor a test event' };
}

function readPlainKey(text: string): QueueMessage {
  const key = text.trim();
  if (key === '') return { kind: 'invalid', reason: 'body is empty' };
  // eslint-disable-next-line no-control-regex -- rejecting control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(key))
    return { kind: 'invalid', reason: 'plain key contains control characters' };
  // A lone surrogate (possible in JSON escapes) is not UTF-8, so it cannot be an S3 key.
  if (/\p{Cs}/u.test(key)) return { kind: 'invalid', reason: 'plain key is not valid Unicode' };
  if (new TextEncoder().encode(key).length > MAX_KEY_BYTES) {
    return { kind: 'invalid', reason: `plain key is longer than ${MAX_KEY_BYTES} bytes` };
  }
  return { kind: 'objects', objects: [{ key }] };
}

/** Reads a work-queue message body. Never throws: junk comes back as `{kind: 'invalid'}` with a reason. */
export function parseQueueMessage(body: string, depth = 0): QueueMessage {
  const trimmed = body.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[') || trimmed.startsWith('"')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      return { kind: 'invalid', reason: 'body looks like JSON but does not parse' };
    }
    return readJson(parsed, depth);
  }
  return readPlainKey(body);
}

export interface S3EventInput {
  bucket: string;
  key: string;
  /** Absent in ObjectRemoved events, as in AWS's. */
  size?: number;
  eTag?: string;
  eventName: S3ObjectEventName;
  region: string;
  time?: Date;
  sequencer?: string;
  configurationId?: string;
}

/** The S3 event notification JSON exactly as AWS sends it to an SQS queue (eventVersion 2.1). */
export function buildS3Event(input: S3EventInput): string {
  const time = input.time ?? new Date();
  return JSON.stringify({
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: input.region,
        eventTime: time.toISOString(),
        eventName: input.eventName,
        userIdentity: { principalId: 'AWS:LOCAL' },
        requestParameters: { sourceIPAddress: '127.0.0.1' },
        responseElements: { 'x-amz-request-id': 'LOCAL', 'x-amz-id-2': 'LOCAL' },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: input.configurationId ?? 'thumbnail-uploads',
          bucket: {
            name: input.bucket,
            ownerIdentity: { principalId: 'LOCAL' },
            arn: `arn:aws:s3:::${input.bucket}`,
          },
          object: {
            key: encodeS3EventKey(input.key),
            ...(input.size === undefined ? {} : { size: input.size }),
            ...(input.eTag === undefined ? {} : { eTag: input.eTag.replace(/"/g, '') }),
            sequencer: input.sequencer ?? time.getTime().toString(16).toUpperCase().padStart(16, '0'),
          },
        },
      },
    ],
  });
}

/** The message S3 sends once when a notification configuration is created. */
export function buildS3TestEvent(bucket: string, time = new Date()): string {
  return JSON.stringify({
    Service: 'Amazon S3',
    Event: 's3:TestEvent',
    Time: time.toISOString(),
    Bucket: bucket,
    RequestId: 'LOCAL',
    HostId: 'LOCAL',
  });
}
