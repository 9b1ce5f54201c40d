import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { signingWindowSeconds } from '@thumbs/runtime';

export interface SignedUrl {
  url: string;
  signedAt: number;
  expiresAt: number;
}

/**
 * Presigned GET URLs, one per key, reused until they are due for renewal (well before they expire), so a
 * browser never holds an expired link. A URL lives at most as long as the credentials that signed it, so
 * renewal follows the credentials too. Signing is local (HMAC): it makes no request to S3. Bounded: the
 * least recently used keys are forgotten first.
 */
export class PresignCache {
  private readonly cache = new Map<string, SignedUrl>();
  private readonly s3: S3Client;
  private readonly bucket: string;
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  signed = 0;

  constructor(options: { s3: S3Client; bucket: string; ttlSeconds: number; maxEntries?: number }) {
    this.s3 = options.s3;
    this.bucket = options.bucket;
    this.ttlMs = options.ttlSeconds * 1000;
    this.maxEntries = options.maxEntries ?? 20_000;
  }

  /** True when the cached URL for `key` is missing or due for renewal at `now`: 5/6 of its life gone. */
  needsRenewal(key: string, now = Date.now()): boolean {
    const cached = this.cache.get(key);
    return !cached || now - cached.signedAt >= ((cached.expiresAt - cached.signedAt) * 5) / 6;
  }

  async get(key: string, now = Date.now()): Promise<SignedUrl> {
    const cached = this.cache.get(key);
    if (cached && !this.needsRenewal(key, now)) {
      this.cache.delete(key);
      this.cache.set(key, cached);
      return cached;
    }
    const expiresIn = await signingWindowSeconds(this.s3, this.ttlMs / 1000, now);
    const url = await getSignedUrl(this.s3, new GetObjectCommand({ Bucket: this.bucket, Key: key }), {
      expiresIn,
      signingDate: new Date(now),
    });
    const signed = { url, signedAt: now, expiresAt: now + expiresIn * 1000 };
    this.signed++;
    this.cache.delete(key);
    this.cache.set(key, signed);
    if (this.cache.size > this.maxEntries) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    return signed;
  }

  forget(key: string): void {
    this.cache.delete(key);
  }

  clear(): void {
    this.cache.clear();
  }
}
