/**
 * The cost of keeping the dashboard state, ours beside the seed's, with 10,000 and 100,000 thumbnails in an
 * in-process emulator bucket:
 *  - snapshot: GET /api/state over HTTP (what a connecting dashboard gets first); the seed has no index, so
 *    its snapshot is one rebuild: list every thumbnail, presign every one, serialize the whole state;
 *  - update: one finished video until a WebSocket client holds the message; the seed rebuilds and pushes
 *    the whole state on its 5 s tick (this figure is its rebuild alone, before any wait for the tick);
 *  - S3 requests per minute while idle: counted with an SDK middleware over a window, plus our slow
 *    reconciliation spread over its interval; the seed's are its listing pages times its ticks per minute.
 * Run alone: `node bench/state-cost.ts [--quick]`.
 */
import { thumbnailKeys, type PipelineEvent, type ServerMessage } from '@thumbs/model';
import { countRequests } from '../apps/api/src/prometheus-registry.ts';
import {
  createResources,
  putTinyObjects,
  startApi,
  startEmulator,
  waitFor,
  WsRecorder,
  type LocalAws,
  type Resources,
} from '../apps/api/src/testing/harness.ts';
import type { Figure } from './figures.ts';
import { seedRebuild } from './seed-rebuild.ts';

export interface StateCostRow {
  thumbnails: number;
  ours: {
    indexBuildMs: number;
    snapshotMs: number;
    snapshotBytes: number;
    updateMs: number;
    updateBytes: number;
    idleS3PerMinute: number;
    idleMeasuredS3PerMinute: number;
    reconcileEveryMinutes: number;
  };
  seed: { rebuildMs: number; stateBytes: number; requestsPerRebuild: number; idleS3PerMinute: number };
}

export interface StateCostOptions {
  sizes?: number[];
  idleWindowMs?: number;
  repeats?: number;
  say?: (line: string) => void;
}

const SEED_TICK_MS = 5000;
const FRAMES = ['10', '50', '95'] as const;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

function* thumbnailRange(from: number, to: number): Generator<string> {
  for (let n = from; n < to; n++)
    yield `thumbnails/uploads/video-${Math.floor(n / 3)}.mp4/${FRAMES[n % 3]}.jpg`;
}

async function seedThumbnails(local: LocalAws, bucket: string, from: number, to: number): Promise<void> {
  await putTinyObjects(local, bucket, thumbnailRange(from, to));
}

function doneEvent(source: string): PipelineEvent {
  return {
    type: 'job.done',
    source,
    attempt: 1,
    worker: 'bench',
    thumbnails: thumbnailKeys(source).map((key, i) => ({
      key,
      frame: (['10%', '50%', '95%'] as const)[i] ?? '10%',
      size: 4,
    })),
    uploadedAt: null,
    processingMs: 1000,
    time: new Date().toISOString(),
  };
}

async function measureOurs(
  local: LocalAws,
  resources: Resources,
  total: number,
  idleWindowMs: number,
  repeats: number,
) {
  // The API under test, as its IAM role; its S3 requests counted.
  const aws = local.clients('api', resources.deployment);
  let s3Requests = 0;
  countRequests(aws.s3, () => s3Requests++);
  const started = performance.now();
  const api = await startApi(local, resources, { QUEUE_POLL_MS: '1000' }, { aws });
  try {
    await waitFor(
      () => api.pipeline.thumbnails.ready && api.pipeline.store.count.totals.thumbnails >= total,
      600_000,
      'the index',
    );
    const indexBuildMs = performance.now() - started;

    const snapshots: number[] = [];
    let snapshotBytes = 0;
    for (let i = 0; i <= repeats; i++) {
      const t = performance.now();
      const body = await (await fetch(`${api.url}/api/state`)).text();
      if (i > 0) snapshots.push(performance.now() - t);
      snapshotBytes = Buffer.byteLength(body);
    }

    const ws = new WsRecorder(api.url);
    await ws.waitFor('snapshot');
    const updates: number[] = [];
    let updateBytes = 0;
    for (let i = 0; i < repeats; i++) {
      const source = `uploads/bench-update-${total}-${i}.mp4`;
      const arrived = new Promise<Extract<ServerMessage, { type: 'thumbnails' }>>((resolve) => {
        const onMessage = (data: Buffer) => {
          const message = JSON.parse(String(data)) as ServerMessage;
          if (message.type === 'thumbnails' && message.added.some((a) => a.source === source)) {
            ws.socket.off('message', onMessage);
            resolve(message);
          }
        };
        ws.socket.on('message', onMessage);
      });
      const t = performance.now();
      await api.pipeline.apply(doneEvent(source));
      const message = await arrived;
      updates.push(performance.now() - t);
      updateBytes = Buffer.byteLength(JSON.stringify(message));
    }
    ws.close();

    const before = s3Requests;
    await new Promise((resolve) => setTimeout(resolve, idleWindowMs));
    const idleMeasuredS3PerMinute = ((s3Requests - before) * 60_000) / idleWindowMs;
    const reconcileMs = api.pipeline.thumbnails.reconcileIntervalMs();
    const pages = Math.ceil(total / 1000);
    return {
      indexBuildMs,
      snapshotMs: median(snapshots),
      snapshotBytes,
      updateMs: median(updates),
      updateBytes,
      idleMeasuredS3PerMinute,
      idleS3PerMinute: idleMeasuredS3PerMinute + (pages * 60_000) / reconcileMs,
      reconcileEveryMinutes: reconcileMs / 60_000,
    };
  } finally {
    await api.app.close();
  }
}

async function measureSeed(local: LocalAws, resources: Resources, repeats: number) {
  // The seed's API, with the same role as ours.
  const aws = local.clients('api', resources.deployment);
  const runs = [];
  for (let i = 0; i < repeats; i++) runs.push(await seedRebuild(aws.s3, resources.bucket));
  const rebuildMs = median(runs.map((r) => r.ms));
  const requestsPerRebuild = runs[0]?.requests ?? 0;
  // A tick every 5 s, or back to back when one rebuild takes longer than that.
  const ticksPerMinute = 60_000 / Math.max(SEED_TICK_MS, rebuildMs);
  return {
    rebuildMs,
    stateBytes: runs[0]?.bytes ?? 0,
    requestsPerRebuild,
    idleS3PerMinute: requestsPerRebuild * ticksPerMinute,
  };
}

export async function benchStateCost(
  options: StateCostOptions = {},
): Promise<{ rows: StateCostRow[]; figures: Figure[] }> {
  const sizes = options.sizes ?? [10_000, 100_000];
  const idleWindowMs = options.idleWindowMs ?? 30_000;
  const repeats = options.repeats ?? 10;
  const say = options.say ?? (() => {});
  const local = await startEmulator();
  const rows: StateCostRow[] = [];
  try {
    const resources = await createResources(local, 'bench');
    let seeded = 0;
    for (const size of [...sizes].sort((a, b) => a - b)) {
      say(`state cost: seeding ${size} thumbnails`);
      await seedThumbnails(local, resources.bucket, seeded, size);
      seeded = size;
      say(`state cost: ours at ${size}`);
      const ours = await measureOurs(local, resources, size, idleWindowMs, repeats);
      say(`state cost: seed's approach at ${size}`);
      const seed = await measureSeed(local, resources, size >= 100_000 ? 1 : 3);
      rows.push({ thumbnails: size, ours, seed });
    }
  } finally {
    await local.stop();
  }
  return { rows, figures: rows.flatMap(toFigures) };
}

function toFigures(row: StateCostRow): Figure[] {
  const n = row.thumbnails.toLocaleString('en-US');
  const figure = (
    name: string,
    unit: string,
    ours: number,
    seed: number,
    goal: string,
    met: boolean,
    note?: string,
  ): Figure => ({
    section: 'api',
    name: `${name} (${n} thumbnails)`,
    unit,
    ours,
    seed,
    ratio: seed === 0 ? null : ours / seed,
    goal,
    met,
    ...(note ? { note } : {}),
  });
  return [
    figure(
      'snapshot served',
      'ms',
      row.ours.snapshotMs,
      row.seed.rebuildMs,
      'does not grow with the total',
      row.ours.snapshotMs < 100,
      'seed: one full list + presign rebuild',
    ),
    figure(
      'one update pushed',
      'ms',
      row.ours.updateMs,
      row.seed.rebuildMs,
      '< 1 s after the event',
      row.ours.updateMs < 1000,
      'seed: its rebuild, plus up to 5 s until the next tick',
    ),
    figure(
      'update size',
      'KB',
      row.ours.updateBytes / 1000,
      row.seed.stateBytes / 1000,
      'small updates',
      row.ours.updateBytes < row.seed.stateBytes,
    ),
    figure(
      'S3 requests while idle',
      '/min',
      row.ours.idleS3PerMinute,
      row.seed.idleS3PerMinute,
      '≤ 2 /min',
      row.ours.idleS3PerMinute <= 2,
      `ours: reconciliation every ${row.ours.reconcileEveryMinutes.toFixed(0)} min`,
    ),
  ];
}

function table(rows: StateCostRow[]): string {
  const lines = [
    '| thumbnails | snapshot: ours | snapshot: seed | update: ours | update: seed | update size: ours / seed | S3 req/min idle: ours | S3 req/min idle: seed |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.thumbnails.toLocaleString('en-US')} | ${r.ours.snapshotMs.toFixed(1)} ms | ${(r.seed.rebuildMs / 1000).toFixed(1)} s | ${r.ours.updateMs.toFixed(1)} ms | ${(r.seed.rebuildMs / 1000).toFixed(1)} s + ≤ 5 s tick | ${(r.ours.updateBytes / 1000).toFixed(1)} KB / ${(r.seed.stateBytes / 1e6).toFixed(1)} MB | ${r.ours.idleS3PerMinute.toFixed(2)} (measured ${r.ours.idleMeasuredS3PerMinute.toFixed(0)} + reconciliation every ${r.ours.reconcileEveryMinutes.toFixed(0)} min) | ${r.seed.idleS3PerMinute.toFixed(0)} |`,
    );
  }
  return lines.join('\n');
}

if (import.meta.main) {
  const quick = process.argv.includes('--quick');
  const result = await benchStateCost({
    sizes: quick ? [1000, 10_000] : [10_000, 100_000],
    idleWindowMs: quick ? 5000 : 30_000,
    repeats: quick ? 3 : 10,
    say: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${table(result.rows)}\n\n${JSON.stringify(result.rows, null, 2)}\n`);
}
