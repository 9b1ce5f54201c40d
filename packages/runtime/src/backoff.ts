/**
 * The one retry schedule of the pipeline: a delay doubling from `firstMs` up to `maxMs` after each failure
 * in a row, optionally shortened at random by up to `jitter` (a fraction) so that many clients do not retry
 * in lockstep; and a wait that ends as soon as its owner stops. Browser-safe (no Node imports).
 */
export interface Backoff {
  firstMs: number;
  maxMs: number;
  jitter?: number;
}

/**
 * How dashboards reconnect their WebSocket: shortened at random by up to 20 %, so that many dashboards do not
 * reconnect in lockstep after an API restart (the fault tests reconnect the same way).
 */
export const RECONNECT_BACKOFF: Backoff = { firstMs: 1000, maxMs: 30_000, jitter: 0.2 };

/** The delay after `failures` failures in a row (1 for the first). */
export function backoffDelay(backoff: Backoff, failures: number, random: () => number = Math.random): number {
  const doublings = Math.min(Math.max(0, failures - 1), 40);
  const ceiling = Math.min(backoff.maxMs, backoff.firstMs * 2 ** doublings);
  return Math.round(ceiling * (1 - (backoff.jitter ?? 0) * random()));
}

/** Resolves after `ms`, or at once when `signal` aborts: the caller then sees its own stop and ends. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
