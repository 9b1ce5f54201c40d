/**
 * Reads an incoming request the way the emulator routes it (path-style or virtual-hosted-style S3, or SQS/SNS),
 * to tell which ones create or delete objects and so must produce S3 event notifications, and which are plain GetObjects.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { S3ObjectEventName } from '@thumbs/model';

export type S3RequestKind =
  | { kind: 'object-created'; event: S3ObjectEventName }
  | { kind: 'object-removed' }
  | { kind: 'form-upload' }
  | { kind: 'notification-get' }
  | { kind: 'notification-put' }
  | { kind: 'bucket-delete' }
  | { kind: 'object-get' }
  | { kind: 'other' };

export interface S3Request {
  bucket?: string;
  key?: string;
  type: S3RequestKind;
}

/** Query parameters that do not name a subresource: the SDK's operation hint and presigned-URL auth. */
function isPlainParameter(name: string): boolean {
  return name === 'x-id' || name.toLowerCase().startsWith('x-amz-');
}

function header(headers: IncomingHttpHeaders, name: string): string {
  const value = headers[name];
  return Array.isArray(value) ? (value[0] ?? '') : (value ?? '');
}

/** The bucket in the Host header, by the same rule the emulator applies (first label of a dotted name). */
function virtualHostBucket(headers: IncomingHttpHeaders): string | undefined {
  const hostname = header(headers, 'host').replace(/:\d+$/, '');
  if (!hostname.includes('.') || /^\d+\.\d+\.\d+\.\d+$/.test(hostname) || hostname.startsWith('['))
    return undefined;
  const contentType = header(headers, 'content-type');
  if (contentType.includes('x-www-form-urlencoded') || contentType.includes('x-amz-json-1.0'))
    return undefined;
  return hostname.slice(0, hostname.indexOf('.'));
}

export function readS3Request(method: string, rawUrl: string, headers: IncomingHttpHeaders): S3Request {
  const url = new URL(rawUrl, 'http://local');
  const segments = url.pathname.slice(1);
  const hostBucket = virtualHostBucket(headers);
  const [bucket, rawKey] = hostBucket
    ? [hostBucket, segments]
    : [segments.split('/')[0], segments.split('/').slice(1).join('/')];
  if (!bucket) return { type: { kind: 'other' } };
  let key: string;
  try {
    key = decodeURIComponent(rawKey ?? '');
  } catch {
    return { bucket, type: { kind: 'other' } };
  }
  const names = [...url.searchParams.keys()];
  const subresources = names.filter((name) => !isPlainParameter(name));
  const only = (...allowed: string[]): boolean =>
    subresources.length === allowed.length && allowed.every((a) => subresources.includes(a));

  if (key === '') {
    if (only('notification') && method === 'GET') return { bucket, type: { kind: 'notification-get' } };
    if (only('notification') && method === 'PUT') return { bucket, type: { kind: 'notification-put' } };
    if (only() && method === 'DELETE') return { bucket, type: { kind: 'bucket-delete' } };
    if (only() && method === 'POST' && header(headers, 'content-type').startsWith('multipart/form-data')) {
      return { bucket, type: { kind: 'form-upload' } };
    }
    return { bucket, type: { kind: 'other' } };
  }
  if (method === 'PUT' && only()) {
    const event = header(headers, 'x-amz-copy-source') ? 'ObjectCreated:Copy' : 'ObjectCreated:Put';
    return { bucket, key, type: { kind: 'object-created', event } };
  }
  if (method === 'GET' && only()) return { bucket, key, type: { kind: 'object-get' } };
  if (method === 'DELETE' && only()) return { bucket, key, type: { kind: 'object-removed' } };
  if (method === 'POST' && only('uploadId')) {
    return { bucket, key, type: { kind: 'object-created', event: 'ObjectCreated:CompleteMultipartUpload' } };
  }
  return { bucket, key, type: { kind: 'other' } };
}

/**
 * The object key of a browser form upload (POST Object), read from the form fields that precede the file
 * (S3 requires the file to be the last field), with `${filename}` replaced as S3 does.
 */
export function formUploadKey(contentType: string, head: Buffer): string | undefined {
  const boundary = /boundary=(?:"([^"]+)"|([^\s;]+))/i.exec(contentType);
  const marker = boundary?.[1] ?? boundary?.[2];
  if (!marker) return undefined;
  const parts = head.toString('latin1').split(`--${marker}`);
  let key: string | undefined;
  let filename = '';
  for (const part of parts) {
    const split = part.indexOf('\r\n\r\n');
    if (split < 0) continue;
    const headers = part.slice(0, split);
    const name = /name="([^"]*)"/i.exec(headers)?.[1];
    const file = /filename="([^"]*)"/i.exec(headers);
    if (file) {
      filename = Buffer.from(file[1] ?? '', 'latin1').toString('utf8');
      break;
    }
    if (name === 'key')
      key = Buffer.from(part.slice(split + 4).replace(/\r\n$/, ''), 'latin1').toString('utf8');
  }
  return key?.replaceAll('${filename}', filename);
}
