/**
 * The API at scale (issue 16): 100,000 and 1,000,000 thumbnails in the emulator, the API as its own process
 * (as in a pod), beside the seed's rebuild as its own process:
 *  - peak RSS (VmHWM) of the process (ours with a heap limit, API_NODE_FLAGS; the seed's without, as it
 *    holds the whole bucket and would not run with it);
 *  - time to ready: spawn until /ready and /api/state answer (ours serves while it counts);
 *  - snapshot: GET /api/state, median of 10, while counting and once counted;
 *  - time until the background count is complete;
 *  - S3 requests per minute while idle, once counted: measured over a window (aws_requests_total), plus the
 *    walk's pages spread over its interval; the seed's are its listing pages times its ticks per minute.
 * Buckets are written once through the emulator's own store (its SQLite file, in one transaction) and cached
 * under .data/bench/scale-<size>/: a million PUTs would take longer than the rest of the bench.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { renderDeploymentPolicies } from '@thumbs/iam';
import type { Metrics } from '@thumbs/model';
import { startFauxqs } from 'fauxqs';
import { loadApiConfig } from '../apps/api/src/config.ts';
import { MAX_IDLE_REQUESTS_PER_MINUTE } from '../apps/api/src/feeds/thumbnails.ts';
import { apiEnv, createResources, startEmulator, type Resources } from '../apps/api/src/testing/harness.ts';
import { irsaEnv } from '../apps/local/src/aws-auth/component-credentials.ts';
import { deploymentOf } from '../apps/local/src/testing/local-aws.ts';
import { repoRoot } from '../apps/local/src/local-config.ts';
import { freePort } from '../apps/local/src/ports.ts';
import { benchDataDir, median, type BenchContext } from './context.ts';
import type { Figure } from './figures.ts';

const API_MAIN = join(repoRoot, 'apps/api/src/main.ts');
const SEED_API = join(import.meta.dirname, 'seed-api.ts');
const SUFFIX = 'scale';
const BUCKET = `thumbnail-pipeline-${SUFFIX}`;
const SEED_TICK_MS = 5000;
const MiB = 2 ** 20;
/**
 * The API's heap limits here, as NODE_OPTIONS would set them for a pod with a 256 MiB budget: without them,
 * V8 on this 24 GiB machine lets garbage pile up (mostly in its young generation) far past what the API holds
 * (about 60 MB live) before it collects.
 */
const API_NODE_FLAGS = ['--max-old-space-size=128', '--max-semi-space-size=2'];

export interface ScaleRow {
  thumbnails: number;
  ours: {
    peakRssMiB: number;
    readyMs: number;
    snapshotCountingMs: number;
    snapshotMs: number | null;
    countedMs: number | null;
    idleS3PerMinute: number | null;
    idleMeasuredS3PerMinute: number | null;
  };
  seed: {
    finished: boolean;
    peakRssMiB: number;
    rebuildMs: number | null;
    pages: number;
    idleS3PerMinute: number | null;
  };
}

/** The bucket's thumbnails written straight into the emulator's SQLite store, once per size. */
function cachedBucket(size: number, say: (line: string) => void): Promise<string> | string {
  const dir = join(benchDataDir, `scale-${size}`);
  if (existsSync(join(dir, 'complete'))) return dir;
  return (async () => {
    say(
      `scale: writing ${size.toLocaleString('en-US')} thumbnails into the emulator's store (cached in ${dir})`,
    );
    rmSync(dir, { recursive: true, force: true });
    // The emulator makes its own schema and bucket row; the objects go in beside them in one transaction.
    const fauxqs = await startFauxqs({ port: 0, logger: false, dataDir: dir });
    fauxqs.createBucket(BUCKET);
    await fauxqs.stop();
    const db = new DatabaseSync(join(dir, 'fauxqs.db'));
    const insert = db.prepare(
      `INSERT INTO s3_objects (bucket, key, body, content_type, content_length, etag, last_modified, metadata)
       VALUES (?, ?, ?, 'image/jpeg', ?, ?, ?, '{}')`,
    );
    const body = Buffer.from('tiny');
    const etag = `"${createHash('md5').update(body).digest('hex')}"`;
    const videos = Math.ceil(size / 3);
    const start = Date.parse('2026-01-01T00:00:00Z');
    db.exec('BEGIN');
    for (let n = 0; n < size; n++) {
      const video = Math.floor(n / 3);
      // Upload times scattered over the key order, as real uploads are.
      const time = new Date(start + ((video * 7919) % videos) * 1000).toISOString();
      const key = `thumbnails/uploads/video-${video}.mp4/${['10', '50', '95'][n % 3]}.jpg`;
      insert.run(BUCKET, key, body, body.length, etag, time);
    }
    db.exec('COMMIT');
    db.close();
    writeFileSync(join(dir, 'complete'), `${size}\n`);
    return dir;
  })();
}

/** Peak resident memory of a process so far (VmHWM), in MiB. */
function peakRssMiB(pid: number | undefined): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? (Number(match[1]) * 1024) / MiB : 0;
  } catch {
    return 0;
  }
}

async function ok(url: string): Promise<boolean> {
  try {
    return (await fetch(url)).ok;
  } catch {
    return false;
  }
}

async function until<T>(
  check: () => Promise<T | undefined>,
  timeoutMs: number,
  everyMs = 50,
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return undefined;
}

async function snapshotMs(url: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i <= 10; i++) {
    const t = performance.now();
    await (await fetch(`${url}/api/state`)).text();
    if (i > 0) times.push(performance.now() - t);
  }
  return median(times) ?? 0;
}

async function s3Requests(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^aws_requests_total\{service="s3"\} (\d+)/m.exec(text)?.[1] ?? 0);
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
  });
}

async function measureOurs(
  env: NodeJS.ProcessEnv,
  size: number,
  options: { countTimeoutMs: number; idleWindowMs: number },
): Promise<ScaleRow['ours']> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const childEnv = { ...env, API_PORT: String(port) };
  const started = performance.now();
  const child = spawn(process.execPath, [...API_NODE_FLAGS, API_MAIN], {
    env: childEnv,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  try {
    const ready = await until(
      async () => ((await ok(`${url}/ready`)) && (await ok(`${url}/api/state`)) ? true : undefined),
      60_000,
    );
    if (!ready) throw new Error('the API did not get ready within 60 s');
    const readyMs = performance.now() - started;
    const snapshotCountingMs = await snapshotMs(url);
    const counted = await until(
      async () => {
        const metrics = (await (await fetch(`${url}/api/metrics`)).json()) as Metrics;
        return metrics.counting === false && metrics.thumbnails >= size ? true : undefined;
      },
      options.countTimeoutMs,
      2000,
    );
    const countedMs = counted ? performance.now() - started : null;
    let idle: { measured: number; total: number } | null = null;
    let snapshot: number | null = null;
    if (counted) {
      snapshot = await snapshotMs(url);
      const before = await s3Requests(url);
      await new Promise((resolve) => setTimeout(resolve, options.idleWindowMs));
      const measured = (((await s3Requests(url)) - before) * 60_000) / options.idleWindowMs;
      // The next walks: all pages, once per interval (the interval stretches with the bucket).
      const pages = Math.ceil(size / 1000);
      const intervalMinutes = Math.max(
        loadApiConfig(childEnv).reconcileMinutes,
        pages / MAX_IDLE_REQUESTS_PER_MINUTE,
      );
      idle = { measured, total: measured + pages / intervalMinutes };
    }
    return {
      peakRssMiB: peakRssMiB(child.pid),
      readyMs,
      snapshotCountingMs,
      snapshotMs: snapshot,
      countedMs,
      idleS3PerMinute: idle?.total ?? null,
      idleMeasuredS3PerMinute: idle?.measured ?? null,
    };
  } finally {
    await stopChild(child);
  }
}

/** One seed rebuild in its own process, given up after `timeoutMs`. */
async function measureSeed(env: NodeJS.ProcessEnv, timeoutMs: number): Promise<ScaleRow['seed']> {
  const child = spawn(process.execPath, [SEED_API, BUCKET], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let peak = 0;
  let pages = 0;
  let result: { ms: number; requests: number } | undefined;
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    for (const line of chunk.split('\n').filter(Boolean)) {
      const value = JSON.parse(line) as { pages?: number; ms?: number; requests?: number };
      if (value.ms !== undefined && value.requests !== undefined)
        result = { ms: value.ms, requests: value.requests };
      else pages = value.pages ?? pages;
    }
  });
  const sampler = setInterval(() => (peak = Math.max(peak, peakRssMiB(child.pid))), 250);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
  clearInterval(sampler);
  if (!result) return { finished: false, peakRssMiB: peak, rebuildMs: null, pages, idleS3PerMinute: null };
  const ticksPerMinute = 60_000 / Math.max(SEED_TICK_MS, result.ms);
  return {
    finished: true,
    peakRssMiB: peak,
    rebuildMs: result.ms,
    pages: result.requests,
    idleS3PerMinute: result.requests * ticksPerMinute,
  };
}

async function measureSize(ctx: BenchContext, size: number): Promise<ScaleRow> {
  const dir = await cachedBucket(size, ctx.say);
  ctx.say(`scale: loading the emulator with ${size.toLocaleString('en-US')} thumbnails`);
  // The roles' policies (and the IRSA credentials the children get) are for this bench's resources.
  const deployment = deploymentOf({
    bucket: BUCKET,
    testSourceBucket: `thumbnail-test-source-${SUFFIX}`,
    queue: `thumbnail-jobs-${SUFFIX}`,
    topic: `thumbnail-events-${SUFFIX}`,
  });
  const local = await startEmulator({ dataDir: dir, deployment });
  try {
    const resources: Resources = await createResources(local, SUFFIX);
    const policies = await renderDeploymentPolicies(resources.deployment);
    const tokenDir = join(ctx.scratchDir, `scale-tokens-${size}`);
    mkdirSync(tokenDir, { recursive: true });
    // This process's environment without its AWS settings: each child gets only its role's.
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')));
    const base = {
      ...inherited,
      AWS_REGION: resources.deployment.region,
      AWS_ENDPOINT_URL: local.endpoint,
      ...irsaEnv(local.authority, policies, 'api', tokenDir),
    };
    const apiEnvironment = {
      ...base,
      ...apiEnv(local.endpoint, resources, { LOG_LEVEL: 'warn', QUEUE_POLL_MS: '1000' }),
    };
    ctx.say(`scale: ours at ${size.toLocaleString('en-US')}`);
    const ours = await measureOurs(apiEnvironment, size, {
      countTimeoutMs: ctx.quick ? 120_000 : size >= 1_000_000 ? 30 * 60_000 : 10 * 60_000,
      idleWindowMs: ctx.quick ? 10_000 : 60_000,
    });
    ctx.say(`scale: ours ${JSON.stringify(ours)}`);
    ctx.say(`scale: seed's rebuild at ${size.toLocaleString('en-US')}`);
    const seed = await measureSeed(base, ctx.quick ? 60_000 : size >= 1_000_000 ? 3 * 60_000 : 6 * 60_000);
    ctx.say(`scale: seed ${JSON.stringify(seed)}`);
    return { thumbnails: size, ours, seed };
  } finally {
    await local.stop();
  }
}

function toFigures(row: ScaleRow): Figure[] {
  const n = row.thumbnails.toLocaleString('en-US');
  const { ours, seed } = row;
  const unfinished = seed.finished
    ? undefined
    : `seed: its one rebuild did not finish (${seed.pages} pages listed when stopped)`;
  const figure = (
    name: string,
    unit: string,
    value: number | null,
    seedValue: number | null,
    goal: string,
    met: boolean | null,
    note?: string,
  ): Figure => ({
    section: 'scale',
    name: `scale: ${name} (${n} thumbnails)`,
    unit,
    ours: value,
    seed: seedValue,
    ratio: value === null || seedValue === null || seedValue === 0 ? null : value / seedValue,
    goal,
    met,
    ...(note ? { note } : {}),
  });
  return [
    figure(
      'API peak RSS',
      'MiB',
      ours.peakRssMiB,
      seed.peakRssMiB,
      '< 256 MiB',
      ours.peakRssMiB < 256,
      unfinished
        ? `${unfinished}; its figure is the peak until then`
        : 'seed: one rebuild in its own process',
    ),
    figure(
      'time to ready',
      's',
      ours.readyMs / 1000,
      seed.rebuildMs === null ? null : seed.rebuildMs / 1000,
      '< 10 s',
      ours.readyMs < 10_000,
      'seed: its first state is one rebuild',
    ),
    figure(
      'snapshot while counting',
      'ms',
      ours.snapshotCountingMs,
      seed.rebuildMs,
      '< 20 ms',
      ours.snapshotCountingMs < 20,
    ),
    figure(
      'snapshot once counted',
      'ms',
      ours.snapshotMs,
      seed.rebuildMs,
      '< 20 ms',
      ours.snapshotMs === null ? null : ours.snapshotMs < 20,
    ),
    figure(
      'full count in the background',
      's',
      ours.countedMs === null ? null : ours.countedMs / 1000,
      null,
      'catches up',
      ours.countedMs !== null,
      'the emulator sorts the whole bucket for every listing page; S3 does not',
    ),
    figure(
      'S3 requests while idle',
      '/min',
      ours.idleS3PerMinute,
      seed.idleS3PerMinute,
      '≤ 3 /min (2 for the walks)',
      ours.idleS3PerMinute === null ? null : ours.idleS3PerMinute <= 3,
      ours.idleMeasuredS3PerMinute === null
        ? undefined
        : `ours: ${ours.idleMeasuredS3PerMinute.toFixed(1)} measured + the walk spread over its interval`,
    ),
  ];
}

export async function benchScale(ctx: BenchContext): Promise<Figure[]> {
  const sizes = ctx.quick ? [10_000] : [100_000, 1_000_000];
  const rows: ScaleRow[] = [];
  for (const size of sizes) rows.push(await measureSize(ctx, size));
  ctx.details.scale = rows;
  return rows.flatMap(toFigures);
}
