import { describe, expect, it } from 'vitest';
import { emptySeries, mergeHistoryPoints, seriesPoints } from './history.ts';
import type { HistoryPoint } from './schema.ts';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const point = (offsetMs: number, values: Partial<HistoryPoint> = {}): HistoryPoint => ({
  time: new Date(T0 + offsetMs).toISOString(),
  done: 0,
  failed: 0,
  latencyP50Ms: null,
  latencyP95Ms: null,
  depth: 0,
  inFlight: 0,
  ...values,
});

describe('mergeHistoryPoints', () => {
  it('puts points in their slots, replacing a slot and filling gaps with the queue carried over', () => {
    let series = emptySeries(5000, 10);
    series = mergeHistoryPoints(series, [point(1200, { done: 1, depth: 4 })]);
    series = mergeHistoryPoints(series, [point(3000, { done: 2, depth: 3, latencyP50Ms: 900 })]);
    series = mergeHistoryPoints(series, [point(15_000, { done: 5, depth: 1 })]);
    expect(series.start).toBe(new Date(T0).toISOString());
    expect(series.done).toEqual([2, 0, 0, 5]);
    expect(series.depth).toEqual([3, 3, 3, 1]);
    expect(series.latencyP50Ms).toEqual([900, null, null, null]);
    expect(seriesPoints(series).map((p) => p.time)).toEqual(
      [0, 5000, 10_000, 15_000].map((ms) => new Date(T0 + ms).toISOString()),
    );
  });

  it('keeps at most capacity slots, the newest, and drops points older than the first', () => {
    let series = emptySeries(1000, 3);
    for (let i = 0; i < 5; i++) series = mergeHistoryPoints(series, [point(i * 1000, { done: i })]);
    expect(series.done).toEqual([2, 3, 4]);
    expect(series.start).toBe(new Date(T0 + 2000).toISOString());
    series = mergeHistoryPoints(series, [point(0, { done: 99 })]);
    expect(series.done).toEqual([2, 3, 4]);
  });

  it('starts afresh after a silence longer than the series', () => {
    let series = mergeHistoryPoints(emptySeries(1000, 3), [point(0, { done: 1 })]);
    series = mergeHistoryPoints(series, [point(60_000, { done: 7, depth: 2 })]);
    expect(series.done).toEqual([7]);
    expect(series.start).toBe(new Date(T0 + 60_000).toISOString());
  });

  it('leaves the series it was given unchanged', () => {
    const series = mergeHistoryPoints(emptySeries(1000, 3), [point(0, { done: 1 })]);
    mergeHistoryPoints(series, [point(0, { done: 5 }), point(1000, { done: 6 })]);
    expect(series.done).toEqual([1]);
  });
});
