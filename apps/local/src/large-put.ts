/**
 * PutObject bodies larger than the emulator accepts in one request (fauxqs caps request bodies at 11 MiB; S3
 * takes 5 GiB in a single PUT): the proxy streams them into the emulator as a multipart upload, holding at most
 * two parts in memory, and answers the client as a PutObject would.
 */
import {
  request as httpRequest,
  type Agent,
  type IncomingHttpHeaders,
  type IncomingMessage,
} from 'node:http';
import { AwsChunkedError, decodeAwsChunked } from './aws-chunked.ts';

/** Parts sent to the emulator: at least S3's 5 MiB minimum, below the emulator's 11 MiB request limit. */
export const PART_SIZE = 8 * 1024 * 1024;

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function isAwsChunked(headers: IncomingHttpHeaders): boolean {
  return (header(headers, 'content-encoding') ?? '').split(',').some((c) => c.trim() === 'aws-chunked');
}

/** The payload length the client declared, or undefined when it streams without one. */
function declaredLength(headers: IncomingHttpHeaders): number | undefined {
  const value = isAwsChunked(headers)
    ? header(headers, 'x-amz-decoded-content-length')
    : header(headers, 'content-length');
  return value === undefined || !/^\d+$/.test(value) ? undefined : Number(value);
}

/** Whether a PutObject must take the multipart route: its payload is (or may be) bigger than one part. */
export function needsMultipart(headers: IncomingHttpHeaders): boolean {
  const length = declaredLength(headers);
  return length === undefined || length > PART_SIZE;
}

/** Headers that describe the object (not the request body), carried over to the emulator's upload. */
function objectHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, raw] of Object.entries(headers)) {
    const value = Array.isArray(raw) ? raw.join(',') : raw;
    if (value === undefined) continue;
    if (
      /^(content-type|content-language|content-disposition|cache-control|expires)$/.test(name) ||
      /^x-amz-(meta-|tagging$|storage-class$|acl$|grant-|server-side-encryption|object-lock-|website-)/.test(
        name,
      )
    ) {
      kept[name] = value;
    }
  }
  const encoding = (header(headers, 'content-encoding') ?? '')
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c !== '' && c !== 'aws-chunked');
  if (encoding.length > 0) kept['content-encoding'] = encoding.join(',');
  return kept;
}

/** An error answer from the emulator, relayed to the client as is. */
export class UpstreamError extends Error {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;

  constructor(status: number, headers: IncomingHttpHeaders, body: Buffer) {
    super(`emulator answered ${status}: ${body.toString('utf8').slice(0, 200)}`);
    this.status = status;
    this.headers = headers;
    this.body = body;
  }
}

/** The client's body did not match what it declared (S3's IncompleteBody / malformed aws-chunked). */
export class BadBodyError extends Error {}

interface Upstream {
  port: number;
  agent: Agent;
}

interface Answer {
  headers: IncomingHttpHeaders;
  body: Buffer;
}

function send(
  upstream: Upstream,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: Buffer,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: upstream.port,
        method,
        path,
        agent: upstream.agent,
        headers: { ...headers, 'content-length': String(body?.length ?? 0) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const answer = Buffer.concat(chunks);
          if (status >= 200 && status < 300) resolve({ headers: res.headers, body: answer });
          else reject(new UpstreamError(status, res.headers, answer));
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Cuts the payload into parts of `partSize` bytes (the last one shorter), copied into two buffers used in turn:
 * a yielded part is overwritten two yields later, so the consumer must be done with it by then.
 */
export async function* fixedParts(data: AsyncIterable<Buffer>, partSize: number): AsyncGenerator<Buffer> {
  const buffers: Buffer[] = [];
  let current = 0;
  let filled = 0;
  for await (const chunk of data) {
    let offset = 0;
    while (offset < chunk.length) {
      const buffer = (buffers[current] ??= Buffer.allocUnsafe(partSize));
      const copied = chunk.copy(buffer, filled, offset);
      filled += copied;
      offset += copied;
      if (filled === partSize) {
        yield buffer;
        current = 1 - current;
        filled = 0;
      }
    }
  }
  if (filled > 0) yield buffers[current]!.subarray(0, filled);
}

async function* counted(data: AsyncIterable<Buffer>, expected: number | undefined): AsyncGenerator<Buffer> {
  let total = 0;
  for await (const chunk of data) {
    total += chunk.length;
    if (expected !== undefined && total > expected) throw new BadBodyError('body longer than declared');
    yield chunk;
  }
  if (expected !== undefined && total !== expected) {
    throw new BadBodyError(`body of ${total} bytes, ${expected} declared`);
  }
}

function objectPath(bucket: string, key: string): string {
  return `/${encodeURIComponent(bucket)}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

export interface LargePutResult {
  /** The emulator's ETag: for a multipart upload, S3's multipart form `"<md5 of part md5s>-<parts>"`. */
  eTag: string;
  parts: number;
}

/**
 * Stores the request body as `bucket/key`. A body that fits in one part goes as a plain PutObject; a bigger one
 * as a multipart upload, aborted on any failure (including the client going away), so that nothing is left.
 *
 * The ETag differs from real S3 for a large single PUT (there: the MD5 of the body; here: the multipart
 * form). It is the ETag the emulator stores, so HeadObject, GetObject and the S3 event agree with it.
 * Content-MD5 and x-amz-checksum-* are not verified, as the emulator does not verify them on a PutObject either.
 */
export async function putLargeObject(
  upstream: Upstream,
  req: IncomingMessage,
  bucket: string,
  key: string,
): Promise<LargePutResult> {
  const headers = objectHeaders(req.headers);
  const path = objectPath(bucket, key);
  // Not destroyed when reading stops early, so that an error answer can still reach the client.
  let payload: AsyncIterable<Buffer> = {
    [Symbol.asyncIterator]: () => req.iterator({ destroyOnReturn: false }),
  };
  if (isAwsChunked(req.headers)) payload = decodeAwsChunked(payload);
  const parts = fixedParts(counted(payload, declaredLength(req.headers)), PART_SIZE);

  let first: Buffer | undefined;
  let uploadId: string | undefined;
  let inFlight: Promise<void> | undefined;
  const eTags: string[] = [];
  const uploadPart = async (number: number, body: Buffer): Promise<void> => {
    const answer = await send(
      upstream,
      'PUT',
      `${path}?partNumber=${number}&uploadId=${encodeURIComponent(uploadId!)}`,
      { 'content-type': 'application/octet-stream' },
      body,
    );
    eTags[number - 1] = header(answer.headers, 'etag') ?? '';
  };

  try {
    let number = 0;
    for await (const part of parts) {
      number += 1;
      if (number === 1) {
        first = part;
        continue;
      }
      if (uploadId === undefined) {
        const created = await send(upstream, 'POST', `${path}?uploads`, headers);
        uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created.body.toString('utf8'))?.[1];
        if (!uploadId) throw new Error('the emulator returned no UploadId');
        await uploadPart(1, first!);
      }
      await inFlight;
      inFlight = uploadPart(number, part);
      // Read on while the part uploads; a failure surfaces at the next await.
      inFlight.catch(() => {});
    }
    if (uploadId === undefined) {
      const answer = await send(upstream, 'PUT', path, headers, first ?? Buffer.alloc(0));
      return { eTag: header(answer.headers, 'etag') ?? '', parts: 1 };
    }
    await inFlight;
    const xml =
      '<CompleteMultipartUpload>' +
      eTags.map((eTag, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${eTag}</ETag></Part>`).join('') +
      '</CompleteMultipartUpload>';
    const completed = await send(
      upstream,
      'POST',
      `${path}?uploadId=${encodeURIComponent(uploadId)}`,
      { 'content-type': 'application/xml' },
      Buffer.from(xml),
    );
    const eTag = /<ETag>([^<]+)<\/ETag>/.exec(completed.body.toString('utf8'))?.[1] ?? '';
    return { eTag: eTag.replaceAll('&quot;', '"'), parts: eTags.length };
  } catch (error) {
    await inFlight?.catch(() => {});
    if (uploadId !== undefined) {
      await send(upstream, 'DELETE', `${path}?uploadId=${encodeURIComponent(uploadId)}`, {}).catch(() => {});
    }
    throw error instanceof AwsChunkedError ? new BadBodyError(error.message) : error;
  }
}
