import { describe, expect, it } from 'vitest';
import { QueueHistory } from './queue-history.ts';

describe('QueueHistory', () => {
  it('keeps one point per 5 s slot, the latest sample in each', () => {
    const history = new QueueHistory(5000);
    expect(history.record({ depth: 1, inFlight: 0 }, 10_000)).toBe(true);
    expect(history.record({ depth: 2, inFlight: 1 }, 12_000)).toBe(false);
    expect(history.record({ depth: 3, inFlight: 0 }, 15_000)).toBe(true);
    expect(history.list()).toEqual([
      { time: new Date(10_000).toISOString(), depth: 2, inFlight: 1 },
      { time: new Date(15_000).toISOString(), depth: 3, inFlight: 0 },
    ]);
  });

  it('fills the slots a slow tick skipped, so there are no holes', () => {
    const history = new QueueHistory(5000);
    history.record({ depth: 4, inFlight: 0 }, 0);
    history.record({ depth: 9, inFlight: 0 }, 21_000);
    expect(history.list().map((p) => [Date.parse(p.time), p.depth])).toEqual([
      [0, 4],
      [5000, 4],
      [10_000, 4],
      [15_000, 4],
      [20_000, 9],
    ]);
  });

  it('keeps exactly five minutes', () => {
    const history = new QueueHistory(5000, 300_000);
    for (let t = 0; t < 600_000; t += 1000) history.record({ depth: t, inFlight: 0 }, t);
    const points = history.list();
    expect(points).toHaveLength(60);
    expect(Date.parse(points.at(-1)!.time) - Date.parse(points[0]!.time)).toBe(295_000);
  });
});
