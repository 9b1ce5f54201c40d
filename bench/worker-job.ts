/**
 * One video through one method, in its own process as a worker pod would run it, so that its memory is
 * measured apart from the emulator's: `node bench/worker-job.ts <ours|seed> <endpoint> <bucket> <key>`, with
 * the worker role's credentials in AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN.
 * Scratch files go under TMPDIR. Prints `{"ms": …}`: the time of the per-video work alone, without the
 * process start-up, which is the same for both methods.
 */
import { tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createAwsClients } from '@thumbs/runtime';
import { loadWorkerConfig } from '../apps/worker/src/config.ts';
import { headSource, makeThumbnails } from '../apps/worker/src/process-video.ts';
import { seedMakeThumbnails } from './seed-worker.ts';

const [method, endpoint = '', bucket = '', key = ''] = process.argv.slice(2);
const config = loadWorkerConfig({ S3_BUCKET: bucket });
// Credentials from the environment (the worker role's, given by bench/worker-bench.ts), as in a worker pod.
const { s3 } = createAwsClients({ region: config.region, endpoint });

async function ours(): Promise<void> {
  const source = await headSource(s3, bucket, key);
  if (!source) throw new Error(`${key} is not in bucket ${bucket}`);
  await makeThumbnails(
    {
      s3,
      bucket,
      thumbnailPrefix: config.thumbnailPrefix,
      maxWidth: config.thumbnailMaxWidth,
      quality: config.jpegQuality,
      timeoutMs: config.ffmpegTimeoutSeconds * 1000,
    },
    source,
  );
}

const seed = () => seedMakeThumbnails({ s3, bucket, thumbnailPrefix: 'thumbnails/', workDir: tmpdir() }, key);

const jobs: Record<string, () => Promise<unknown>> = { ours, seed };
const job = jobs[method ?? ''];
if (!job) throw new Error(`usage: worker-job.ts <ours|seed> <endpoint> <bucket> <key>`);
const started = performance.now();
await job();
process.stdout.write(`${JSON.stringify({ ms: performance.now() - started })}\n`);
s3.destroy();
