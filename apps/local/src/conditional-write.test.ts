import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startLocalAws, type LocalAws } from './testing/local-aws.ts';

let aws: LocalAws;
let s3: S3Client;
const Bucket = 'conditional-writes';

beforeAll(async () => {
  aws = await startLocalAws({ enforce: true });
  s3 = aws.clients('deployer').s3;
  await s3.send(new CreateBucketCommand({ Bucket }));
});

afterAll(async () => {
  s3?.destroy();
  await aws?.stop();
});

const put = (Key: string, conditions: { IfNoneMatch?: string; IfMatch?: string }) =>
  s3.send(new PutObjectCommand({ Bucket, Key, Body: `written at ${Date.now()}`, ...conditions }));

it('writes with If-None-Match: * only a key that does not exist yet', async () => {
  await put('leases/a.json', { IfNoneMatch: '*' });
  await expect(put('leases/a.json', { IfNoneMatch: '*' })).rejects.toMatchObject({
    name: 'PreconditionFailed',
    $metadata: { httpStatusCode: 412 },
  });
});

it('writes with If-Match only over the ETag given, and not a missing key', async () => {
  const first = await put('leases/b.json', {});
  const second = await put('leases/b.json', { IfMatch: first.ETag });
  await expect(put('leases/b.json', { IfMatch: first.ETag })).rejects.toMatchObject({
    $metadata: { httpStatusCode: 412 },
  });
  await put('leases/b.json', { IfMatch: second.ETag });
  await expect(put('leases/missing.json', { IfMatch: '"abc"' })).rejects.toMatchObject({
    $metadata: { httpStatusCode: 404 },
  });
});

it('lets exactly one of many racing writers create the key', async () => {
  const results = await Promise.allSettled(
    Array.from({ length: 12 }, () => put('leases/race.json', { IfNoneMatch: '*' })),
  );
  expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
});
