/**
 * The worker's per-video path against the seed's method on the same videos, in the local S3 (apps/local's
 * emulator behind the worker's counting proxy), both signing as the worker role. Each run is a separate process (bench/worker-job.ts) that
 * times its own work, as a worker pod would do it: ours is HEAD the source, then makeThumbnails (ffprobe +
 * one ffmpeg reading through the worker's loopback range relay, which fetches bounded windows of the object
 * and keeps them for the job; three uploads); the seed's is download, ffprobe, three ffmpeg runs, three
 * uploads. SQS receive and delete are left out of both: they are the same for both methods. Runs alternate
 * which method goes first.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { roleCredentials } from '../apps/local/src/aws-auth/component-credentials.ts';
import type { IdentityAuthority } from '../apps/local/src/aws-auth/identities.ts';
import { startAwsEmulator } from '../apps/local/src/aws-emulator.ts';
import { silentLog } from '../apps/local/src/log.ts';
import { enforcementFromEnv, REGION } from '../apps/local/src/testing/local-aws.ts';
import { LOCAL_DEPLOYMENT } from '@thumbs/iam';
import { startCountingProxy, type CountingProxy } from '../apps/worker/src/testing/counting-proxy.ts';
import { putObject } from '../apps/worker/src/testing/emulator.ts';
import { median, MB, type BenchContext } from './context.ts';
import { ratioOf, type Figure } from './figures.ts';
import { largeVideo, sixtySecondClip, type Input } from './inputs.ts';
import { sampleUsage, type Usage } from './usage-sampler.ts';

const DEPLOYMENT = LOCAL_DEPLOYMENT;
const BUCKET = DEPLOYMENT.bucketName;

export interface Run extends Usage {
  method: 'ours' | 'seed';
  ms: number;
  bytesRead: number;
  requests: number;
}

interface InputResult {
  input: Input;
  ours: Run[];
  seed: Run[];
}

function objectReads(proxy: CountingProxy, key: string): { bytes: number; requests: number } {
  const path = `/${BUCKET}/${key}`;
  const reads = proxy.requests.filter(
    (r) => r.method === 'GET' && decodeURIComponent(r.path.split('?')[0] ?? '') === path,
  );
  return { bytes: reads.reduce((sum, r) => sum + r.bytes, 0), requests: reads.length };
}

const JOB = join(import.meta.dirname, 'worker-job.ts');

/**
 * Runs one method on one video in its own process against the S3 at `endpoint`, signing as the worker role
 * (temporary credentials in its environment, as a pod's SDK holds them); its memory and scratch disk are
 * sampled meanwhile unless `sample` is false (sampling /proc every 20 ms takes CPU from what is timed).
 */
export async function timeJob(
  method: Run['method'],
  scratch: string,
  endpoint: string,
  authority: IdentityAuthority,
  key: string,
  { sample = true } = {},
): Promise<Usage & { ms: number }> {
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  const worker = authority.issue('worker', 3600, { deployment: DEPLOYMENT });
  const child = spawn(process.execPath, [JOB, method, endpoint, BUCKET, key], {
    env: {
      ...process.env,
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: worker.accessKeyId,
      AWS_SECRET_ACCESS_KEY: worker.secretAccessKey,
      AWS_SESSION_TOKEN: worker.sessionToken,
      TMPDIR: scratch,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stop = sample
    ? sampleUsage(child.pid ?? 0, scratch)
    : () => ({ memoryPeakBytes: 0, diskPeakBytes: 0 });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const usage: Usage = stop();
  if (code !== 0) throw new Error(`${method} failed on ${key} (exit ${code}): ${stderr.trim()}`);
  const { ms } = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { ms: number };
  return { ms, ...usage };
}

/** timeJob through the counting proxy, with the bytes and GETs of the object that storage sent. */
async function measure(
  method: Run['method'],
  scratch: string,
  { proxy, authority }: BenchStorage,
  key: string,
): Promise<Run> {
  proxy.requests.length = 0;
  const timed = await timeJob(method, scratch, proxy.url, authority, key);
  const reads = objectReads(proxy, key);
  return { method, ...timed, bytesRead: reads.bytes, requests: reads.requests };
}

export interface BenchStorage {
  /** The emulator behind a proxy that counts what it sends. */
  proxy: CountingProxy;
  /** The emulator itself, for runs timed with nothing between storage and the job (as in AWS). */
  endpoint: string;
  authority: IdentityAuthority;
  /** Puts the input into the bucket; gives its key. */
  upload(input: Input): Promise<string>;
}

/** The local S3 (the emulator behind the counting proxy) with the bench's bucket, for the time of `work`. */
export async function withBenchStorage(
  ctx: BenchContext,
  work: (storage: BenchStorage) => Promise<void>,
): Promise<void> {
  const emulator = await startAwsEmulator({
    dataDir: join(ctx.scratchDir, 'worker-aws'),
    port: 0,
    region: REGION,
    deployment: DEPLOYMENT,
    enforce: enforcementFromEnv(),
    sessionSeconds: 3600,
    log: silentLog,
  });
  const proxy = await startCountingProxy(emulator.endpoint);
  // The bench's own set-up (the bucket, the uploads) is the operator's: the deploy role, as Terraform's.
  const s3 = new S3Client({
    endpoint: emulator.endpoint,
    region: REGION,
    forcePathStyle: true,
    credentials: roleCredentials(emulator.authority, 'deployer', 3600, DEPLOYMENT),
  });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await work({
      proxy,
      endpoint: emulator.endpoint,
      authority: emulator.authority,
      upload: async (input) => {
        const key = `uploads/${input.name}`;
        ctx.say(`worker: uploading ${input.name} (${(input.bytes / MB).toFixed(0)} MB) to the local S3 …`);
        await putObject(s3, BUCKET, key, readFileSync(input.path));
        return key;
      },
    });
  } finally {
    s3.destroy();
    await proxy.close();
    await emulator.stop();
  }
}

export async function benchWorker(ctx: BenchContext): Promise<Figure[]> {
  const { say } = ctx;
  const inputs = [
    { id: 'clip60', input: await sixtySecondClip(ctx.inputDir, say) },
    {
      id: 'large',
      input: await largeVideo(
        ctx.inputDir,
        { gopSeconds: 1, loops: ctx.quick ? 1 : 7, faststart: true },
        say,
      ),
    },
    ...(ctx.quick
      ? []
      : [
          {
            id: 'largeGop10',
            input: await largeVideo(ctx.inputDir, { gopSeconds: 10, loops: 7, faststart: true }, say),
          },
          {
            id: 'largeMoovLast',
            input: await largeVideo(ctx.inputDir, { gopSeconds: 1, loops: 7, faststart: false }, say),
          },
        ]),
  ];

  const results: Record<string, InputResult> = {};
  await withBenchStorage(ctx, async (storage) => {
    for (const { id, input } of inputs) {
      const key = await storage.upload(input);
      const result: InputResult = { input, ours: [], seed: [] };
      // The extra variants are there to show a trend, once each, to keep the whole bench under ~25 minutes.
      const repetitions = ctx.quick ? 1 : (({ clip60: 3, large: 2 } as Record<string, number>)[id] ?? 1);
      const run = async (method: Run['method']) => {
        const scratch = join(ctx.scratchDir, `worker-${method}`);
        const measured = await measure(method, scratch, storage, key);
        result[method].push(measured);
        return measured;
      };
      for (let i = 0; i < repetitions; i++) {
        for (const method of i % 2 ? (['seed', 'ours'] as const) : (['ours', 'seed'] as const)) {
          const measured = await run(method);
          say(
            `  ${input.name} ${method}: ${(measured.ms / 1000).toFixed(2)} s, ` +
              `read ${(measured.bytesRead / MB).toFixed(1)} MB in ${measured.requests} GETs, ` +
              `memory peak ${(measured.memoryPeakBytes / MB).toFixed(0)} MB, ` +
              `disk peak ${(measured.diskPeakBytes / MB).toFixed(1)} MB`,
          );
        }
      }
      results[id] = result;
    }
  });
  ctx.details.worker = Object.fromEntries(
    Object.entries(results).map(([id, r]) => [id, { input: r.input, ours: r.ours, seed: r.seed }]),
  );
  return workerFigures(results);
}

const seconds = (runs: Run[]) => {
  const ms = median(runs.map((r) => r.ms));
  return ms === null ? null : ms / 1000;
};
const maxOf = (runs: Run[], pick: (r: Run) => number) => (runs.length ? Math.max(...runs.map(pick)) : null);
const memory = (r: Run) => r.memoryPeakBytes / MB;

function workerFigures(results: Record<string, InputResult>): Figure[] {
  const figures: Figure[] = [];
  const clip = results.clip60;
  const large = results.large;
  if (!clip || !large) return figures;
  const label = (r: InputResult) => `${r.input.description}, ${(r.input.bytes / MB).toFixed(0)} MB`;
  const time = (r: InputResult, goal: string, met: (ratio: number) => boolean): Figure => {
    const ratio = ratioOf(seconds(r.ours), seconds(r.seed));
    return {
      section: 'worker',
      name: `worker: wall time per video (${label(r)})`,
      unit: 's',
      ours: seconds(r.ours),
      seed: seconds(r.seed),
      ratio,
      goal,
      met: goal && ratio !== null ? met(ratio) : null,
      note: 'median of the runs; ratio = ours ÷ seed',
    };
  };
  const read = (r: InputResult, goal: string): Figure => {
    const share = (runs: Run[]) => {
      const bytes = median(runs.map((run) => run.bytesRead));
      return bytes === null ? null : (100 * bytes) / r.input.bytes;
    };
    return {
      section: 'worker',
      name: `worker: bytes read from S3, % of the file (${label(r)})`,
      unit: '%',
      ours: share(r.ours),
      seed: share(r.seed),
      ratio: ratioOf(share(r.ours), share(r.seed)),
      goal,
      met: goal ? (share(r.ours) ?? Infinity) <= 5 : null,
    };
  };
  figures.push(time(clip, '≤ seed (ratio ≤ 1)', (ratio) => ratio <= 1));
  figures.push(time(large, '≥ 3× faster (ratio ≤ 0.33)', (ratio) => ratio <= 1 / 3));
  figures.push(read(large, '≤ 5 %'));
  figures.push(read(clip, ''));
  for (const id of ['largeGop10', 'largeMoovLast']) {
    const extra = results[id];
    if (extra)
      figures.push(
        time(extra, '', () => false),
        read(extra, ''),
      );
  }
  const bounded = (name: string, unit: string, pick: (r: Run) => number): Figure[] => {
    const small = maxOf(clip.ours, pick);
    const big = maxOf(large.ours, pick);
    const growth = ratioOf(big, small);
    return [
      {
        section: 'worker',
        name: `worker: ${name} (${label(clip)})`,
        unit,
        ours: small,
        seed: maxOf(clip.seed, pick),
        ratio: ratioOf(small, maxOf(clip.seed, pick)),
        goal: '',
        met: null,
      },
      {
        section: 'worker',
        name: `worker: ${name} (${label(large)})`,
        unit,
        ours: big,
        seed: maxOf(large.seed, pick),
        ratio: ratioOf(big, maxOf(large.seed, pick)),
        goal: `bounded: ours on this video ≤ 2× ours on the 60 s clip (${(large.input.bytes / clip.input.bytes).toFixed(0)}× the bytes)`,
        met: growth === null ? null : growth <= 2,
        note: `ours here ÷ ours on the 60 s clip = ${growth === null ? '—' : growth.toFixed(2)}`,
      },
    ];
  };
  figures.push(...bounded('peak memory, worker process + ffmpeg/ffprobe', 'MB', memory));
  figures.push(...bounded('peak disk in the temp dir', 'MB', (r) => r.diskPeakBytes / MB));
  return figures;
}
