/**
 * The seed's state rebuild (bench/seed-rebuild.ts) as its own process, so that its memory is measured
 * apart from ours: `node bench/seed-api.ts <bucket>`, AWS settings from the environment. It prints a line per 100
 * pages and, at the end, its figures as JSON.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { seedRebuild } from './seed-rebuild.ts';

const bucket = process.argv[2] ?? 'thumbnail-pipeline';
const s3 = new S3Client({ forcePathStyle: true });
const result = await seedRebuild(s3, bucket, (pages) => {
  if (pages % 100 === 0) process.stdout.write(`${JSON.stringify({ pages })}\n`);
});
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
