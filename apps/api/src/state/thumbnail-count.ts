import { compareKeys } from '../feeds/bucket.ts';

export interface Totals {
  thumbnails: number;
  bytes: number;
  videos: number;
}

/** One event's effect: thumbnails added (1) or removed (-1) by key, with their bytes. */
export interface KeyChange {
  key: string;
  thumbnails: number;
  bytes: number;
}

interface Change {
  keys: KeyChange[];
  videos: number;
}

interface Walk {
  totals: Totals;
  /** The last key listed: the walk has seen everything up to here. */
  position: string;
  lastSource: string;
  /** Changes to keys the walk had not reached when they happened, until a page lists past them. */
  ahead: Change[];
}

const zero = (): Totals => ({ thumbnails: 0, bytes: 0, videos: 0 });

/**
 * The bucket's thumbnail totals without holding the bucket: a walk through the listing (in key order) sums
 * them, and events adjust them. A change to a key the walk has already passed is applied at once. A change to
 * a key ahead of it waits for the page that lists past that key, which tells whether the listing saw the
 * change (the object is there, or is gone): only a change the listing missed is applied. So an event during
 * the walk is counted once, whether it came before, during or after the request of the page that covers it.
 * The totals shown are the last finished walk's plus the changes since; before the first walk finishes, the
 * running walk's, marked `counting`.
 */
export class ThumbnailCount {
  private finished: Totals | undefined;
  private walk: Walk | undefined;

  get counting(): boolean {
    return this.finished === undefined;
  }

  get totals(): Totals {
    return { ...(this.finished ?? this.walk?.totals ?? zero()) };
  }

  /** The last key the running walk listed (undefined when none runs): after an error it goes on from there. */
  get walkPosition(): string | undefined {
    return this.walk?.position;
  }

  startWalk(): void {
    this.walk = { totals: zero(), position: '', lastSource: '', ahead: [] };
  }

  /**
   * One page of the walk: its thumbnails (in key order, so a video's frames come together), whether more
   * follow, and the page's last key of any kind.
   */
  listedPage(
    entries: { key: string; source: string; size: number }[],
    truncated: boolean,
    lastKey: string | undefined,
  ): void {
    const walk = this.walk;
    if (!walk) return;
    for (const entry of entries) {
      walk.totals.thumbnails++;
      walk.totals.bytes += entry.size;
      if (entry.source !== walk.lastSource) walk.totals.videos++;
      walk.lastSource = entry.source;
    }
    walk.position = lastKey ?? walk.position;
    const covered = (key: string) => !truncated || compareKeys(key, walk.position) <= 0;
    const listed = new Set(entries.map((e) => e.key));
    const waiting: Change[] = [];
    for (const change of walk.ahead) {
      if (!change.keys.every((c) => covered(c.key))) {
        waiting.push(change);
        continue;
      }
      // An added thumbnail the page does not show, or a removed one it still shows, was missed by the listing.
      const missed = change.keys.filter((c) => listed.has(c.key) === c.thumbnails < 0);
      apply(walk.totals, missed, missed.length === change.keys.length ? change.videos : 0);
    }
    walk.ahead = waiting;
  }

  finishWalk(): void {
    if (this.walk) this.finished = this.walk.totals;
    this.walk = undefined;
  }

  /** What an event changed: thumbnails by key, and whether a video appeared (1) or went (-1). */
  change(keys: KeyChange[], videos: number): void {
    if (this.finished) apply(this.finished, keys, videos);
    const walk = this.walk;
    if (!walk) return;
    if (keys.every((c) => compareKeys(c.key, walk.position) <= 0)) apply(walk.totals, keys, videos);
    else walk.ahead.push({ keys, videos });
  }

  /** Everything is gone (a purge): nothing counted so far exists any more. */
  clear(): void {
    if (this.finished) this.finished = zero();
    if (this.walk) {
      this.walk.totals = zero();
      this.walk.ahead = [];
    }
  }
}

function apply(totals: Totals, keys: KeyChange[], videos: number): void {
  for (const change of keys) {
    totals.thumbnails = Math.max(0, totals.thumbnails + change.thumbnails);
    totals.bytes = Math.max(0, totals.bytes + change.bytes);
  }
  totals.videos = Math.max(0, totals.videos + videos);
}
