import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from './api-client.ts';
import { completeParts, partRange } from './multipart-upload.ts';
import { CancelledError, MAX_RETRIES, withRetry } from './retry.ts';
import { fingerprint, forgetUpload, saveUpload, savedUploads, type SavedUpload } from './upload-store.ts';

const MiB = 1024 ** 2;

describe('parts', () => {
  it('cuts a file into parts of partSize bytes, the last one shorter', () => {
    expect(partRange(1, 8 * MiB, 20 * MiB)).toEqual([0, 8 * MiB]);
    expect(partRange(3, 8 * MiB, 20 * MiB)).toEqual([16 * MiB, 20 * MiB]);
  });

  it('resumes only from parts S3 holds in full', () => {
    const upload = { partSize: 8 * MiB, partCount: 3 };
    const done = completeParts(
      [
        { partNumber: 1, eTag: '"a"', size: 8 * MiB },
        { partNumber: 2, eTag: '"b"', size: 1024 },
        { partNumber: 3, eTag: '"c"', size: 4 * MiB },
        { partNumber: 4, eTag: '"d"', size: 8 * MiB },
      ],
      upload,
      20 * MiB,
    );
    expect([...done]).toEqual([
      [1, '"a"'],
      [3, '"c"'],
    ]);
  });
});

class MemoryStorage implements Storage {
  private readonly map = new Map<string, string>();
  get length() {
    return this.map.size;
  }
  clear() {
    this.map.clear();
  }
  getItem(key: string) {
    return this.map.get(key) ?? null;
  }
  key(index: number) {
    return [...this.map.keys()][index] ?? null;
  }
  removeItem(key: string) {
    this.map.delete(key);
  }
  setItem(key: string, value: string) {
    this.map.set(key, value);
  }
}

describe('saved uploads', () => {
  it('remembers one upload per file until it is forgotten, and survives garbage', () => {
    const store = new MemoryStorage();
    const file = { name: 'a.mp4', size: 10, lastModified: 1 };
    const saved: SavedUpload = {
      fingerprint: fingerprint(file),
      name: 'a.mp4',
      size: 10,
      key: 'uploads/a-1.mp4',
      uploadId: 'u1',
      partSize: 8 * MiB,
      partCount: 1,
      savedAt: '2026-01-01T00:00:00.000Z',
    };
    saveUpload(saved, store);
    saveUpload({ ...saved, uploadId: 'u2' }, store);
    expect(savedUploads(store).map((u) => u.uploadId)).toEqual(['u2']);
    expect(fingerprint({ ...file, lastModified: 2 })).not.toBe(saved.fingerprint);
    forgetUpload('u2', store);
    expect(savedUploads(store)).toEqual([]);
    store.setItem('thumbs.multipart-uploads', '{not json');
    expect(savedUploads(store)).toEqual([]);
  });
});

describe('withRetry', () => {
  afterEach(() => vi.useRealTimers());

  it('retries transient failures with growing waits, then gives up with the last error', async () => {
    vi.useFakeTimers();
    const attempt = vi.fn(async () => {
      throw new ApiError(503, 'busy');
    });
    const reasons: string[] = [];
    const result = withRetry(attempt, new AbortController().signal, (r) => reasons.push(r));
    const settled = result.catch((error: unknown) => error);
    await vi.runAllTimersAsync();
    expect(await settled).toMatchObject({ status: 503 });
    expect(attempt).toHaveBeenCalledTimes(MAX_RETRIES + 1);
    expect(reasons[0]).toBe('busy: retrying in 1 s');
    expect(reasons.at(-1)).toMatch(/^busy: retrying in (2[4-9]|30) s$/);
  });

  it('does not retry a refusal, and stops at once when cancelled', async () => {
    const refused = vi.fn(async () => {
      throw new ApiError(400, 'bad');
    });
    await expect(withRetry(refused, new AbortController().signal)).rejects.toMatchObject({ status: 400 });
    expect(refused).toHaveBeenCalledTimes(1);

    const controller = new AbortController();
    const waiting = withRetry(async () => {
      throw new ApiError(0, 'unreachable');
    }, controller.signal);
    controller.abort();
    await expect(waiting).rejects.toBeInstanceOf(CancelledError);
  });
});
