import { describe, expect, it } from 'vitest';
import { FRAMES } from './frames.ts';
import { failureKey, failureSource, parseThumbnailKey, thumbnailKey, thumbnailKeys } from './keys.ts';

describe('thumbnail keys', () => {
  it.each(['uploads/clip.mp4', 'uploads/a/b/c d+é.mov', 'uploads/10.jpg.mp4', 'x.mp4'])(
    'round-trips the source and frame of %s',
    (source) => {
      for (const frame of FRAMES) {
        const key = thumbnailKey(source, frame);
        expect(key.startsWith('thumbnails/')).toBe(true);
        expect(parseThumbnailKey(key)).toEqual({ source, frame: frame.label });
      }
    },
  );

  it('gives different videos different keys, even with the same stem', () => {
    const keys = [...thumbnailKeys('uploads/clip.mp4'), ...thumbnailKeys('uploads/clip.mov')];
    expect(new Set(keys).size).toBe(6);
    expect(thumbnailKeys('uploads/clip.mp4')).toEqual([
      'thumbnails/uploads/clip.mp4/10.jpg',
      'thumbnails/uploads/clip.mp4/50.jpg',
      'thumbnails/uploads/clip.mp4/95.jpg',
    ]);
  });

  it('honours a custom prefix', () => {
    const key = thumbnailKey('uploads/a.mp4', FRAMES[1], 'thumbs/');
    expect(key).toBe('thumbs/uploads/a.mp4/50.jpg');
    expect(parseThumbnailKey(key, 'thumbs/')).toEqual({ source: 'uploads/a.mp4', frame: '50%' });
    expect(parseThumbnailKey(key)).toBeUndefined();
  });

  it.each([
    'thumbnails/uploads/a.mp4/20.jpg',
    'thumbnails/uploads/a.mp4/50.png',
    'thumbnails/50.jpg',
    'thumbnails//50.jpg',
    'uploads/a.mp4/50.jpg',
    'thumbnails/uploads/a.mp4',
  ])('rejects %s', (key) => {
    expect(parseThumbnailKey(key)).toBeUndefined();
  });

  it('puts failure records beside the source key', () => {
    expect(failureKey('uploads/a b.mp4')).toBe('failures/uploads/a b.mp4.json');
  });

  it('reads the source back from a failure record key, and nothing from other keys', () => {
    for (const source of ['uploads/a b.mp4', 'uploads/x.json.mov', 'uploads/日本.webm'])
      expect(failureSource(failureKey(source))).toBe(source);
    expect(failureSource('failures/.json')).toBeUndefined();
    expect(failureSource('thumbnails/uploads/a.mp4/10.jpg')).toBeUndefined();
  });
});
