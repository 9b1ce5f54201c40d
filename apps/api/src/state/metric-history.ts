/**
 * Throughput, latency percentiles, failures and queue depth over time, kept by the API (not the browser), so
 * that a reload, a second viewer or a phone sees the same charts: 5 s slots for the last hour and 1 min slots
 * for 24 hours, in bounded memory. Every replica sees every job event through the fan-out, so every replica
 * keeps the same history from the moment it started.
 */
import {
  emptySeries,
  mergeHistoryPoints,
  slotStart,
  type History,
  type HistoryPoint,
  type HistorySeries,
} from '@thumbs/model';
import { percentile } from './percentiles.ts';

/** Latencies kept per slot for its percentiles; past this, a random one is replaced (a uniform sample). */
const LATENCIES_PER_SLOT = 256;

interface OpenSlot {
  start: number;
  done: number;
  doneSeen: number;
  failed: number;
  latencies: number[];
  depth: number;
  inFlight: number;
}

/** One resolution: the closed slots as a series, and the slot being filled now. */
class Resolution {
  private series: HistorySeries;
  private open: OpenSlot | undefined;
  /** The slot closed last, as it ended: a live update may have shown it before its last events. */
  private closed: HistoryPoint | undefined;

  constructor(slotMs: number, capacity: number) {
    this.series = emptySeries(slotMs, capacity);
  }

  /** Changes the slot of `time` (an event delivered late counts in the slot open now). */
  change(time: number, update: (slot: OpenSlot) => void): void {
    const start = slotStart(this.series.slotMs, time);
    if (!this.open || start > this.open.start) {
      if (this.open) {
        this.closed = this.point(this.open);
        this.series = mergeHistoryPoints(this.series, [this.closed]);
      }
      const { depth = 0, inFlight = 0 } = this.open ?? {};
      this.open = { start, done: 0, doneSeen: 0, failed: 0, latencies: [], depth, inFlight };
    }
    update(this.open);
  }

  /** The slot closed last and the open one. */
  latest(): HistoryPoint[] {
    return [this.closed, this.open && this.point(this.open)].filter((p) => p !== undefined);
  }

  snapshot(): HistorySeries {
    return this.open ? mergeHistoryPoints(this.series, [this.point(this.open)]) : this.series;
  }

  private point(slot: OpenSlot): HistoryPoint {
    return {
      time: new Date(slot.start).toISOString(),
      done: slot.done,
      failed: slot.failed,
      latencyP50Ms: percentile(slot.latencies, 50),
      latencyP95Ms: percentile(slot.latencies, 95),
      depth: slot.depth,
      inFlight: slot.inFlight,
    };
  }
}

export class MetricHistory {
  private readonly resolutions = {
    fine: new Resolution(5_000, 720),
    coarse: new Resolution(60_000, 1_440),
  };

  recordDone(latencyMs: number | null, now = Date.now()): void {
    this.each(now, (slot) => {
      slot.done++;
      if (latencyMs === null) return;
      slot.doneSeen++;
      if (slot.latencies.length < LATENCIES_PER_SLOT) slot.latencies.push(latencyMs);
      else {
        const index = Math.floor(Math.random() * slot.doneSeen);
        if (index < LATENCIES_PER_SLOT) slot.latencies[index] = latencyMs;
      }
    });
  }

  recordFailed(now = Date.now()): void {
    this.each(now, (slot) => slot.failed++);
  }

  recordQueue(depth: number, inFlight: number, now = Date.now()): void {
    this.each(now, (slot) => Object.assign(slot, { depth, inFlight }));
  }

  history(): History {
    return { fine: this.resolutions.fine.snapshot(), coarse: this.resolutions.coarse.snapshot() };
  }

  /** The slots being filled now: what a live dashboard needs to stay in step. */
  latest(): { fine: HistoryPoint[]; coarse: HistoryPoint[] } {
    return { fine: this.resolutions.fine.latest(), coarse: this.resolutions.coarse.latest() };
  }

  private each(now: number, update: (slot: OpenSlot) => void): void {
    this.resolutions.fine.change(now, update);
    this.resolutions.coarse.change(now, update);
  }
}
