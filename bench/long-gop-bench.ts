/**
 * Long keyframe intervals, where the work is decoding from the keyframe before each point: ours and the
 * seed's method (as in worker-bench.ts, reading the local S3 emulator directly, as a pod reads S3, without
 * the counting proxy worker-bench.ts puts in between) against the decode floor, measured in the
 * same run: three `ffmpeg -ss T -i local.mp4 -frames:v 1` runs on a local copy, one after the other, the
 * least any method can do (no storage, no probe, no upload).
 */
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { FRAMES } from '@thumbs/model';
import { ffmpegPath } from '@thumbs/runtime';
import { median, type BenchContext } from './context.ts';
import { ratioOf, type Figure } from './figures.ts';
import { largeVideo, sixtySecondClip, type Input } from './inputs.ts';
import { timeJob, withBenchStorage } from './worker-bench.ts';

const run = promisify(execFile);

/** The floor: the three frames decoded from a local file by three plain ffmpeg runs, one after another. */
async function floorMs(input: Input, dir: string): Promise<number> {
  mkdirSync(dir, { recursive: true });
  const started = performance.now();
  for (const frame of FRAMES) {
    const time = (frame.fraction * input.seconds).toFixed(3);
    await run(ffmpegPath(), [
      '-v',
      'error',
      '-y',
      '-ss',
      time,
      '-i',
      input.path,
      '-frames:v',
      '1',
      join(dir, `${frame.slug}.jpg`),
    ]);
  }
  return performance.now() - started;
}

export async function benchLongGop(ctx: BenchContext): Promise<Figure[]> {
  const inputs = [
    await sixtySecondClip(ctx.inputDir, ctx.say),
    ...(ctx.quick
      ? []
      : [await largeVideo(ctx.inputDir, { gopSeconds: 10, loops: 7, faststart: true }, ctx.say)]),
  ];
  const repetitions = ctx.quick ? 1 : 3;
  const figures: Figure[] = [];
  const details: Record<string, unknown> = {};
  await withBenchStorage(ctx, async ({ endpoint, authority, upload }) => {
    for (const input of inputs) {
      const key = await upload(input);
      const runs: Record<'ours' | 'seed' | 'floor', number[]> = { ours: [], seed: [], floor: [] };
      for (let i = 0; i < repetitions; i++) {
        // Each repetition in another order, so that neither method always runs on a warm page cache.
        const order = (['ours', 'seed', 'floor'] as const).map((_, j, all) => all[(i + j) % all.length]!);
        for (const method of order) {
          const scratch = join(ctx.scratchDir, `long-gop-${method}`);
          const ms =
            method === 'floor'
              ? await floorMs(input, scratch)
              : // Straight to the emulator, as a pod reads S3, and unsampled: the floor is neither proxied nor
                // sampled, and each takes CPU from the decoding on this machine.
                (await timeJob(method, scratch, endpoint, authority, key, { sample: false })).ms;
          runs[method].push(ms);
          ctx.say(`  ${input.name} ${method}: ${(ms / 1000).toFixed(2)} s`);
        }
      }
      details[input.name] = runs;
      const seconds = (ms: number[]) => (median(ms) ?? NaN) / 1000;
      const [ours, seed, floor] = [seconds(runs.ours), seconds(runs.seed), seconds(runs.floor)];
      const vsFloor = ratioOf(ours, floor);
      figures.push(
        {
          section: 'longgop',
          name: `long GOP: wall time per video vs the decode floor (${input.description})`,
          unit: 's',
          ours,
          seed: floor,
          ratio: vsFloor,
          goal: '≤ 1.2× the floor',
          met: vsFloor === null ? null : vsFloor <= 1.2,
          note: `"seed" column: the floor, three ffmpeg -ss T -i local.mp4 -frames:v 1 runs; medians of ${repetitions}`,
        },
        {
          section: 'longgop',
          name: `long GOP: wall time per video vs the seed (${input.description})`,
          unit: 's',
          ours,
          seed,
          ratio: ratioOf(ours, seed),
          goal: '< seed',
          met: ours < seed,
          note: `medians of ${repetitions}`,
        },
      );
    }
  });
  ctx.details.longgop = details;
  return figures;
}
