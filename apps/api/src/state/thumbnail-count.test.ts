import { describe, expect, it } from 'vitest';
import { ThumbnailCount } from './thumbnail-count.ts';

const thumb = (video: number, frame = '10') => ({
  key: `thumbnails/uploads/v${video}.mp4/${frame}.jpg`,
  source: `uploads/v${video}.mp4`,
  size: 10,
});
const frames = (video: number) => ['10', '50', '95'].map((f) => thumb(video, f));
const added = (video: number) => frames(video).map((t) => ({ key: t.key, thumbnails: 1, bytes: t.size }));
const removed = (video: number) => frames(video).map((t) => ({ key: t.key, thumbnails: -1, bytes: -t.size }));

describe('ThumbnailCount', () => {
  it('is counting, with partial totals, until the first walk finishes', () => {
    const count = new ThumbnailCount();
    expect(count.counting).toBe(true);
    count.startWalk();
    count.listedPage([...frames(1), ...frames(2)], true, thumb(2, '95').key);
    expect(count.totals).toEqual({ thumbnails: 6, bytes: 60, videos: 2 });
    expect(count.counting).toBe(true);
    count.listedPage(frames(3), false, thumb(3, '95').key);
    count.finishWalk();
    expect(count.counting).toBe(false);
    expect(count.totals).toEqual({ thumbnails: 9, bytes: 90, videos: 3 });
  });

  it('counts an event during the walk once, whether or not the listing saw it', () => {
    const count = new ThumbnailCount();
    count.startWalk();
    count.listedPage(frames(2), true, thumb(2, '95').key);
    // Behind the walk (v1 < v2): applied at once.
    count.change(added(1), 1);
    expect(count.totals.thumbnails).toBe(6);
    // Ahead of the walk: v5 written before its page was listed (the page shows it), v7 after (it does not),
    // v3 deleted after its page was listed (the page still shows it), v4 deleted before (it does not).
    count.change(added(5), 1);
    count.change(added(7), 1);
    count.change(removed(3), -1);
    count.change(removed(4), -1);
    expect(count.totals.thumbnails).toBe(6);
    count.listedPage([...frames(3), ...frames(5), ...frames(6)], true, thumb(6, '95').key);
    // v3 counted by the page then removed; v5 counted by the page only; v7 is ahead still.
    expect(count.totals).toEqual({ thumbnails: 12, bytes: 120, videos: 4 });
    count.listedPage([], false, undefined);
    count.finishWalk();
    expect(count.totals).toEqual({ thumbnails: 15, bytes: 150, videos: 5 });
    // After the walk every change applies.
    count.change(removed(7), -1);
    expect(count.totals).toEqual({ thumbnails: 12, bytes: 120, videos: 4 });
  });

  it('goes on from where an interrupted walk stopped, and a purge empties both totals', () => {
    const count = new ThumbnailCount();
    count.startWalk();
    count.listedPage(frames(1), true, thumb(1, '95').key);
    expect(count.walkPosition).toBe(thumb(1, '95').key);
    count.listedPage(frames(2), false, thumb(2, '95').key);
    count.finishWalk();
    expect(count.walkPosition).toBeUndefined();
    count.startWalk();
    count.listedPage(frames(1), true, thumb(1, '95').key);
    count.clear();
    expect(count.totals).toEqual({ thumbnails: 0, bytes: 0, videos: 0 });
    count.listedPage(frames(8), false, thumb(8, '95').key);
    count.finishWalk();
    expect(count.totals).toEqual({ thumbnails: 3, bytes: 30, videos: 1 });
  });
});
