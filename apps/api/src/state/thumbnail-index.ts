import type { FrameLabel } from '@thumbs/model';

export interface IndexEntry {
  key: string;
  source: string;
  frame: FrameLabel;
  lastModified: number;
  size: number;
}

export interface PageQuery {
  source?: string;
  frame?: FrameLabel;
  limit: number;
  cursor?: string;
}

export interface Page {
  entries: IndexEntry[];
  nextCursor: string | null;
}

export class InvalidCursorError extends Error {}

function compare(a: { lastModified: number; key: string }, b: { lastModified: number; key: string }): number {
  return a.lastModified - b.lastModified || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

function encodeCursor(entry: IndexEntry): string {
  return Buffer.from(JSON.stringify([entry.lastModified, entry.key])).toString('base64url');
}

function decodeCursor(cursor: string): { lastModified: number; key: string } {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && typeof value[0] === 'number' && typeof value[1] === 'string') {
      return { lastModified: value[0], key: value[1] };
    }
  } catch {
    // reported below
  }
  throw new InvalidCursorError('cursor is not one this API returned');
}

/**
 * Every thumbnail in the bucket, in memory, ordered by time. Built once from a listing and kept current from
 * events, so reading the newest N, a page, or one video's thumbnails costs the same at 100 or 100,000 entries
 * (binary search plus the items returned), and never a request to S3.
 */
export class ThumbnailIndex {
  /** Ascending by (lastModified, key): the newest entries are at the end. */
  private readonly sorted: IndexEntry[] = [];
  private readonly byKey = new Map<string, IndexEntry>();
  private readonly bySource = new Map<string, Set<string>>();
  private totalBytes = 0;

  get count(): number {
    return this.sorted.length;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  get videos(): number {
    return this.bySource.size;
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  get(key: string): IndexEntry | undefined {
    return this.byKey.get(key);
  }

  /** Adds or replaces an entry; returns false when the same entry was already there. */
  upsert(entry: IndexEntry): boolean {
    const existing = this.byKey.get(entry.key);
    if (existing && existing.lastModified === entry.lastModified && existing.size === entry.size)
      return false;
    if (existing) this.remove(entry.key);
    this.sorted.splice(this.position(entry), 0, entry);
    this.byKey.set(entry.key, entry);
    let keys = this.bySource.get(entry.source);
    if (!keys) this.bySource.set(entry.source, (keys = new Set()));
    keys.add(entry.key);
    this.totalBytes += entry.size;
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
    this.totalBytes -= entry.size;
    return true;
  }

  clear(): void {
    this.sorted.length = 0;
    this.byKey.clear();
    this.bySource.clear();
    this.totalBytes = 0;
  }

  /** Replaces the whole content at once (the first listing); much faster than one upsert per entry. */
  load(entries: IndexEntry[]): void {
    this.clear();
    const unique = new Map(entries.map((e) => [e.key, e]));
    this.sorted.push(...[...unique.values()].sort(compare));
    for (const entry of this.sorted) {
      this.byKey.set(entry.key, entry);
      let keys = this.bySource.get(entry.source);
      if (!keys) this.bySource.set(entry.source, (keys = new Set()));
      keys.add(entry.key);
      this.totalBytes += entry.size;
    }
  }

  keys(): IterableIterator<string> {
    return this.byKey.keys();
  }

  /** The newest `limit` entries, newest first. */
  recent(limit: number): IndexEntry[] {
    return this.sorted.slice(Math.max(0, this.sorted.length - limit)).reverse();
  }

  /** Newest first, filtered; the cursor is opaque and stays valid while entries come and go. */
  page(query: PageQuery): Page {
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const matches = (e: IndexEntry) =>
      (query.frame === undefined || e.frame === query.frame) && (!after || compare(e, after) < 0);
    let candidates: IndexEntry[];
    if (query.source !== undefined) {
      const keys = this.bySource.get(query.source) ?? new Set<string>();
      candidates = [...keys]
        .map((k) => this.byKey.get(k))
        .filter((e): e is IndexEntry => e !== undefined && matches(e))
        .sort((a, b) => compare(b, a));
    } else {
      candidates = [];
      const start = after
        ? this.position({ lastModified: after.lastModified, key: after.key }) - 1
        : this.sorted.length - 1;
      for (let i = start; i >= 0 && candidates.length <= query.limit; i--) {
        const entry = this.sorted[i];
        if (entry && matches(entry)) candidates.push(entry);
      }
    }
    const entries = candidates.slice(0, query.limit);
    const last = entries.at(-1);
    return { entries, nextCursor: candidates.length > query.limit && last ? encodeCursor(last) : null };
  }

  /** Index of the first entry not smaller than `probe` (binary search). */
  private position(probe: { lastModified: number; key: string }): number {
    let low = 0;
    let high = this.sorted.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      const entry = this.sorted[mid] as IndexEntry;
      if (compare(entry, probe) < 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
