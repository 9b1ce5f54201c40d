import { describe, expect, it } from 'vitest';
import { createWindowCache } from './window-cache.ts';

const bytes = (from: number, length: number) =>
  Buffer.from(Array.from({ length }, (_, i) => (from + i) % 256));

describe('window cache', () => {
  it('reads across adjacent windows, up to a gap or the length asked', () => {
    const cache = createWindowCache(1000);
    cache.add(0, bytes(0, 10));
    cache.add(10, bytes(10, 10));
    cache.add(30, bytes(30, 10));
    expect(cache.read(5, 100)).toEqual(bytes(5, 15));
    expect(cache.read(5, 8)).toEqual(bytes(5, 8));
    expect(cache.read(20, 10)).toBeUndefined();
    expect(cache.nextStart(12)).toBe(30);
    expect(cache.nextStart(30)).toBe(Infinity);
  });

  it('replaces the windows a new one overlaps, and skips one larger than the limit', () => {
    const cache = createWindowCache(100);
    cache.add(0, bytes(0, 10));
    cache.add(20, bytes(20, 10));
    cache.add(5, bytes(5, 20));
    expect(cache.read(0, 10)).toBeUndefined();
    expect(cache.read(5, 100)).toEqual(bytes(5, 20));
    expect(cache.size()).toBe(20);
    cache.add(200, bytes(200, 101));
    expect(cache.size()).toBe(20);
  });

  it('drops the least recently read windows beyond the limit', () => {
    const cache = createWindowCache(30);
    cache.add(0, bytes(0, 10));
    cache.add(100, bytes(100, 10));
    cache.add(200, bytes(200, 10));
    cache.read(0, 1);
    cache.add(300, bytes(300, 10));
    expect(cache.read(100, 10)).toBeUndefined();
    expect([0, 200, 300].map((offset) => cache.read(offset, 10)?.length)).toEqual([10, 10, 10]);
    expect(cache.size()).toBe(30);
  });
});
