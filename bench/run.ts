/**
 * `npm run bench [-- <section>…] [--quick]`: measures what users care about, each figure beside the seed's
 * approach measured the same way in the same run, prints a table and writes bench/results.json.
 * Sections: worker, throughput, e2e, api, ws, longgop, backfill, scale (all by default).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { ffmpegPath } from '@thumbs/runtime';
import { percentile } from '../apps/api/src/state/percentiles.ts';
import { benchApi } from './api-bench.ts';
import { benchBackfill } from './backfill-bench.ts';
import { benchDataDir, type BenchContext } from './context.ts';
import { benchE2e } from './e2e-bench.ts';
import { markdownTable, type Figure } from './figures.ts';
import { benchLongGop } from './long-gop-bench.ts';
import { benchFanOut } from './fanout-bench.ts';
import { benchScale } from './scale-bench.ts';
import { benchThroughput } from './throughput-bench.ts';
import { benchWorker } from './worker-bench.ts';

const SECTIONS: Record<string, (ctx: BenchContext) => Promise<Figure[]>> = {
  worker: benchWorker,
  throughput: benchThroughput,
  e2e: benchE2e,
  api: benchApi,
  ws: benchFanOut,
  longgop: benchLongGop,
  backfill: benchBackfill,
  scale: benchScale,
};

function machine() {
  const cores = cpus();
  let ffmpeg = 'unknown';
  try {
    ffmpeg = execFileSync(ffmpegPath(), ['-version'], { encoding: 'utf8' }).split('\n')[0] ?? ffmpeg;
  } catch {
    // reported as unknown
  }
  return {
    cpu: cores[0]?.model ?? 'unknown',
    cores: cores.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    ffmpeg,
  };
}

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const unknown = args.filter((a) => a !== '--quick' && !(a in SECTIONS));
if (unknown.length) {
  process.stderr.write(
    `unknown section(s): ${unknown.join(', ')}; choose from ${Object.keys(SECTIONS).join(', ')}\n`,
  );
  process.exit(2);
}
const chosen = args.filter((a) => a in SECTIONS);
const sections = chosen.length ? chosen : Object.keys(SECTIONS);

const scratchDir = join(benchDataDir, `run-${process.pid}`);
mkdirSync(scratchDir, { recursive: true });
const ctx: BenchContext = {
  quick,
  inputDir: join(benchDataDir, 'inputs'),
  scratchDir,
  say: (line) => process.stdout.write(`${line}\n`),
  details: {},
};

function commit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/** Other work on the machine skews absolute times: the 1-minute load average, sampled every 30 s. */
const loadSamples: number[] = [];
const sampleLoad = () => loadSamples.push(Number(loadavg()[0]?.toFixed(2)));
sampleLoad();
const loadSampler = setInterval(sampleLoad, 30_000);

// Taken before the run: other engineers may commit while it runs.
const startCommit = commit();
const started = new Date();
const figures: Figure[] = [];
const errors: Record<string, string> = {};
try {
  for (const section of sections) {
    const t0 = Date.now();
    ctx.say(`\n== ${section} ==`);
    try {
      figures.push(...(await SECTIONS[section]!(ctx)));
    } catch (error) {
      errors[section] = error instanceof Error ? (error.stack ?? error.message) : String(error);
      ctx.say(`${section} failed: ${errors[section]}`);
    }
    ctx.say(`(${section}: ${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  }
} finally {
  clearInterval(loadSampler);
  rmSync(scratchDir, { recursive: true, force: true });
}
sampleLoad();

const command = `npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`;
const results = {
  date: started.toISOString(),
  command,
  commit: startCommit,
  durationSeconds: Math.round((Date.now() - started.getTime()) / 1000),
  quick,
  sections,
  machine: {
    ...machine(),
    loadAverage: {
      start: loadSamples[0],
      min: Math.min(...loadSamples),
      median: percentile(loadSamples, 50),
      max: Math.max(...loadSamples),
      end: loadSamples.at(-1),
    },
  },
  figures,
  errors,
  details: ctx.details,
};
writeFileSync(join(import.meta.dirname, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
ctx.say(`\n${markdownTable(figures)}\n`);
ctx.say(`${command} — ${results.date}, ${results.durationSeconds} s; raw figures in bench/results.json`);
process.exit(Object.keys(errors).length ? 1 : 0);
