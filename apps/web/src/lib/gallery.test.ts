import type { Thumbnail } from '@thumbs/model';
import { describe, expect, it } from 'vitest';
import { chunk, groupByVideo, withOlder } from './gallery.ts';

function thumb(source: string, frame: Thumbnail['frame'], lastModified: string): Thumbnail {
  return {
    key: `thumbnails/${source}/${frame.slice(0, -1)}.jpg`,
    url: 'u',
    frame,
    source,
    lastModified,
    size: 1,
  };
}

const items = [
  thumb('uploads/old.mp4', '95%', '2025-01-01T00:00:03Z'),
  thumb('uploads/new.mov', '50%', '2025-01-02T00:00:00Z'),
  thumb('uploads/old.mp4', '10%', '2025-01-01T00:00:01Z'),
  thumb('uploads/new.mov', '10%', '2025-01-02T00:00:01Z'),
  thumb('uploads/old.mp4', '50%', '2025-01-01T00:00:02Z'),
];

describe('groupByVideo', () => {
  it('groups by video, newest video first, frames in order', () => {
    const groups = groupByVideo(items, 'all');
    expect(groups.map((g) => g.source)).toEqual(['uploads/new.mov', 'uploads/old.mp4']);
    expect(groups[1]?.thumbnails.map((t) => t.frame)).toEqual(['10%', '50%', '95%']);
    expect(groups[1]?.latest).toBe('2025-01-01T00:00:03Z');
  });

  it('filters by frame position and by name', () => {
    expect(groupByVideo(items, '95%').map((g) => [g.source, g.thumbnails.length])).toEqual([
      ['uploads/old.mp4', 1],
    ]);
    expect(groupByVideo(items, '10%').flatMap((g) => g.thumbnails.map((t) => t.frame))).toEqual([
      '10%',
      '10%',
    ]);
    expect(groupByVideo(items, 'all', ' NEW ').map((g) => g.source)).toEqual(['uploads/new.mov']);
  });
});

describe('chunk', () => {
  it('splits into rows', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunk([], 3)).toEqual([]);
  });
});

describe('withOlder', () => {
  it('appends older pages without repeating keys, keeping the live entry', () => {
    const live = [thumb('uploads/new.mov', '10%', '2025-01-02T00:00:00Z')];
    const older = [
      { ...thumb('uploads/new.mov', '10%', '2025-01-02T00:00:00Z'), url: 'stale' },
      thumb('uploads/old.mp4', '10%', '2025-01-01T00:00:00Z'),
    ];
    const merged = withOlder(live, older);
    expect(merged.map((t) => [t.source, t.url])).toEqual([
      ['uploads/new.mov', 'u'],
      ['uploads/old.mp4', 'u'],
    ]);
    expect(withOlder(live, [])).toBe(live);
  });
});
