import { backoffDelay } from '@thumbs/runtime';

export interface PollerOptions {
  name: string;
  intervalMs: number | (() => number);
  run: () => Promise<void>;
  onError: (error: unknown, retryInMs: number) => void;
  maxBackoffMs?: number;
}

/**
 * What a failing source shows in the state (dashboard, /api/state): the kind of error only. AWS's messages
 * name the account, roles and resources, so they go to the log, never to viewers.
 */
export function publicError(error: unknown): string {
  let kind = 'Error';
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    kind = '$metadata' in error || typeof code !== 'string' ? error.name || kind : code;
  }
  return `${kind} (details in the API log)`;
}

/**
 * Runs a task again and again, one run at a time, `intervalMs` apart; after a failure it waits longer each
 * time (doubling up to maxBackoffMs) and reports the error instead of throwing. Never overlaps runs.
 */
export class Poller {
  private readonly options: PollerOptions;
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private failures = 0;
  private running: Promise<void> | undefined;

  constructor(options: PollerOptions) {
    this.options = options;
  }

  start(delayMs = 0): void {
    this.stopped = false;
    this.schedule(delayMs);
  }

  /** Runs now (after the current run, if any) instead of waiting for the next interval. */
  async runNow(): Promise<void> {
    if (this.running) await this.running;
    clearTimeout(this.timer);
    await this.tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), delayMs);
  }

  private async tick(): Promise<void> {
    const run = (async () => {
      try {
        await this.options.run();
        this.failures = 0;
        const interval = this.options.intervalMs;
        this.schedule(typeof interval === 'function' ? interval() : interval);
      } catch (error) {
        this.failures++;
        const interval = this.options.intervalMs;
        const retryIn = backoffDelay(
          {
            firstMs: typeof interval === 'function' ? 1000 : Math.max(interval, 1000),
            maxMs: this.options.maxBackoffMs ?? 60_000,
          },
          this.failures,
        );
        this.options.onError(error, retryIn);
        this.schedule(retryIn);
      }
    })();
    this.running = run;
    await run;
    if (this.running === run) this.running = undefined;
  }
}
