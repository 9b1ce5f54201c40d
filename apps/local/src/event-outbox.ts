/**
 * S3 event notifications waiting for SQS, kept in an append-only file. The endpoint records an event before
 * it acknowledges the write that caused it, and delivers it until SQS accepts it, so a crash, a kill -9 or
 * an unreachable queue between the two delays the event but never loses it (at least once, as AWS promises).
 */
import { appendFileSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { S3ObjectEventName } from '@thumbs/model';
import { backoffDelay, sleep, type Backoff } from '@thumbs/runtime';
import type { Log } from './log.ts';

export interface S3ObjectEvent {
  bucket: string;
  key: string;
  event: S3ObjectEventName;
  time: string;
  /** Orders events for the same key: hex, growing with time. */
  sequencer: string;
  size?: number;
  eTag?: string;
}

interface Pending extends S3ObjectEvent {
  id: number;
}

type Line = { pending: Pending } | { done: number };

export interface EventOutboxOptions {
  file: string;
  /** Sends one event to every queue that should get it; throws when it must be tried again. */
  deliver: (event: S3ObjectEvent) => Promise<void>;
  log: Log;
  /** First and longest wait between delivery attempts. */
  retry?: Backoff;
}

/** Client errors (a queue that refuses, a bad request) do not heal by retrying; outages and throttling do. */
function isRetryable(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const name = (error as { name?: string }).name ?? '';
  return status === undefined || status >= 500 || /Throttl|RequestThrottled|OverLimit/.test(name);
}

function readLines(file: string): Line[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new Error(`cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
  return text.split('\n').flatMap((line) => {
    try {
      return line ? [JSON.parse(line) as Line] : [];
    } catch {
      // Only the last line can be torn, by a kill in the middle of its write; its write was never acknowledged.
      return [];
    }
  });
}

export class EventOutbox {
  readonly #options: EventOutboxOptions;
  readonly #pending = new Map<number, Pending>();
  readonly #stopping = new AbortController();
  #nextId = 1;
  #sequence = 0;
  #running: Promise<void> | undefined;
  #idle: (() => void)[] = [];

  constructor(options: EventOutboxOptions) {
    this.#options = options;
    for (const line of readLines(options.file)) {
      if ('pending' in line) this.#pending.set(line.pending.id, line.pending);
      else this.#pending.delete(line.done);
    }
    this.#nextId = Math.max(0, ...this.#pending.keys()) + 1;
    this.#rewrite();
    if (this.#pending.size > 0)
      options.log('info', `S3 events: ${this.#pending.size} not yet delivered before the last stop`);
  }

  /** How many events SQS has not accepted yet. */
  get pending(): number {
    return this.#pending.size;
  }

  /** A sequencer for an event happening now (per endpoint, growing). */
  sequencer(time: Date): string {
    return (BigInt(time.getTime()) * 1000n + BigInt(this.#sequence++ % 1000))
      .toString(16)
      .toUpperCase()
      .padStart(18, '0');
  }

  /** Writes the event down (synchronously: it is on disk when this returns), then delivers it in the background. */
  record(event: S3ObjectEvent): void {
    const pending = { ...event, id: this.#nextId++ };
    appendFileSync(this.#options.file, `${JSON.stringify({ pending } satisfies Line)}\n`);
    this.#pending.set(pending.id, pending);
    this.start();
  }

  /** Delivers whatever is pending, in order; returns at once (the work goes on in the background). */
  start(): void {
    if (this.#running || this.#stopping.signal.aborted) return;
    this.#running = this.#run().finally(() => {
      this.#running = undefined;
      if (this.#pending.size > 0 && !this.#stopping.signal.aborted) this.start();
    });
  }

  /** Resolves once nothing is pending (for tests and for an orderly stop). */
  idle(): Promise<void> {
    if (this.#pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  async stop(): Promise<void> {
    this.#stopping.abort();
    await this.#running?.catch(() => undefined);
  }

  async #run(): Promise<void> {
    const retry = this.#options.retry ?? { firstMs: 250, maxMs: 10_000 };
    let failures = 0;
    for (const [id, event] of this.#pending) {
      for (;;) {
        if (this.#stopping.signal.aborted) return;
        try {
          await this.#options.deliver(event);
          break;
        } catch (error) {
          const where = `S3 event ${event.event} for s3://${event.bucket}/${event.key}`;
          if (!isRetryable(error)) {
            this.#options.log('warn', `${where} dropped: ${(error as Error).message}`);
            break;
          }
          if (failures === 0)
            this.#options.log('warn', `${where} not delivered yet (${(error as Error).message}); retrying`);
          await sleep(backoffDelay(retry, ++failures), this.#stopping.signal);
        }
      }
      if (failures > 0) this.#options.log('info', 'S3 events: delivering again');
      failures = 0;
      this.#done(id);
    }
  }

  #done(id: number): void {
    this.#pending.delete(id);
    if (this.#pending.size > 0) {
      appendFileSync(this.#options.file, `${JSON.stringify({ done: id } satisfies Line)}\n`);
      return;
    }
    // Nothing pending: start the file afresh, so it never grows past one burst of events.
    this.#rewrite();
    for (const resolve of this.#idle.splice(0)) resolve();
  }

  /** Write-then-rename: a crash leaves either the old file or the new one, never half of one. */
  #rewrite(): void {
    const temporary = `${this.#options.file}.tmp`;
    const lines = [...this.#pending.values()].map((pending) => `${JSON.stringify({ pending })}\n`);
    writeFileSync(temporary, lines.join(''));
    renameSync(temporary, this.#options.file);
  }
}
