/**
 * The history series (schema.ts's HistorySeries) kept in columns, and the one way to change one: points put in
 * place by slot. The API builds its series with it and the dashboard applies the API's updates with it, so
 * both hold the same series.
 */
import type { HistoryPoint, HistorySeries } from './schema.ts';

export function emptySeries(slotMs: number, capacity: number): HistorySeries {
  return {
    slotMs,
    capacity,
    start: new Date(0).toISOString(),
    done: [],
    failed: [],
    latencyP50Ms: [],
    latencyP95Ms: [],
    depth: [],
    inFlight: [],
  };
}

export function slotStart(slotMs: number, time: number): number {
  return Math.floor(time / slotMs) * slotMs;
}

export function seriesPoints(series: HistorySeries): HistoryPoint[] {
  const start = Date.parse(series.start);
  return series.done.map((done, i) => ({
    time: new Date(start + i * series.slotMs).toISOString(),
    done,
    failed: series.failed[i] ?? 0,
    latencyP50Ms: series.latencyP50Ms[i] ?? null,
    latencyP95Ms: series.latencyP95Ms[i] ?? null,
    depth: series.depth[i] ?? 0,
    inFlight: series.inFlight[i] ?? 0,
  }));
}

/**
 * The series with each point in its slot: a slot's values are replaced; a later slot is appended, the slots
 * between filled as empty with the queue figures carried over; at most `capacity` slots are kept, the newest.
 * A point older than the series' first slot is dropped.
 */
export function mergeHistoryPoints(series: HistorySeries, points: readonly HistoryPoint[]): HistorySeries {
  let next = {
    ...series,
    done: [...series.done],
    failed: [...series.failed],
    latencyP50Ms: [...series.latencyP50Ms],
    latencyP95Ms: [...series.latencyP95Ms],
    depth: [...series.depth],
    inFlight: [...series.inFlight],
  };
  for (const point of points) {
    const slot = slotStart(series.slotMs, Date.parse(point.time));
    if (next.done.length === 0) next.start = new Date(slot).toISOString();
    const start = Date.parse(next.start);
    let index = (slot - start) / series.slotMs;
    if (index < 0) continue;
    // Far past the end: start afresh rather than fill a day of empty slots one by one.
    if (index - next.done.length >= series.capacity) {
      next = { ...emptySeries(series.slotMs, series.capacity), start: new Date(slot).toISOString() };
      index = 0;
    }
    while (next.done.length < index) {
      next.done.push(0);
      next.failed.push(0);
      next.latencyP50Ms.push(null);
      next.latencyP95Ms.push(null);
      next.depth.push(next.depth.at(-1) ?? 0);
      next.inFlight.push(next.inFlight.at(-1) ?? 0);
    }
    next.done[index] = point.done;
    next.failed[index] = point.failed;
    next.latencyP50Ms[index] = point.latencyP50Ms;
    next.latencyP95Ms[index] = point.latencyP95Ms;
    next.depth[index] = point.depth;
    next.inFlight[index] = point.inFlight;
    const excess = next.done.length - series.capacity;
    if (excess > 0) {
      for (const column of [
        next.done,
        next.failed,
        next.latencyP50Ms,
        next.latencyP95Ms,
        next.depth,
        next.inFlight,
      ])
        column.splice(0, excess);
      next.start = new Date(start + excess * series.slotMs).toISOString();
    }
  }
  return next;
}
