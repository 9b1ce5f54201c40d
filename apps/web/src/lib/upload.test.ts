import { describe, expect, it } from 'vitest';
import { rejectReason } from './upload.ts';

describe('rejectReason', () => {
  it('accepts videos in any case', () => {
    expect(rejectReason({ name: 'clip.MP4', size: 10 })).toBeUndefined();
    expect(rejectReason({ name: 'phone.mov', size: 10 })).toBeUndefined();
  });

  it('refuses other files and empty ones with a clear reason', () => {
    expect(rejectReason({ name: 'notes.txt', size: 10 })).toMatch(/^Not a video file. Accepted: \.mp4 /);
    expect(rejectReason({ name: 'clip.mp4', size: 0 })).toBe('The file is empty');
    expect(rejectReason({ name: 'clip.mp4', size: 5 * 1024 ** 4 })).toBeUndefined();
    expect(rejectReason({ name: 'clip.mp4', size: 5 * 1024 ** 4 + 1 })).toMatch(/larger than S3 stores/);
  });
});
