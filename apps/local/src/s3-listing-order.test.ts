import {
  CreateBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compareKeys, sortable } from './s3-listing-order.ts';
import { startLocalAws, type LocalAws } from './testing/local-aws.ts';

const BUCKET = 'thumbnail-pipeline';
// Mixed case, punctuation, a nested "folder", non-ASCII names: where localeCompare and bytes disagree.
const NAMES = [
  'b.mp4',
  'B.mp4',
  'a.mp4',
  'C.mp4',
  '_x.mp4',
  'Z/1.mp4',
  'z/2.mp4',
  'é.mp4',
  'e.mp4',
  // Where UTF-16 order and byte order part: an astral letter (surrogates) and one from U+FF00.
  '𝐀.mp4',
  'ｚ.mp4',
];
const KEYS = NAMES.map((name) => `uploads/order/${name}`);

describe('sortable', () => {
  it('orders any two strings as their UTF-8 bytes', () => {
    const text = fc.string({ unit: 'binary', maxLength: 6 });
    fc.assert(
      fc.property(text, text, (a, b) => {
        const x = sortable(a);
        const y = sortable(b);
        expect(Math.sign(x < y ? -1 : x > y ? 1 : 0)).toBe(Math.sign(compareKeys(a, b)));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('S3 listings in byte order', () => {
  let aws: LocalAws;
  let s3: S3Client;

  beforeAll(async () => {
    aws = await startLocalAws({ enforce: true });
    s3 = aws.clients('deployer').s3;
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    for (const Key of KEYS) await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: 'x' }));
  });

  afterAll(async () => {
    s3?.destroy();
    await aws?.stop();
  });

  const list = (input: {
    StartAfter?: string;
    ContinuationToken?: string;
    MaxKeys?: number;
    Delimiter?: string;
  }) => s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'uploads/order/', ...input }));

  it('lists one page in UTF-8 byte order', async () => {
    const page = await list({});
    expect(page.Contents?.map((o) => o.Key)).toEqual([...KEYS].sort(compareKeys));
  });

  it('pages through every key exactly once, one key per page', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await list({ MaxKeys: 1, ContinuationToken: token });
      seen.push(...(page.Contents ?? []).map((o) => o.Key ?? ''));
      token = page.NextContinuationToken;
    } while (token);
    expect(seen).toEqual([...KEYS].sort(compareKeys));
  });

  it('starts after a key by byte order, and groups folders in order', async () => {
    const after = await list({ StartAfter: 'uploads/order/a.mp4' });
    expect(after.Contents?.map((o) => o.Key)).toEqual(
      [...KEYS].sort(compareKeys).filter((key) => compareKeys(key, 'uploads/order/a.mp4') > 0),
    );
    const folders = await list({ Delimiter: '/' });
    expect(folders.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['uploads/order/Z/', 'uploads/order/z/']);
  });
});
