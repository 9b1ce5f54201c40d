import { describe, expect, it } from 'vitest';
import { backoffDelay, sleep } from './backoff.ts';

const noJitter = () => 0;

describe('backoffDelay', () => {
  it('doubles from the first delay and stops at the maximum', () => {
    const backoff = { firstMs: 1000, maxMs: 30_000 };
    expect([1, 2, 3, 4, 5, 6, 7, 100].map((n) => backoffDelay(backoff, n, noJitter))).toEqual([
      1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000,
    ]);
  });

  it('jitters downwards by at most the jitter fraction', () => {
    const backoff = { firstMs: 1000, maxMs: 30_000, jitter: 0.2 };
    expect(backoffDelay(backoff, 1, () => 1)).toBe(800);
    expect(backoffDelay(backoff, 11, () => 0.5)).toBe(27000);
    for (let i = 0; i < 100; i++) {
      const delay = backoffDelay(backoff, 4);
      expect(delay).toBeGreaterThanOrEqual(6400);
      expect(delay).toBeLessThanOrEqual(8000);
    }
  });
});

describe('sleep', () => {
  it('ends at once when its signal aborts', async () => {
    const stop = new AbortController();
    const started = Date.now();
    const waiting = sleep(60_000, stop.signal);
    setTimeout(() => stop.abort(), 20);
    await waiting;
    expect(Date.now() - started).toBeLessThan(1000);
    const again = Date.now();
    await sleep(60_000, stop.signal);
    expect(Date.now() - again).toBeLessThan(100);
  });

  it('waits its time otherwise', async () => {
    const started = Date.now();
    await sleep(50);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });
});
