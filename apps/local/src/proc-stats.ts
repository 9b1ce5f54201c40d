/**
 * CPU and memory of a process and its descendants (ffmpeg children included, as a container's cgroup would
 * count them), read from /proc on Linux.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

function clockTicksPerSecond(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

const TICKS_PER_SECOND = clockTicksPerSecond();

function children(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((task) =>
      readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(' ').filter(Boolean).map(Number),
    );
  } catch {
    return [];
  }
}

/** utime + stime + cutime + cstime: the exited children's time moves into cutime/cstime, so the sum only grows. */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0);
}

function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : 0;
}

export interface ProcessSample {
  cpuSeconds: number;
  memoryBytes: number;
}

/** Undefined when the process is gone. */
export function sampleProcessTree(pid: number): ProcessSample | undefined {
  let ticks = 0;
  let memory = 0;
  const pending = [pid];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    try {
      ticks += cpuTicks(next);
      memory += rssBytes(next);
    } catch {
      if (next === pid) return undefined;
      continue;
    }
    pending.push(...children(next));
  }
  return { cpuSeconds: ticks / TICKS_PER_SECOND, memoryBytes: memory };
}

/** Millicores used between two samples taken `elapsedMs` apart. */
export function millicores(previous: ProcessSample, current: ProcessSample, elapsedMs: number): number {
  if (elapsedMs <= 0) return 0;
  return Math.max(0, Math.round(((current.cpuSeconds - previous.cpuSeconds) * 1_000_000) / elapsedMs));
}
