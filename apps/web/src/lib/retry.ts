import { backoffDelay, sleep, type Backoff } from '@thumbs/runtime/backoff';
import { ApiError } from './api-client.ts';

/** Waits between attempts: 1 s doubling to 30 s, jittered so that many parts do not retry in lockstep. */
export const UPLOAD_BACKOFF: Backoff = { firstMs: 1000, maxMs: 30_000, jitter: 0.2 };
/** Retries before a failure is final: together they outlast an API restart (about 3 min). */
export const MAX_RETRIES = 10;

export class CancelledError extends Error {
  constructor() {
    super('Cancelled');
  }
}

/** Worth another attempt: no answer at all, the server's trouble, or a rate limit; not a refusal. */
export function isTransient(error: unknown): boolean {
  if (!(error instanceof ApiError)) return false;
  return error.status === 0 || error.status === 429 || error.status >= 500;
}

/** Whether the browser knows it has no network (outside a browser, it never does). */
function isOffline(): boolean {
  return typeof window !== 'undefined' && navigator.onLine === false;
}

/** Resolves when the browser says it is online again (at once when it is). */
function online(signal: AbortSignal): Promise<void> {
  if (!isOffline()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const back = () => {
      signal.removeEventListener('abort', aborted);
      resolve();
    };
    const aborted = () => {
      window.removeEventListener('online', back);
      reject(new CancelledError());
    };
    window.addEventListener('online', back, { once: true });
    signal.addEventListener('abort', aborted, { once: true });
  });
}

/**
 * Runs `attempt` until it succeeds, retrying transient failures with growing waits; while the browser is
 * offline it waits for the network without spending attempts. `onRetry` tells the user why it waits.
 */
export async function withRetry<T>(
  attempt: () => Promise<T>,
  signal: AbortSignal,
  onRetry: (reason: string) => void = () => {},
  transient: (error: unknown) => boolean = isTransient,
): Promise<T> {
  for (let tries = 0; ;) {
    if (signal.aborted) throw new CancelledError();
    try {
      return await attempt();
    } catch (error) {
      if (signal.aborted) throw new CancelledError();
      if (!transient(error)) throw error;
      if (isOffline()) {
        onRetry('offline: waiting for the network');
        await online(signal);
        continue;
      }
      if (tries === MAX_RETRIES) throw error;
      const delay = backoffDelay(UPLOAD_BACKOFF, ++tries);
      onRetry(`${(error as Error).message}: retrying in ${Math.ceil(delay / 1000)} s`);
      await sleep(delay, signal);
    }
  }
}
