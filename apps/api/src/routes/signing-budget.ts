import { setNewest } from '@thumbs/runtime';

/**
 * How many URL signatures each client address may cause: a token bucket of `perMinute`, refilled evenly.
 * Signing is local CPU (no S3 request), and paging past the presign cache is what makes a client pay it, so
 * this bounds that cost per address. Bounded memory: the least recently seen addresses are forgotten first
 * (a forgotten address starts again with a full bucket).
 */
export class SigningBudget {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly perMinute: number;
  private readonly maxAddresses: number;

  constructor(perMinute: number, maxAddresses = 10_000) {
    this.perMinute = perMinute;
    this.maxAddresses = maxAddresses;
  }

  /** Spends up to `wanted` signatures of `address`'s budget; returns how many it may make now. */
  take(address: string, wanted: number, now = Date.now()): number {
    const bucket = this.refilled(address, now);
    const granted = Math.min(wanted, Math.floor(bucket.tokens));
    bucket.tokens -= granted;
    setNewest(this.buckets, address, bucket, this.maxAddresses);
    return granted;
  }

  /** Seconds until `address` may make one more signature. */
  retryAfterSeconds(address: string, now = Date.now()): number {
    const missing = 1 - this.refilled(address, now).tokens;
    return Math.max(1, Math.ceil((missing * 60) / this.perMinute));
  }

  private refilled(address: string, now: number): { tokens: number; at: number } {
    const bucket = this.buckets.get(address) ?? { tokens: this.perMinute, at: now };
    bucket.tokens = Math.min(this.perMinute, bucket.tokens + ((now - bucket.at) * this.perMinute) / 60_000);
    bucket.at = now;
    return bucket;
  }
}
