/**
 * Ranged GetObject served from the emulator's file storage. fauxqs answers a range by reading the whole object
 * into memory and slicing it, so each 1 MiB window of a 500 MB video would cost a 500 MB read; S3 serves a
 * range in time proportional to the range. The proxy asks the emulator for the object's metadata (a HEAD,
 * which does not touch the body) and streams just the range from the object's file, in the layout the fauxqs
 * README documents for `s3StorageDir` (`buckets/<bucket>/objects/<key-as-path>.data` + `.meta.json`).
 * Whenever the file does not match the emulator's answer, the request goes to the emulator unchanged.
 */
import { randomUUID } from 'node:crypto';
import { open, readFile, type FileHandle } from 'node:fs/promises';
import {
  request as httpRequest,
  type Agent,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import { join, resolve, sep } from 'node:path';

const RANGE = /^bytes=(\d*)-(\d*)$/;
const CONDITIONAL = ['if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since'];
/** HEAD answer headers that a ranged GET answer does not carry (or that describe the HEAD's own connection). */
const NOT_ON_RANGE =
  /^(connection|keep-alive|transfer-encoding|date|content-length|x-amz-mp-parts-count|x-amz-checksum-.*)$/;

export interface ByteRange {
  start: number;
  end: number;
}

/**
 * The Range header when the proxy can serve it itself: one `bytes=` range and no conditional header but
 * If-Match, which it checks itself (the others, multiple ranges and anything else go to the emulator as they are).
 */
export function servableRange(headers: IncomingHttpHeaders): string | undefined {
  const range = headers.range;
  if (range === undefined || !RANGE.test(range)) return undefined;
  if (CONDITIONAL.some((name) => name !== 'if-match' && headers[name] !== undefined)) return undefined;
  return range;
}

/** The bytes a `bytes=` range selects in an object of `size` bytes, by the emulator's rules; null: 416. */
export function resolveRange(range: string, size: number): ByteRange | null {
  const [, first = '', last = ''] = RANGE.exec(range) ?? [];
  if (first === '') {
    const suffix = Number(last);
    return last === '' || suffix === 0 || suffix > size ? null : { start: size - suffix, end: size - 1 };
  }
  const start = Number(first);
  if (start >= size) return null;
  if (last === '') return { start, end: size - 1 };
  const end = Number(last);
  return start > end ? null : { start, end: Math.min(end, size - 1) };
}

/** The characters fauxqs percent-escapes in file names. */
// eslint-disable-next-line no-control-regex
const UNSAFE_IN_FILE_NAMES = /[<>:"|?*\\%\x00-\x1f]/g;
/** A bucket name that is one plain directory name. */
const SAFE_BUCKET = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export interface ObjectFiles {
  data: string;
  meta: string;
}

/**
 * The object's files, named as fauxqs's file storage names them (the characters unsafe in file names become
 * `%xx`, slashes become directories, the suffix goes on the last segment); undefined for a key whose path would
 * be ambiguous or leave the bucket's objects directory (empty, `.` or `..` directory segments).
 */
export function objectFiles(storageDir: string, bucket: string, key: string): ObjectFiles | undefined {
  if (!SAFE_BUCKET.test(bucket) || bucket.includes('..')) return undefined;
  const escaped = key.replace(
    UNSAFE_IN_FILE_NAMES,
    (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
  const segments = escaped.split('/');
  if (segments.slice(0, -1).some((s) => s === '' || s === '.' || s === '..')) return undefined;
  const objectsDir = resolve(storageDir, 'buckets', bucket, 'objects');
  const files = { data: join(objectsDir, `${escaped}.data`), meta: join(objectsDir, `${escaped}.meta.json`) };
  const inside = (path: string) => resolve(path).startsWith(objectsDir + sep);
  return inside(files.data) && inside(files.meta) ? files : undefined;
}

interface ObjectMeta {
  key?: unknown;
  etag?: unknown;
  contentLength?: unknown;
}

async function readMeta(path: string): Promise<ObjectMeta | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as ObjectMeta;
  } catch {
    return undefined;
  }
}

interface Head {
  status: number;
  headers: IncomingHttpHeaders;
}

function head(upstream: RangedGetUpstream, req: IncomingMessage): Promise<Head> {
  const headers = { ...req.headers };
  for (const name of ['range', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'expect'])
    delete headers[name];
  return new Promise((resolvePromise, reject) => {
    const request = httpRequest(
      {
        host: '127.0.0.1',
        port: upstream.port,
        method: 'HEAD',
        path: req.url,
        headers,
        agent: upstream.agent,
      },
      (answer) => {
        answer.resume();
        answer.on('end', () => resolvePromise({ status: answer.statusCode ?? 0, headers: answer.headers }));
        answer.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end();
  });
}

function invalidRangeXml(): string {
  const requestId = randomUUID().replaceAll('-', '').toUpperCase().slice(0, 16);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<Error>',
    '  <Code>InvalidRange</Code>',
    '  <Message>The requested range is not satisfiable</Message>',
    `  <RequestId>${requestId}</RequestId>`,
    '  <HostId>fauxqs</HostId>',
    '</Error>',
  ].join('\n');
}

export interface RangedGetUpstream {
  port: number;
  agent: Agent;
  /** The emulator's `s3StorageDir`. */
  storageDir: string;
}

/**
 * Answers a ranged GetObject from the object's file, or calls `forward` to let the emulator answer it (errors,
 * and any doubt that the file is the object the emulator described).
 */
export async function serveRangedGet(
  upstream: RangedGetUpstream,
  req: IncomingMessage,
  res: ServerResponse,
  target: { bucket: string; key: string; range: string },
  extraHeaders: OutgoingHttpHeaders,
  forward: () => void,
): Promise<void> {
  const files = objectFiles(upstream.storageDir, target.bucket, target.key);
  if (files === undefined) return forward();
  // An unreachable emulator is reported by `forward`, as for any other request.
  const described = await head(upstream, req).catch(() => undefined);
  if (described?.status !== 200) return forward();
  const size = Number(described.headers['content-length']);
  const file = await open(files.data).catch(() => undefined);
  if (!file) return forward();
  try {
    const meta = await readMeta(files.meta);
    const { size: fileSize } = await file.stat();
    if (
      meta?.key !== target.key ||
      meta.etag !== described.headers.etag ||
      meta.contentLength !== size ||
      fileSize !== size
    )
      return forward();
    // Another version than the one asked for: the emulator answers 412 PreconditionFailed, as S3 does.
    const ifMatch = req.headers['if-match'];
    const unquoted = (eTag: unknown) => String(eTag).replace(/"/g, '').trim();
    if (
      ifMatch !== undefined &&
      ifMatch.trim() !== '*' &&
      unquoted(ifMatch) !== unquoted(described.headers.etag)
    )
      return forward();

    const headers: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(described.headers))
      if (!NOT_ON_RANGE.test(name)) headers[name] = value;
    Object.assign(headers, extraHeaders);
    const range = resolveRange(target.range, size);
    if (range === null) {
      const body = invalidRangeXml();
      res.writeHead(416, {
        ...headers,
        'content-range': `bytes */${size}`,
        'content-type': 'application/xml',
        'content-length': String(Buffer.byteLength(body)),
      });
      return void res.end(body);
    }
    res.writeHead(206, {
      ...headers,
      'accept-ranges': 'bytes',
      'content-range': `bytes ${range.start}-${range.end}/${size}`,
      'content-length': String(range.end - range.start + 1),
    });
    await sendRange(file, res, range).catch(() => res.destroy());
  } finally {
    await file.close();
  }
}

/** Bytes read from an object's file per write. */
const SEND_CHUNK = 1024 * 1024;

/**
 * Writes the range of `file` to `res` through one buffer, reused once each write is flushed. A read stream
 * allocates a buffer per chunk, and the garbage of the hundreds of MB a long-GOP job reads cost this process
 * more CPU than the reads, on the cores the decoding it serves runs on.
 */
async function sendRange(file: FileHandle, res: ServerResponse, range: ByteRange): Promise<void> {
  const buffer = Buffer.allocUnsafe(Math.min(SEND_CHUNK, range.end - range.start + 1));
  for (let at = range.start; at <= range.end;) {
    const { bytesRead } = await file.read(buffer, 0, Math.min(buffer.length, range.end - at + 1), at);
    if (bytesRead === 0) throw new Error(`the object's file ended at byte ${at}`);
    at += bytesRead;
    // The socket holds the buffer until the write's callback; a reader that hangs up ends the range.
    const flushed = await new Promise<boolean>((resolve) => {
      const closed = () => resolve(false);
      res.once('close', closed);
      res.write(buffer.subarray(0, bytesRead), (error) => {
        res.off('close', closed);
        resolve(!error);
      });
    });
    if (!flushed) return;
  }
  res.end();
}
