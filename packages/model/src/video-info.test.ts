import { describe, expect, it } from 'vitest';
import { readVideoInfoMetadata, videoInfoMetadata } from './video-info.ts';

const video = {
  durationSeconds: 4.2,
  width: 1080,
  height: 1920,
  rotation: 90,
  codec: 'hevc',
  container: 'QuickTime / MOV',
  size: 12_345_678,
  bitRate: 23_500_000,
};

describe('video info as thumbnail metadata', () => {
  it('round-trips, in ASCII header values', () => {
    const metadata = videoInfoMetadata(
      { ...video, container: 'Matroska / WebM — ü' },
      { bytes: 9, requests: 1 },
    );
    for (const value of Object.values(metadata)) expect(value).toMatch(/^[\x20-\x7e]*$/);
    expect(readVideoInfoMetadata(metadata)).toEqual({
      video: { ...video, container: 'Matroska / WebM — ü' },
      sourceRead: { bytes: 9, requests: 1 },
    });
  });

  it('gives undefined for what is missing or malformed', () => {
    expect(readVideoInfoMetadata(undefined)).toEqual({ video: undefined, sourceRead: undefined });
    const metadata = videoInfoMetadata(video);
    expect(readVideoInfoMetadata(metadata).sourceRead).toBeUndefined();
    expect(readVideoInfoMetadata({ 'video-info': '%7Bnot json' }).video).toBeUndefined();
    const wrong = videoInfoMetadata({ ...video, width: -1 });
    expect(readVideoInfoMetadata(wrong).video).toBeUndefined();
  });
});
