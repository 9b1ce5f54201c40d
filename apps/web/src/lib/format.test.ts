import { describe, expect, it } from 'vitest';
import { baseName, formatBytes, formatCount, formatDuration, formatSince } from './format.ts';

describe('format', () => {
  it('formats bytes', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(50 * 1024 * 1024)).toBe('50 MiB');
    expect(formatBytes(5 * 1024 ** 4)).toBe('5.0 TiB');
  });

  it('formats durations', () => {
    expect(formatDuration(null)).toBe('—');
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(4200)).toBe('4.2 s');
    expect(formatDuration(192_000)).toBe('3 m 12 s');
    expect(formatDuration(7_500_000)).toBe('2 h 5 m');
    expect(formatDuration(3 * 86_400_000)).toBe('3 d 0 h');
  });

  it('formats time since an instant', () => {
    expect(formatSince('2025-01-01T00:00:00Z', Date.parse('2025-01-01T00:01:05Z'))).toBe('1 m 5 s');
    expect(formatSince(null, 0)).toBe('—');
    expect(formatSince('garbage', 0)).toBe('—');
  });

  it('formats counts and names', () => {
    expect(formatCount(12345)).toBe('12,345');
    expect(baseName('uploads/a/b/clip.mp4')).toBe('clip.mp4');
    expect(baseName('clip.mp4')).toBe('clip.mp4');
  });
});
