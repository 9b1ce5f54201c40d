import { describe, expect, it } from 'vitest';
import { setNewest } from './bounded-map.ts';

describe('setNewest', () => {
  it('keeps the newest entries up to the limit and says which one it evicted', () => {
    const map = new Map<string, number>();
    expect(setNewest(map, 'a', 1, 2)).toBeUndefined();
    expect(setNewest(map, 'b', 2, 2)).toBeUndefined();
    expect(setNewest(map, 'a', 3, 2)).toBeUndefined();
    expect(setNewest(map, 'c', 4, 2)).toBe('b');
    expect([...map]).toEqual([
      ['a', 3],
      ['c', 4],
    ]);
  });
});
