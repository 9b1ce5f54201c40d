import { emptySeries, mergeHistoryPoints, type History } from '@thumbs/model';
import { describe, expect, it } from 'vitest';
import { CHART_RANGES, performanceSamples, queueSamples } from './history-view.ts';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const point = (ms: number, done: number, depth = 0) => ({
  time: new Date(T0 + ms).toISOString(),
  done,
  failed: 0,
  latencyP50Ms: done ? 1000 : null,
  latencyP95Ms: null,
  depth,
  inFlight: 0,
});
const range = (id: string) => CHART_RANGES.find((r) => r.id === id)!;

const history: History = {
  fine: mergeHistoryPoints(
    emptySeries(5000, 720),
    Array.from({ length: 120 }, (_, i) => point(i * 5000, i % 2, i)),
  ),
  coarse: mergeHistoryPoints(emptySeries(60_000, 1440), [point(0, 30), point(60_000, 12)]),
};

describe('history views', () => {
  it('gives throughput per minute within the range, from the resolution that covers it', () => {
    const fiveMinutes = performanceSamples(history, range('5m'));
    expect(fiveMinutes).toHaveLength(60);
    expect(fiveMinutes.at(-1)).toMatchObject({ throughput: 12, p50: 1000 });
    expect(performanceSamples(history, range('1h'))).toHaveLength(120);
    expect(performanceSamples(history, range('24h')).map((s) => s.throughput)).toEqual([30, 12]);
  });

  it("takes the last 5 minutes of queue depth from the queue's own history, longer ranges from the server's", () => {
    const own = [{ time: new Date(T0).toISOString(), depth: 7, inFlight: 1 }];
    expect(queueSamples(history, own, range('5m'))).toEqual([{ time: T0, depth: 7, inFlight: 1 }]);
    expect(queueSamples(history, own, range('1h')).at(-1)).toMatchObject({ depth: 119 });
  });
});
