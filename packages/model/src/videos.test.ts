import { describe, expect, it } from 'vitest';
import { isVideoKey, VIDEO_EXTENSIONS, videoContentType, videoSuffixVariants } from './videos.ts';

describe('video keys', () => {
  it.each(['a.mp4', 'A.MP4', 'uploads/x.MoV', 'clip.mkv', 'c.webm', 'c.Ts', 'c.3GP', 'c.m4v'])(
    'accepts %s',
    (key) => {
      expect(isVideoKey(key)).toBe(true);
    },
  );

  it.each(['a.jpg', 'mp4', 'a.mp4.txt', 'a.mp', 'uploads/', ''])('rejects %s', (key) => {
    expect(isVideoKey(key)).toBe(false);
  });

  it('knows a content type for every extension, in any case', () => {
    for (const ext of VIDEO_EXTENSIONS) expect(videoContentType(`x${ext.toUpperCase()}`)).toMatch(/^video\//);
    expect(videoContentType('x.mov')).toBe('video/quicktime');
    expect(videoContentType('x.txt')).toBeUndefined();
  });
});

describe('videoSuffixVariants', () => {
  const variants = videoSuffixVariants();

  it('lists every case spelling once: 2^letters per suffix', () => {
    const expected = VIDEO_EXTENSIONS.reduce((n, ext) => n + 2 ** ext.replace(/[^a-z]/g, '').length, 0);
    expect(variants).toHaveLength(expected);
    expect(new Set(variants).size).toBe(variants.length);
  });

  it('contains mixed spellings and only video suffixes', () => {
    expect(variants).toEqual(expect.arrayContaining(['.mp4', '.MP4', '.mP4', '.Mov', '.3gP', '.TS']));
    for (const variant of variants) expect(isVideoKey(`x${variant}`)).toBe(true);
  });
});
