import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListPartsCommand,
  S3ServiceException,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { signingWindowSeconds } from '@thumbs/runtime';
import type {
  CompletedUpload,
  CompleteUploadRequest,
  MultipartUpload,
  MultipartUploadRef,
  SignedParts,
  UploadedParts,
} from '@thumbs/model';
import { safeUploadName } from './bucket.ts';

/** S3's limits: 10,000 parts, each 5 MiB … 5 GiB except the last, 5 TiB in all. */
export const MAX_PARTS = 10_000;
export const MIN_PART_SIZE = 5 * 1024 ** 2;
export const MAX_OBJECT_SIZE = 5 * 1024 ** 4;
/** Parts of 8 MiB until a file needs bigger ones to fit in 10,000 (from 78 GiB on). */
const PREFERRED_PART_SIZE = 8 * 1024 ** 2;

/** The part size for a file of `size` bytes: whole MiB, at least 8 MiB, at most 10,000 parts. */
export function partSizeFor(size: number): number {
  const mib = 1024 ** 2;
  return Math.max(PREFERRED_PART_SIZE, Math.ceil(size / MAX_PARTS / mib) * mib);
}

/** An answer from S3 that the caller must see (a 4xx about the upload, not an outage). */
export class UploadRefused extends Error {
  readonly status: 400 | 404;

  constructor(status: 400 | 404, message: string) {
    super(message);
    this.status = status;
  }
}

const REFUSALS: Record<string, 400 | 404> = {
  NoSuchUpload: 404,
  InvalidPart: 400,
  InvalidPartOrder: 400,
  EntityTooSmall: 400,
  MalformedXML: 400,
};

/** S3's refusals of a caller's mistake become UploadRefused; anything else stays an error (502). */
async function refusalsOf<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    const status = error instanceof S3ServiceException ? REFUSALS[error.name] : undefined;
    if (status) throw new UploadRefused(status, `${(error as Error).name}: ${(error as Error).message}`);
    throw error;
  }
}

export interface MultipartUploadsOptions {
  s3: S3Client;
  /** Signs part URLs (configured without default checksums, as for single PUTs). */
  signer: S3Client;
  bucket: string;
  uploadPrefix: string;
  urlTtlSeconds: number;
}

/** The S3 side of the dashboard's resumable uploads. */
export class MultipartUploads {
  private readonly options: MultipartUploadsOptions;

  constructor(options: MultipartUploadsOptions) {
    this.options = options;
  }

  async create(file: { filename: string; contentType: string; size: number }): Promise<MultipartUpload> {
    const key = `${this.options.uploadPrefix}${safeUploadName(file.filename)}`;
    const answer = await this.options.s3.send(
      new CreateMultipartUploadCommand({
        Bucket: this.options.bucket,
        Key: key,
        ContentType: file.contentType,
      }),
    );
    if (!answer.UploadId) throw new Error('S3 answered CreateMultipartUpload without an UploadId');
    const partSize = partSizeFor(file.size);
    return { key, uploadId: answer.UploadId, partSize, partCount: Math.ceil(file.size / partSize) };
  }

  /** Presigned UploadPart URLs; S3 itself refuses an unknown upload ID when the browser uses one. */
  async signParts(upload: MultipartUploadRef, partNumbers: number[]): Promise<SignedParts> {
    const now = Date.now();
    const expiresIn = await signingWindowSeconds(this.options.signer, this.options.urlTtlSeconds, now);
    const parts = await Promise.all(
      partNumbers.map(async (partNumber) => ({
        partNumber,
        url: await getSignedUrl(
          this.options.signer,
          new UploadPartCommand({
            Bucket: this.options.bucket,
            Key: upload.key,
            UploadId: upload.uploadId,
            PartNumber: partNumber,
          }),
          { expiresIn, signingDate: new Date(now) },
        ),
      })),
    );
    return { parts, expiresAt: new Date(now + expiresIn * 1000).toISOString() };
  }

  /** Every part S3 holds for the upload (all pages), to resume after a reload or a lost connection. */
  async listParts(upload: MultipartUploadRef): Promise<UploadedParts> {
    const parts: UploadedParts['parts'] = [];
    let marker: string | undefined;
    do {
      const page = await refusalsOf(
        this.options.s3.send(
          new ListPartsCommand({
            Bucket: this.options.bucket,
            Key: upload.key,
            UploadId: upload.uploadId,
            PartNumberMarker: marker,
          }),
        ),
      );
      for (const part of page.Parts ?? []) {
        if (part.PartNumber && part.ETag)
          parts.push({ partNumber: part.PartNumber, eTag: part.ETag, size: part.Size ?? 0 });
      }
      marker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
    } while (marker);
    return { parts };
  }

  async complete(request: CompleteUploadRequest): Promise<CompletedUpload> {
    const parts = [...request.parts].sort((a, b) => a.partNumber - b.partNumber);
    const answer = await refusalsOf(
      this.options.s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.options.bucket,
          Key: request.key,
          UploadId: request.uploadId,
          MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.eTag })) },
        }),
      ),
    );
    return { key: request.key, eTag: answer.ETag ?? '' };
  }

  async abort(upload: MultipartUploadRef): Promise<void> {
    await refusalsOf(
      this.options.s3.send(
        new AbortMultipartUploadCommand({
          Bucket: this.options.bucket,
          Key: upload.key,
          UploadId: upload.uploadId,
        }),
      ),
    );
  }
}
