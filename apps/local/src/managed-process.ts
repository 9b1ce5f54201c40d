/**
 * One local process run like a Kubernetes pod: a pod record that follows its life (Pending → Running →
 * Succeeded/Failed), restart with backoff when it exits on its own (restarts + 1), CPU and memory sampled
 * from /proc, output in `<logDir>/<pod name>.log`, and a graceful stop (SIGTERM, then SIGKILL after a grace).
 */
import { backoffDelay } from '@thumbs/runtime';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import type { Log } from './log.ts';
import { millicores, sampleProcessTree, type ProcessSample } from './proc-stats.ts';
import type { PodRegistry } from './pods.ts';

export interface ProcessSpec {
  /** The `app` label, e.g. thumbnail-worker. */
  app: string;
  container: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  logDir: string;
  stopGraceMs: number;
  sampleMs?: number;
}

/** Kubernetes' CrashLoopBackOff, shortened: 1 s doubling to 30 s. */
const RESTART_BACKOFF = { firstMs: 1000, maxMs: 30_000 };
/** A run this long counts as healthy: the next crash starts the backoff afresh. */
const HEALTHY_RUN_MS = 60_000;

function tail(file: string, bytes = 1500): string {
  try {
    const size = statSync(file).size;
    const fd = openSync(file, 'r');
    const buffer = Buffer.alloc(Math.min(bytes, size));
    readSync(fd, buffer, 0, buffer.length, size - buffer.length);
    closeSync(fd);
    return buffer.toString('utf8').trim().split('\n').slice(-8).join('\n');
  } catch {
    return '';
  }
}

export class ManagedProcess {
  readonly name: string;
  readonly logFile: string;
  readonly #spec: ProcessSpec;
  readonly #registry: PodRegistry;
  readonly #log: Log;
  #child?: ChildProcess;
  #startedAt = 0;
  #crashes = 0;
  #restartTimer?: NodeJS.Timeout;
  #sampleTimer?: NodeJS.Timeout;
  #stopping?: Promise<void>;
  #exited?: () => void;

  constructor(
    name: string,
    spec: ProcessSpec,
    registry: PodRegistry,
    log: Log,
    labels: Record<string, string> = {},
  ) {
    this.name = name;
    this.#spec = spec;
    this.#registry = registry;
    this.#log = log;
    this.logFile = join(spec.logDir, `${name}.log`);
    registry.add({
      name,
      labels: { app: spec.app, ...labels },
      phase: 'Pending',
      container: {
        name: spec.container,
        ready: false,
        restarts: 0,
        state: { waiting: { reason: 'ContainerCreating' } },
      },
    });
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get terminating(): boolean {
    return this.#stopping !== undefined;
  }

  get ready(): boolean {
    return this.#registry.get(this.name)?.container.ready ?? false;
  }

  start(): void {
    const out = openSync(this.logFile, 'a');
    const child = spawn(this.#spec.command, this.#spec.args, {
      cwd: this.#spec.cwd,
      env: this.#spec.env,
      stdio: ['ignore', out, out],
    });
    closeSync(out);
    this.#child = child;
    child.once('spawn', () => this.#running(child));
    child.once('error', (error) => {
      this.#log('error', `${this.name}: cannot start ${this.#spec.command}: ${error.message}`);
      if (child.pid === undefined) this.#exit(127, null);
    });
    child.once('exit', (code, signal) => this.#exit(code ?? 128, signal));
  }

  #running(child: ChildProcess): void {
    this.#startedAt = Date.now();
    const startedAt = new Date(this.#startedAt).toISOString();
    this.#registry.update(this.name, (pod) => ({
      ...pod,
      phase: 'Running',
      startedAt: pod.startedAt ?? startedAt,
      container: { ...pod.container, ready: !this.terminating, state: { running: { startedAt } } },
    }));
    this.#sample(child);
  }

  #sample(child: ChildProcess): void {
    const pid = child.pid;
    if (pid === undefined) return;
    let previous: { sample: ProcessSample; time: number } | undefined;
    const take = (): void => {
      const sample = sampleProcessTree(pid);
      if (!sample) return;
      const time = Date.now();
      const cpu = previous ? millicores(previous.sample, sample, time - previous.time) : 0;
      previous = { sample, time };
      this.#registry.setUsage(this.name, {
        cpuMillicores: cpu,
        memoryBytes: sample.memoryBytes,
        time: new Date(time).toISOString(),
      });
    };
    take();
    this.#sampleTimer = setInterval(take, this.#spec.sampleMs ?? 2000);
  }

  #exit(code: number, signal: NodeJS.Signals | null): void {
    clearInterval(this.#sampleTimer);
    this.#child = undefined;
    const finishedAt = new Date().toISOString();
    const startedAt = this.#startedAt ? new Date(this.#startedAt).toISOString() : undefined;
    const exitCode = signal ? 128 + (constants.signals[signal] ?? 0) : code;
    // Recorded on a requested stop too: the watch's DELETED event then tells how the process ended.
    this.#registry.update(this.name, (pod) => ({
      ...pod,
      phase: exitCode === 0 ? 'Succeeded' : 'Failed',
      container: {
        ...pod.container,
        ready: false,
        state: {
          terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt, finishedAt },
        },
      },
    }));
    if (this.#stopping) {
      this.#exited?.();
      return;
    }
    if (Date.now() - this.#startedAt > HEALTHY_RUN_MS) this.#crashes = 0;
    const delay = backoffDelay(RESTART_BACKOFF, ++this.#crashes);
    const output = tail(this.logFile);
    this.#log(
      exitCode === 0 ? 'warn' : 'error',
      `${this.name} exited (${signal ?? `code ${code}`}); restarting in ${delay / 1000}s` +
        (output ? `\n    last output:\n${output.replace(/^/gm, '      ')}` : ''),
    );
    this.#restartTimer = setTimeout(() => {
      this.#registry.update(this.name, (pod) => ({
        ...pod,
        phase: 'Pending',
        container: { ...pod.container, restarts: pod.container.restarts + 1 },
      }));
      this.start();
    }, delay);
  }

  /** SIGTERM, then SIGKILL after the grace period; the pod record is deleted once the process is gone. */
  stop(): Promise<void> {
    if (this.#stopping) return this.#stopping;
    clearTimeout(this.#restartTimer);
    this.#registry.update(this.name, (pod) => ({
      ...pod,
      deletionTimestamp: new Date().toISOString(),
      container: { ...pod.container, ready: false },
    }));
    const child = this.#child;
    this.#stopping = new Promise<void>((resolve) => {
      if (!child) return resolve();
      const kill = setTimeout(() => child.kill('SIGKILL'), this.#spec.stopGraceMs);
      this.#exited = () => {
        clearTimeout(kill);
        resolve();
      };
      child.kill('SIGTERM');
    }).then(() => this.#registry.remove(this.name));
    return this.#stopping;
  }
}
