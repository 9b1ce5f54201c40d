import { describe, expect, it } from 'vitest';
import { SigningBudget } from './signing-budget.ts';

describe('SigningBudget', () => {
  it('grants a full bucket at once, then what has refilled, per address', () => {
    const budget = new SigningBudget(600);
    const t0 = 1_000_000;
    expect(budget.take('a', 500, t0)).toBe(500);
    expect(budget.take('a', 500, t0)).toBe(100);
    expect(budget.take('a', 1, t0)).toBe(0);
    expect(budget.retryAfterSeconds('a', t0)).toBe(1);
    // 10 a second: half a minute refills 300.
    expect(budget.take('a', 1000, t0 + 30_000)).toBe(300);
    expect(budget.take('b', 1000, t0)).toBe(600);
    // Never more than a full bucket, however long it waited.
    expect(budget.take('a', 1000, t0 + 3_600_000)).toBe(600);
  });

  it('forgets the least recently seen addresses first, so its memory is bounded', () => {
    const budget = new SigningBudget(10, 2);
    budget.take('a', 10, 0);
    budget.take('b', 10, 0);
    budget.take('a', 0, 0);
    budget.take('c', 10, 0);
    // a was seen after b: b was forgotten (a full bucket again), a was not.
    expect(budget.take('a', 10, 0)).toBe(0);
    expect(budget.take('b', 10, 0)).toBe(10);
  });
});
