import { join } from 'node:path';
import { repoRoot } from '../apps/local/src/local-config.ts';

export interface BenchContext {
  /** A smoke run: fewer repetitions, smaller inputs, fewer clients. */
  quick: boolean;
  /** Cached inputs (git-ignored). */
  inputDir: string;
  /** Scratch space for one run (emulator data, temp dirs); removed at the end. */
  scratchDir: string;
  say: (line: string) => void;
  /** Raw measurements for results.json, by section. */
  details: Record<string, unknown>;
}

export const benchDataDir = join(repoRoot, '.data', 'bench');

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] ?? null)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

export const MB = 1e6;
