import type { FrameLabel } from '@thumbs/model';

export interface IndexEntry {
  key: string;
  source: string;
  frame: FrameLabel;
  lastModified: number;
  size: number;
}

function compare(a: IndexEntry, b: IndexEntry): number {
  return a.lastModified - b.lastModified || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

/**
 * The newest thumbnails, at most `capacity` of them, ordered by time, with each video's frames: what the
 * dashboard shows live. Memory stays the same at a hundred or a million thumbnails in the bucket; the rest is
 * paged from S3 listings (thumbnail-pages.ts) and counted by ThumbnailCount.
 */
export class ThumbnailIndex {
  /** Ascending by (lastModified, key): the newest entries are at the end, the next to go at the start. */
  private readonly sorted: IndexEntry[] = [];
  private readonly byKey = new Map<string, IndexEntry>();
  private readonly bySource = new Map<string, Set<string>>();
  readonly capacity: number;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  get size(): number {
    return this.sorted.length;
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  get(key: string): IndexEntry | undefined {
    return this.byKey.get(key);
  }

  keys(): IterableIterator<string> {
    return this.byKey.keys();
  }

  /** The frames of one video that are kept (none once it is older than everything kept). */
  ofSource(source: string): IndexEntry[] {
    return [...(this.bySource.get(source) ?? [])].flatMap((key) => this.byKey.get(key) ?? []);
  }

  /**
   * Adds or replaces an entry, forgetting the oldest past capacity. Returns false when nothing changed: the
   * same entry was there, or the index is full of newer ones.
   */
  upsert(entry: IndexEntry): boolean {
    const existing = this.byKey.get(entry.key);
    if (existing && existing.lastModified === entry.lastModified && existing.size === entry.size)
      return false;
    const oldest = this.sorted[0];
    if (!existing && this.sorted.length >= this.capacity && oldest && compare(entry, oldest) < 0)
      return false;
    if (existing) this.remove(entry.key);
    this.sorted.splice(this.position(entry), 0, entry);
    this.byKey.set(entry.key, entry);
    let keys = this.bySource.get(entry.source);
    if (!keys) this.bySource.set(entry.source, (keys = new Set()));
    keys.add(entry.key);
    if (this.sorted.length > this.capacity && this.sorted[0]) this.remove(this.sorted[0].key);
    return true;
  }

  remove(key: string): boolean {
    const entry = this.byKey.get(key);
    if (!entry) return false;
    this.sorted.splice(this.position(entry), 1);
    this.byKey.delete(key);
    const keys = this.bySource.get(entry.source);
    keys?.delete(key);
    if (keys?.size === 0) this.bySource.delete(entry.source);
    return true;
  }

  clear(): void {
    this.sorted.length = 0;
    this.byKey.clear();
    this.bySource.clear();
  }

  /** The newest `limit` entries, newest first. */
  recent(limit: number): IndexEntry[] {
    return this.sorted.slice(Math.max(0, this.sorted.length - limit)).reverse();
  }

  /** Index of the first entry not smaller than `probe` (binary search). */
  private position(probe: IndexEntry): number {
    let low = 0;
    let high = this.sorted.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (compare(this.sorted[mid] as IndexEntry, probe) < 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
