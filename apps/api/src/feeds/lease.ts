/**
 * A lease held in one S3 object with conditional writes, so that of all API replicas only one does a job at
 * a time (the backfill sweep) with no coordinator: creating the object needs `If-None-Match: *`, taking over
 * an expired lease or renewing one's own needs `If-Match` on the ETag read, and S3 lets one writer win.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

export interface LeaseOptions {
  s3: S3Client;
  bucket: string;
  key: string;
  /** This replica's name (its pod name in EKS). */
  holder: string;
  ttlMs: number;
}

interface LeaseBody {
  holder: string;
  until: number;
}

const status = (error: unknown) =>
  (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;

export class S3Lease {
  private readonly options: LeaseOptions;

  constructor(options: LeaseOptions) {
    this.options = options;
  }

  /** Takes or renews the lease; false when another holder has it (or won the race for it). */
  async acquire(now = Date.now()): Promise<boolean> {
    const { s3, bucket, key, holder, ttlMs } = this.options;
    const current = await this.read();
    if (current && current.body.holder !== holder && current.body.until > now) return false;
    const body: LeaseBody = { holder, until: now + ttlMs };
    try {
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: JSON.stringify(body),
          ContentType: 'application/json',
          ...(current ? { IfMatch: current.eTag } : { IfNoneMatch: '*' }),
        }),
      );
      return true;
    } catch (error) {
      // 412: another replica wrote first; 409: a conditional write to the key was in progress.
      if (status(error) === 412 || status(error) === 409) return false;
      throw error;
    }
  }

  private async read(): Promise<{ body: LeaseBody; eTag: string } | undefined> {
    const { s3, bucket, key } = this.options;
    try {
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const text = (await object.Body?.transformToString()) ?? '';
      let body: LeaseBody;
      try {
        body = JSON.parse(text) as LeaseBody;
      } catch {
        // An unreadable lease is an expired one: whoever overwrites it first holds it.
        body = { holder: '', until: 0 };
      }
      return { body, eTag: object.ETag ?? '' };
    } catch (error) {
      if (status(error) === 404) return undefined;
      throw error;
    }
  }
}
