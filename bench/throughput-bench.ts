/**
 * Videos per minute through the local fleet with at most 1, then 2 workers, on a batch of short clips:
 * from the first upload to the last `done` announced on the API's WebSocket. The workers are warmed up
 * first (and the cooldown is long), so the figure is processing, not start-up.
 */
import { readFileSync } from 'node:fs';
import type { BenchContext } from './context.ts';
import type { Figure } from './figures.ts';
import { shortClip } from './inputs.ts';
import { PipelineWatch, startBenchStack, until, upload } from './stack.ts';

const sources = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) => `uploads/${prefix}-${String(i).padStart(2, '0')}.mp4`);

async function videosPerMinute(ctx: BenchContext, workers: number, body: Buffer, batch: number) {
  const { stack, s3, stop } = await startBenchStack(ctx, `throughput-${workers}`, {
    maxWorkers: workers,
    cooldownMs: 600_000,
  });
  const watch = new PipelineWatch(stack.urls.api ?? '');
  try {
    await watch.opened;
    const warmup = sources(`warmup-${workers}`, 3 * workers);
    for (const key of warmup) await upload(s3, key, body);
    await until(() => warmup.every((key) => watch.doneAt(key)), Boolean, 180_000, 'the warm-up videos');
    await until(
      () => stack.fleet.size,
      (size) => size === workers,
      30_000,
      `${workers} warm workers`,
    );
    const keys = sources(`batch-${workers}`, batch);
    const started = Date.now();
    for (const key of keys) await upload(s3, key, body);
    await until(() => keys.every((key) => watch.doneAt(key)), Boolean, 600_000, 'the batch');
    const seconds = (Math.max(...keys.map((key) => watch.doneAt(key) ?? 0)) - started) / 1000;
    const perMinute = (60 * batch) / seconds;
    ctx.say(
      `  ${workers} worker(s): ${batch} clips in ${seconds.toFixed(1)} s = ${perMinute.toFixed(1)} videos/min`,
    );
    return { workers, batch, seconds, perMinute };
  } finally {
    watch.close();
    await stop();
  }
}

export async function benchThroughput(ctx: BenchContext): Promise<Figure[]> {
  const clip = await shortClip(ctx.inputDir, ctx.say);
  const body = readFileSync(clip.path);
  const batch = ctx.quick ? 6 : 16;
  const one = await videosPerMinute(ctx, 1, body, batch);
  const two = await videosPerMinute(ctx, 2, body, batch);
  ctx.details.throughput = { clip, runs: [one, two] };
  const scaling = two.perMinute / one.perMinute;
  const figure = (workers: number, perMinute: number): Figure => ({
    section: 'throughput',
    name: `throughput: videos/min, ${workers} local worker${workers > 1 ? 's' : ''}, ${batch} × ${clip.description}`,
    unit: '/min',
    ours: perMinute,
    seed: null,
    ratio: null,
    goal: 'reported',
    met: null,
  });
  return [
    figure(1, one.perMinute),
    figure(2, two.perMinute),
    {
      section: 'throughput',
      name: 'throughput: scaling from 1 to 2 workers',
      unit: '×',
      ours: scaling,
      seed: null,
      ratio: scaling,
      goal: '≥ 1.6×',
      met: scaling >= 1.6,
      note: 'ratio = videos/min with 2 workers ÷ with 1, on a 2-core machine that also runs the emulator and API',
    },
  ];
}
