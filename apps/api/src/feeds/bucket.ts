import { randomBytes } from 'node:crypto';
import {
  CopyObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  type S3Client,
  type _Object,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { signingWindowSeconds } from '@thumbs/runtime';
import {
  failureKey,
  isFailureKind,
  isVideoKey,
  truncateText,
  videoExtension,
  type FailureRecord,
} from '@thumbs/model';

export interface BucketOptions {
  s3: S3Client;
  /** Signs upload URLs (configured without default checksums). */
  signer: S3Client;
  bucket: string;
  uploadPrefix: string;
  failurePrefix: string;
  testSourceBucket: string;
}

export interface PresignedUpload {
  key: string;
  url: string;
  method: 'PUT';
  headers: Record<string, string>;
  expiresAt: string;
}

export interface ListedPage {
  objects: _Object[];
  /** More keys follow this page. */
  truncated: boolean;
}

/** S3's listing order: UTF-8 bytes (JavaScript's `<` compares UTF-16 units, which differs past U+FFFF). */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

const MAX_NAME_LENGTH = 120;
const COPY_CONCURRENCY = 4;

/**
 * A safe object name from a browser-supplied file name: the last path segment only, no control characters,
 * no `..`, at most 120 characters (cut between graphemes: a key must stay valid UTF-16 to be signed), the video
 * extension kept; a short random suffix makes every upload its own object (two people uploading `clip.mp4`
 * never overwrite each other).
 */
export function safeUploadName(filename: string): string {
  const extension = videoExtension(filename) ?? '';
  const base = filename.split(/[/\\]/).pop() ?? '';
  // The extension is ASCII, so removing it never splits a character.
  const stem = base
    .slice(0, base.length - extension.length)
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .replace(/\.{2,}/g, '.')
    // Composed (NFC) so that accents stay on their letters; lone surrogates become `_` like other odd characters.
    .normalize('NFC')
    .replace(/[^\p{L}\p{M}\p{N} ._()-]/gu, '_')
    .trim();
  const cut = truncateText(stem, MAX_NAME_LENGTH - extension.length - 9).replace(/^[.\s]+|[.\s]+$/g, '');
  return `${cut || 'video'}-${randomBytes(4).toString('hex')}${extension.toLowerCase()}`;
}

/** The bucket operations behind the admin routes, the DLQ errors, the listings and readiness. */
export class Bucket {
  private readonly options: BucketOptions;
  /** ListObjectsV2 requests made by listPages. */
  listRequests = 0;

  constructor(options: BucketOptions) {
    this.options = options;
  }

  /** A presigned PUT bound to the key, content type and content length: the browser can upload exactly that. */
  async presignUpload(
    file: { filename: string; contentType: string; size: number },
    ttlSeconds: number,
  ): Promise<PresignedUpload> {
    const key = `${this.options.uploadPrefix}${safeUploadName(file.filename)}`;
    const command = new PutObjectCommand({
      Bucket: this.options.bucket,
      Key: key,
      ContentType: file.contentType,
      ContentLength: file.size,
    });
    // One clock reading for the window, the signature's date and the announced expiry, so that expiresAt is
    // never later than the credentials' expiration.
    const now = Date.now();
    const expiresIn = await signingWindowSeconds(this.options.signer, ttlSeconds, now);
    const url = await getSignedUrl(this.options.signer, command, {
      expiresIn,
      signingDate: new Date(now),
      signableHeaders: new Set(['content-type', 'content-length']),
    });
    return {
      key,
      url,
      method: 'PUT',
      headers: { 'Content-Type': file.contentType },
      expiresAt: new Date(now + expiresIn * 1000).toISOString(),
    };
  }

  /** Copies every video of the test source bucket into uploads/ (each copy is a new upload event). */
  async copyTestVideos(): Promise<string[]> {
    const sources = (await this.listKeys(this.options.testSourceBucket, '')).filter(isVideoKey);
    const copied: string[] = [];
    const stamp = Date.now().toString(36);
    const queue = [...sources];
    const copyNext = async (): Promise<void> => {
      for (let source = queue.shift(); source !== undefined; source = queue.shift()) {
        const name = source.split('/').pop() ?? source;
        const key = `${this.options.uploadPrefix}test-${stamp}/${name}`;
        await this.options.s3.send(
          new CopyObjectCommand({
            Bucket: this.options.bucket,
            Key: key,
            CopySource: `${this.options.testSourceBucket}/${source.split('/').map(encodeURIComponent).join('/')}`,
          }),
        );
        copied.push(key);
      }
    };
    await Promise.all(Array.from({ length: COPY_CONCURRENCY }, copyNext));
    return copied;
  }

  /** Deletes every object under the prefixes, 1000 keys per DeleteObjects, every page; returns the count. */
  async deleteUnder(prefixes: string[]): Promise<number> {
    let deleted = 0;
    for (const prefix of prefixes) {
      for (;;) {
        const page = await this.options.s3.send(
          new ListObjectsV2Command({ Bucket: this.options.bucket, Prefix: prefix, MaxKeys: 1000 }),
        );
        const keys = (page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
        if (keys.length === 0) break;
        const result = await this.options.s3.send(
          new DeleteObjectsCommand({ Bucket: this.options.bucket, Delete: { Objects: keys, Quiet: true } }),
        );
        if (result.Errors?.length) {
          const first = result.Errors[0];
          throw new Error(
            `could not delete ${result.Errors.length} objects (${first?.Key}: ${first?.Message})`,
          );
        }
        deleted += keys.length;
      }
    }
    return deleted;
  }

  /** The worker's record of why a video failed, if it wrote one. */
  async readFailure(source: string): Promise<FailureRecord | undefined> {
    try {
      const object = await this.options.s3.send(
        new GetObjectCommand({
          Bucket: this.options.bucket,
          Key: failureKey(source, this.options.failurePrefix),
        }),
      );
      const record: unknown = JSON.parse((await object.Body?.transformToString()) ?? 'null');
      if (
        typeof record === 'object' &&
        record !== null &&
        typeof (record as FailureRecord).error === 'string'
      ) {
        const { kind } = record as FailureRecord;
        // A kind this version does not know (a newer worker's) is shown without one rather than trusted.
        return { ...(record as FailureRecord), kind: isFailureKind(kind) ? kind : undefined };
      }
      return undefined;
    } catch (error) {
      if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey') return undefined;
      throw error;
    }
  }

  /**
   * The objects under a prefix, one ListObjectsV2 page at a time (at most `maxKeys`, 1000 by default), in S3's
   * key order, starting after `startAfter`. Stop iterating to stop listing.
   */
  async *listPages(
    prefix: string,
    options: { startAfter?: string; maxKeys?: number; bucket?: string } = {},
  ): AsyncGenerator<ListedPage> {
    let token: string | undefined;
    do {
      const page = await this.options.s3.send(
        new ListObjectsV2Command({
          Bucket: options.bucket ?? this.options.bucket,
          Prefix: prefix,
          // S3 ignores StartAfter once a continuation token is given.
          StartAfter: token ? undefined : options.startAfter,
          ContinuationToken: token,
          MaxKeys: options.maxKeys,
        }),
      );
      this.listRequests++;
      const truncated = Boolean(page.IsTruncated && page.NextContinuationToken);
      yield { objects: page.Contents ?? [], truncated };
      token = truncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  private async listKeys(bucket: string, prefix: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const page of this.listPages(prefix, { bucket }))
      for (const object of page.objects) if (object.Key) keys.push(object.Key);
    return keys;
  }
}
