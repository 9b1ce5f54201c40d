import type { QueuePoint } from '@thumbs/model';

export interface QueueSample {
  depth: number;
  inFlight: number;
}

/**
 * Queue depth over the last few minutes, one point per wall-clock slot (e.g. every 5 s). Points belong to
 * slots, not to ticks: a tick that runs late still lands in its own slot, and slots it skipped are filled
 * with the last known value, so the history never has holes.
 */
export class QueueHistory {
  readonly slotMs: number;
  readonly capacity: number;
  private readonly points: { slot: number; sample: QueueSample }[] = [];

  constructor(slotMs = 5000, windowMs = 5 * 60_000) {
    this.slotMs = slotMs;
    this.capacity = Math.ceil(windowMs / slotMs);
  }

  /** Records a sample; returns true when it started a new point (the history grew). */
  record(sample: QueueSample, now = Date.now()): boolean {
    const slot = Math.floor(now / this.slotMs);
    const last = this.points.at(-1);
    if (last && slot < last.slot) return false;
    if (last && slot === last.slot) {
      last.sample = sample;
      return false;
    }
    if (last) {
      const firstMissing = Math.max(last.slot + 1, slot - this.capacity + 1);
      for (let s = firstMissing; s < slot; s++) this.points.push({ slot: s, sample: last.sample });
    }
    this.points.push({ slot, sample });
    if (this.points.length > this.capacity) this.points.splice(0, this.points.length - this.capacity);
    return true;
  }

  list(): QueuePoint[] {
    return this.points.map(({ slot, sample }) => ({
      time: new Date(slot * this.slotMs).toISOString(),
      depth: sample.depth,
      inFlight: sample.inFlight,
    }));
  }

  clear(): void {
    this.points.length = 0;
  }
}
