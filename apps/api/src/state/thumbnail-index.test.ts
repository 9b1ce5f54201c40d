import { describe, expect, it } from 'vitest';
import { InvalidCursorError, ThumbnailIndex, type IndexEntry } from './thumbnail-index.ts';

const FRAMES = ['10%', '50%', '95%'] as const;
const SLUGS = { '10%': '10', '50%': '50', '95%': '95' } as const;

function entries(videos: number): IndexEntry[] {
  return Array.from({ length: videos }, (_, v) =>
    FRAMES.map((frame) => ({
      key: `thumbnails/uploads/v${v}.mp4/${SLUGS[frame]}.jpg`,
      source: `uploads/v${v}.mp4`,
      frame,
      lastModified: 1_000_000 + v * 1000,
      size: 100,
    })),
  ).flat();
}

describe('ThumbnailIndex', () => {
  it('pages newest first through everything, once each, with stable cursors while entries are added', () => {
    const index = new ThumbnailIndex();
    index.load(entries(50));
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = index.page({ limit: 7, cursor });
      seen.push(...page.entries.map((e) => e.key));
      cursor = page.nextCursor ?? undefined;
      // Newer thumbnails arriving mid-paging do not shift later pages.
      if (pages++ === 2)
        index.upsert({
          ...entries(1)[0]!,
          key: 'thumbnails/uploads/new.mp4/10.jpg',
          source: 'uploads/new.mp4',
          lastModified: 9e9,
        });
    } while (cursor);
    expect(seen).toHaveLength(150);
    expect(new Set(seen).size).toBe(150);
    expect(seen[0]).toMatch(/v49\.mp4/);
    expect(seen.at(-1)).toMatch(/v0\.mp4/);
  });

  it('filters by source and frame, and counts videos and bytes', () => {
    const index = new ThumbnailIndex();
    index.load(entries(10));
    expect(index.count).toBe(30);
    expect(index.videos).toBe(10);
    expect(index.bytes).toBe(3000);
    expect(
      index
        .page({ source: 'uploads/v3.mp4', limit: 10 })
        .entries.map((e) => e.frame)
        .sort(),
    ).toEqual([...FRAMES]);
    const middle = index.page({ frame: '50%', limit: 100 }).entries;
    expect(middle).toHaveLength(10);
    expect(middle.every((e) => e.frame === '50%')).toBe(true);
    expect(index.page({ source: 'uploads/none.mp4', limit: 10 })).toEqual({ entries: [], nextCursor: null });
  });

  it('keeps counts right through upserts, replacements and removals', () => {
    const index = new ThumbnailIndex();
    const [a, b] = entries(1);
    expect(index.upsert(a!)).toBe(true);
    expect(index.upsert(a!)).toBe(false);
    expect(index.upsert({ ...a!, size: 500 })).toBe(true);
    index.upsert(b!);
    expect(index.count).toBe(2);
    expect(index.bytes).toBe(600);
    expect(index.remove(a!.key)).toBe(true);
    expect(index.remove(a!.key)).toBe(false);
    expect(index.recent(10).map((e) => e.key)).toEqual([b!.key]);
    index.clear();
    expect([index.count, index.bytes, index.videos]).toEqual([0, 0, 0]);
  });

  it('rejects a cursor it did not make', () => {
    const index = new ThumbnailIndex();
    expect(() => index.page({ limit: 1, cursor: 'garbage' })).toThrow(InvalidCursorError);
  });
});
