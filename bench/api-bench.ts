/**
 * The API's cost of keeping the dashboard state (bench/state-cost.ts, the API's own benchmark,
 * beside the seed's rebuild), plus the growth figures the goal is stated on: time to serve at 10× the
 * thumbnails ÷ time at 1×.
 */
import { benchStateCost, type StateCostRow } from './state-cost.ts';
import type { BenchContext } from './context.ts';
import { ratioOf, type Figure } from './figures.ts';

function growth(
  rows: StateCostRow[],
  name: string,
  ours: (row: StateCostRow) => number,
  seed: (row: StateCostRow) => number,
): Figure {
  const [small, large] = [rows[0], rows.at(-1)];
  const oursGrowth = small && large ? ratioOf(ours(large), ours(small)) : null;
  const seedGrowth = small && large ? ratioOf(seed(large), seed(small)) : null;
  const sizes =
    small && large
      ? `${small.thumbnails.toLocaleString('en-US')} → ${large.thumbnails.toLocaleString('en-US')}`
      : '';
  return {
    section: 'api',
    name: `api: ${name}, growth ${sizes} thumbnails`,
    unit: '×',
    ours: oursGrowth,
    seed: seedGrowth,
    ratio: ratioOf(oursGrowth, seedGrowth),
    goal: '< 2× across the 10×',
    met: oursGrowth === null ? null : oursGrowth < 2,
  };
}

export async function benchApi(ctx: BenchContext): Promise<Figure[]> {
  const { rows, figures } = await benchStateCost({
    ...(ctx.quick ? { sizes: [1_000, 10_000], idleWindowMs: 5_000, repeats: 3 } : {}),
    say: ctx.say,
  });
  ctx.details.api = rows;
  return [
    ...figures.map((f) => ({ ...f, name: `api: ${f.name}` })),
    growth(
      rows,
      'snapshot served',
      (r) => r.ours.snapshotMs,
      (r) => r.seed.rebuildMs,
    ),
    growth(
      rows,
      'one update pushed',
      (r) => r.ours.updateMs,
      (r) => r.seed.rebuildMs,
    ),
  ];
}
