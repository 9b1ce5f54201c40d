/**
 * Peak memory and disk of a worker process: RSS of the process and its children (ffmpeg, ffprobe) summed as
 * a container's cgroup would count them, read from /proc, and the bytes under its scratch directory,
 * sampled every few milliseconds.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { sampleProcessTree } from '../apps/local/src/proc-stats.ts';

export interface Usage {
  /** Peak RSS of the process and its children alive at the same moment. */
  memoryPeakBytes: number;
  /** Peak bytes on disk under the scratch directory. */
  diskPeakBytes: number;
}

function diskBytes(dir: string): number {
  let total = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    try {
      total += entry.isDirectory() ? diskBytes(path) : statSync(path).size;
    } catch {
      // removed while we looked
    }
  }
  return total;
}

/** Samples until the returned function is called, which gives the peaks. */
export function sampleUsage(pid: number, scratchDir: string, intervalMs = 20): () => Usage {
  const usage: Usage = { memoryPeakBytes: 0, diskPeakBytes: 0 };
  const sample = () => {
    usage.memoryPeakBytes = Math.max(usage.memoryPeakBytes, sampleProcessTree(pid)?.memoryBytes ?? 0);
    usage.diskPeakBytes = Math.max(usage.diskPeakBytes, diskBytes(scratchDir));
  };
  const timer = setInterval(sample, intervalMs);
  return () => {
    clearInterval(timer);
    return usage;
  };
}
