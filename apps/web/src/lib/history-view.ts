import { seriesPoints, type History, type HistorySeries, type QueuePoint } from '@thumbs/model';

/** The time ranges the charts offer, each read from the server's history at the resolution that covers it. */
export const CHART_RANGES = [
  { id: '5m', label: '5 min', windowMs: 5 * 60_000, series: 'fine' },
  { id: '1h', label: '1 h', windowMs: 60 * 60_000, series: 'fine' },
  { id: '24h', label: '24 h', windowMs: 24 * 60 * 60_000, series: 'coarse' },
] as const satisfies readonly { id: string; label: string; windowMs: number; series: keyof History }[];

export type ChartRange = (typeof CHART_RANGES)[number];

export interface MetricSample {
  time: number;
  /** Videos finished per minute in the slot, and those that failed for good. */
  throughput: number;
  failed: number;
  p50: number | null;
  p95: number | null;
}

export interface QueueSample {
  time: number;
  depth: number;
  inFlight: number;
}

/** The series' points within the range's window, ending at the series' newest slot. */
function recent(series: HistorySeries, range: ChartRange) {
  const points = seriesPoints(series).map((p) => ({ ...p, at: Date.parse(p.time) }));
  const end = points.at(-1)?.at ?? 0;
  return points.filter((p) => p.at > end - range.windowMs);
}

export function performanceSamples(history: History, range: ChartRange): MetricSample[] {
  const series = history[range.series];
  const perMinute = 60_000 / series.slotMs;
  return recent(series, range).map((p) => ({
    time: p.at,
    throughput: p.done * perMinute,
    failed: p.failed * perMinute,
    p50: p.latencyP50Ms,
    p95: p.latencyP95Ms,
  }));
}

/** Queue depth over the range: the last 5 minutes from the queue's own (fresher) history, longer from the server's. */
export function queueSamples(history: History, queueHistory: QueuePoint[], range: ChartRange): QueueSample[] {
  if (range.id === '5m') {
    return queueHistory.map((p) => ({ time: Date.parse(p.time), depth: p.depth, inFlight: p.inFlight }));
  }
  return recent(history[range.series], range).map((p) => ({
    time: p.at,
    depth: p.depth,
    inFlight: p.inFlight,
  }));
}
