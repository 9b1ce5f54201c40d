/**
 * Upload → all three thumbnails announced on an open WebSocket, as a dashboard user sees it, through the
 * whole local stack: warm (one worker kept running, one warm-up video first) and cold (the fleet at zero
 * pods before each upload: scaler poll, worker start, job). Beside each upload, the seed's way of
 * announcing (a full listing every 5 s) watches the same bucket, so its column is the same uploads seen
 * through the seed's 5 s loop.
 */
import { readFileSync } from 'node:fs';
import { percentile } from '../apps/api/src/state/percentiles.ts';
import type { BenchContext } from './context.ts';
import type { Figure } from './figures.ts';
import { shortClip } from './inputs.ts';
import { PipelineWatch, SeedTick, startBenchStack, until, upload } from './stack.ts';
import type { LocalStack } from '../apps/local/src/stack.ts';

interface Latency {
  source: string;
  uploadedAt: number;
  oursMs: number;
  seedMs: number | null;
}

const workerPods = (stack: LocalStack) =>
  stack.registry.list().filter((pod) => pod.labels.app === 'thumbnail-worker').length;

interface Mode {
  name: string;
  /** A worker stays up (long cooldown, one warm-up video); else the fleet is at zero pods before each upload. */
  warm: boolean;
  /** How long the fleet has been at zero pods before each cold upload. */
  idleMs: number;
}

async function latencies(ctx: BenchContext, mode: Mode, runs: number, body: Buffer): Promise<Latency[]> {
  const { stack, s3, stop } = await startBenchStack(ctx, `e2e-${mode.name}`, {
    maxWorkers: mode.warm ? 1 : 4,
    cooldownMs: mode.warm ? 600_000 : 2_000,
  });
  const watch = new PipelineWatch(stack.urls.api ?? '');
  const seed = new SeedTick(s3);
  const results: Latency[] = [];
  try {
    await watch.opened;
    if (mode.warm) {
      const warmup = 'uploads/e2e-warmup.mp4';
      await upload(s3, warmup, body);
      await until(() => watch.announcedAt(warmup), Boolean, 120_000, 'the warm-up video');
    }
    for (let i = 0; i < runs; i++) {
      if (!mode.warm) {
        await until(
          () => workerPods(stack),
          (pods) => pods === 0,
          120_000,
          'the fleet at zero pods',
        );
        await new Promise((resolve) => setTimeout(resolve, mode.idleMs));
      }
      const source = `uploads/e2e-${mode.name}-${String(i).padStart(2, '0')}.mp4`;
      seed.watch(source);
      const uploadedAt = await upload(s3, source, body);
      const announced = await until(() => watch.announcedAt(source), Boolean, 120_000, `${source} announced`);
      const oursMs = (announced ?? 0) - uploadedAt;
      results.push({ source, uploadedAt, oursMs, seedMs: null });
      ctx.say(`  ${mode.name} ${i + 1}/${runs}: ${oursMs} ms`);
    }
    // The seed's loop sees the last uploads on its next tick.
    await new Promise((resolve) => setTimeout(resolve, 5_500));
    for (const result of results) {
      const at = seed.announcedAt(result.source);
      result.seedMs = at === undefined ? null : at - result.uploadedAt;
    }
    return results;
  } finally {
    seed.stop();
    watch.close();
    await stop();
  }
}

function figures(label: string, results: Latency[], goalMs: number): Figure[] {
  const ours = results.map((r) => r.oursMs / 1000);
  const seed = results.flatMap((r) => (r.seedMs === null ? [] : [r.seedMs / 1000]));
  const row = (p: number): Figure => {
    const o = percentile(ours, p);
    const s = percentile(seed, p);
    const gated = p === 95;
    return {
      section: 'e2e',
      name: `end to end, ${label}: upload → 3 thumbnails on the WebSocket, p${p} of ${results.length}`,
      unit: 's',
      ours: o,
      seed: s,
      ratio: o !== null && s ? o / s : null,
      goal: gated ? `p95 < ${goalMs / 1000} s` : 'reported',
      met: gated && o !== null ? o < goalMs / 1000 : null,
      ...(p === 50
        ? { note: "seed column: the same uploads seen through the seed's 5 s full-listing loop" }
        : {}),
    };
  };
  return [row(50), row(95)];
}

export async function benchE2e(ctx: BenchContext): Promise<Figure[]> {
  const clip = await shortClip(ctx.inputDir, ctx.say);
  const body = readFileSync(clip.path);
  const runs = ctx.quick ? 2 : 6;
  const warm = await latencies(ctx, { name: 'warm', warm: true, idleMs: 0 }, ctx.quick ? 3 : 20, body);
  // Right after the fleet reaches zero, while the stopped workers' last long polls (20 s) may still be open,
  // and again once they are over.
  const cold = await latencies(ctx, { name: 'cold', warm: false, idleMs: 0 }, runs, body);
  const coldIdle = await latencies(ctx, { name: 'cold-idle', warm: false, idleMs: 21_000 }, runs, body);
  ctx.details.e2e = { clip, warm, cold, coldIdle };
  return [
    ...figures('warm worker', warm, 3000),
    ...figures('from zero pods, upload right after scale-in', cold, 8000).map((f) => ({
      ...f,
      note:
        'a worker stopped by the scale-in lets its last 20 s long poll finish and releases what it got, so ' +
        'the upload is not held for the visibility timeout',
    })),
    ...figures('from zero pods, upload ≥ 21 s after scale-in', coldIdle, 8000),
  ];
}
