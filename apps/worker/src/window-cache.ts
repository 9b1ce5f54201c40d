/**
 * Byte ranges of one source already fetched, kept up to a byte limit and dropped least recently used first.
 * ffprobe and each ffmpeg input read the same header and index; with this, storage sends them once.
 */
export interface WindowCache {
  /** The cached bytes from `offset` on, across adjacent windows, at most `length`; undefined when not cached. */
  read(offset: number, length: number): Buffer | undefined;
  /** Where the first cached window after `offset` starts (a fetch from `offset` can stop there). */
  nextStart(offset: number): number;
  /** Keeps bytes fetched from `start` (replacing any cached window they overlap), within the limit. */
  add(start: number, data: Buffer): void;
  /** Bytes held. */
  size(): number;
}

export function createWindowCache(limitBytes: number): WindowCache {
  /** Start offset → bytes; iteration order is least recently used first. */
  const windows = new Map<number, Buffer>();
  let held = 0;

  function covering(offset: number): [number, Buffer] | undefined {
    for (const [start, data] of windows)
      if (start <= offset && offset < start + data.length) return [start, data];
    return undefined;
  }

  function touch(start: number, data: Buffer): void {
    windows.delete(start);
    windows.set(start, data);
  }

  function remove(start: number): void {
    held -= windows.get(start)?.length ?? 0;
    windows.delete(start);
  }

  return {
    read(offset, length) {
      const parts: Buffer[] = [];
      let at = offset;
      let left = length;
      // The window holding `offset`, then each window that starts where the previous one ends.
      for (let found = covering(at); found && left > 0;) {
        const [start, data] = found;
        touch(start, data);
        const part = data.subarray(at - start, at - start + left);
        parts.push(part);
        at += part.length;
        left -= part.length;
        const next = windows.get(at);
        found = next && [at, next];
      }
      return parts.length ? Buffer.concat(parts) : undefined;
    },
    nextStart(offset) {
      let next = Infinity;
      for (const start of windows.keys()) if (start > offset && start < next) next = start;
      return next;
    },
    add(start, data) {
      if (data.length === 0 || data.length > limitBytes) return;
      const end = start + data.length;
      for (const [other, bytes] of windows) if (other < end && start < other + bytes.length) remove(other);
      windows.set(start, data);
      held += data.length;
      for (const oldest of windows.keys()) {
        if (held <= limitBytes) break;
        remove(oldest);
      }
    },
    size: () => held,
  };
}
