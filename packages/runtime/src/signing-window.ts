import type { S3Client } from '@aws-sdk/client-s3';

/**
 * How long a URL signed now may live: what was asked, but never past the expiry of the credentials that sign
 * it. Under IRSA those are STS session credentials (about an hour, renewed by the SDK a few minutes before
 * they expire), and a presigned URL dies with its session, whatever its X-Amz-Expires says.
 */
export async function signingWindowSeconds(
  s3: S3Client,
  wantedSeconds: number,
  now = Date.now(),
): Promise<number> {
  const { expiration } = await s3.config.credentials();
  if (!expiration) return wantedSeconds;
  return Math.max(1, Math.min(wantedSeconds, Math.floor((expiration.getTime() - now) / 1000)));
}
