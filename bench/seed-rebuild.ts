/**
 * The seed's API state rebuild, as its 5 s tick runs it: list every thumbnail, presign every one, serialize the
 * whole state. Used in-process by state-cost.ts and as its own process by bench/seed-api.ts.
 */
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { parseThumbnailKey } from '@thumbs/model';

export interface SeedRebuild {
  ms: number;
  bytes: number;
  requests: number;
}

export async function seedRebuild(
  s3: S3Client,
  bucket: string,
  onPage: (pages: number) => void = () => {},
): Promise<SeedRebuild> {
  const started = performance.now();
  let requests = 0;
  const thumbnails = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: 'thumbnails/', ContinuationToken: token }),
    );
    requests++;
    onPage(requests);
    for (const object of page.Contents ?? []) {
      const parsed = object.Key ? parseThumbnailKey(object.Key) : undefined;
      if (!object.Key || !parsed) continue;
      const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: object.Key }), {
        expiresIn: 3600,
      });
      thumbnails.push({
        key: object.Key,
        url,
        ...parsed,
        lastModified: object.LastModified?.toISOString(),
        size: object.Size,
      });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  const bytes = Buffer.byteLength(JSON.stringify({ type: 'snapshot', state: { thumbnails } }));
  return { ms: performance.now() - started, bytes, requests };
}
