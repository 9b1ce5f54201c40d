import { describe, expect, it } from 'vitest';
import { ThumbnailIndex, type IndexEntry } from './thumbnail-index.ts';

const FRAMES = ['10%', '50%', '95%'] as const;
const SLUGS = { '10%': '10', '50%': '50', '95%': '95' } as const;

function entries(videos: number, from = 0): IndexEntry[] {
  return Array.from({ length: videos }, (_, i) =>
    FRAMES.map((frame) => ({
      key: `thumbnails/uploads/v${from + i}.mp4/${SLUGS[frame]}.jpg`,
      source: `uploads/v${from + i}.mp4`,
      frame,
      lastModified: 1_000_000 + (from + i) * 1000,
      size: 100,
    })),
  ).flat();
}

describe('ThumbnailIndex', () => {
  it('keeps the newest `capacity` thumbnails, in whatever order 100,000 are offered', () => {
    const index = new ThumbnailIndex(300);
    const all = entries(33_334);
    // A walk offers them in key order, which is not time order: here, a scrambled one.
    for (let i = 0; i < all.length; i++) index.upsert(all[(i * 7919) % all.length]!);
    expect(index.size).toBe(300);
    const newest = [...all].sort((a, b) => b.lastModified - a.lastModified || (a.key < b.key ? 1 : -1));
    expect(index.recent(300).map((e) => e.key)).toEqual(newest.slice(0, 300).map((e) => e.key));
    // Older than everything kept, with the index full: refused, nothing evicted.
    const old = { ...all[0]!, key: 'thumbnails/uploads/old.mp4/10.jpg', source: 'uploads/old.mp4' };
    expect(index.upsert(old)).toBe(false);
    expect(index.size).toBe(300);
  });

  it("gives a video's frames, and forgets a video's frames once newer ones push them out", () => {
    const index = new ThumbnailIndex(6);
    for (const entry of entries(2)) index.upsert(entry);
    expect(
      index
        .ofSource('uploads/v1.mp4')
        .map((e) => e.frame)
        .sort(),
    ).toEqual([...FRAMES]);
    for (const entry of entries(1, 2)) index.upsert(entry);
    expect(index.ofSource('uploads/v0.mp4')).toEqual([]);
    expect(index.ofSource('uploads/v2.mp4')).toHaveLength(3);
    expect(index.ofSource('uploads/none.mp4')).toEqual([]);
  });

  it('replaces, refuses duplicates and removes', () => {
    const index = new ThumbnailIndex(10);
    const [a, b] = entries(1);
    expect(index.upsert(a!)).toBe(true);
    expect(index.upsert(a!)).toBe(false);
    expect(index.upsert({ ...a!, size: 500 })).toBe(true);
    expect(index.get(a!.key)?.size).toBe(500);
    index.upsert(b!);
    expect(index.size).toBe(2);
    expect(index.remove(a!.key)).toBe(true);
    expect(index.remove(a!.key)).toBe(false);
    expect(index.recent(10).map((e) => e.key)).toEqual([b!.key]);
    index.clear();
    expect(index.size).toBe(0);
  });
});
