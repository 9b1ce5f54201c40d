import type {
  CompletedUpload,
  MultipartUpload,
  MultipartUploadRef,
  SignedParts,
  UploadedParts,
} from '@thumbs/model';
import { ApiError } from './api-client.ts';
import { contentTypeOf } from './upload.ts';
import { CancelledError, isTransient, withRetry } from './retry.ts';
import { fingerprint, forgetUpload, saveUpload, savedUploads, type SavedUpload } from './upload-store.ts';

/** Calls an admin route of the API (with the admin token) and returns its JSON answer. */
export type ApiCall = <T>(path: string, options?: { method?: string; body?: unknown }) => Promise<T>;

/** Parts in flight at once, per file. */
export const PART_CONCURRENCY = 4;
/** Part URLs asked for in one call (the sign route takes up to 100). */
const SIGN_BATCH = 32;
/** A URL this close to its expiry is signed again rather than used. */
const URL_MARGIN_MS = 60_000;

export interface UploadEvents {
  /** Bytes S3 holds or is receiving, 0…1. */
  onProgress(fraction: number): void;
  /** Why the upload waits (retrying, offline), or undefined once it moves again. */
  onStatus(status: string | undefined): void;
  /** The key S3 stores the video under, as soon as it is known. */
  onKey(key: string): void;
}

/** The byte range of part `partNumber` (1-based) of a file cut into `partSize` pieces. */
export function partRange(partNumber: number, partSize: number, size: number): [number, number] {
  const start = (partNumber - 1) * partSize;
  return [start, Math.min(start + partSize, size)];
}

/**
 * The parts S3 already holds in full, by part number (ETag): a part of the wrong length (a different cut, or one
 * S3 holds from an interrupted attempt that the browser retried) is sent again.
 */
export function completeParts(
  listed: UploadedParts['parts'],
  upload: { partSize: number; partCount: number },
  size: number,
): Map<number, string> {
  const done = new Map<number, string>();
  for (const part of listed) {
    if (part.partNumber > upload.partCount) continue;
    const [start, end] = partRange(part.partNumber, upload.partSize, size);
    if (part.size === end - start) done.set(part.partNumber, part.eTag);
  }
  return done;
}

/** A storage refusal of a part PUT (403: an expired URL is signed again; 5xx and no answer: retried). */
class PartError extends ApiError {}

/** PUTs one part to its presigned URL with XMLHttpRequest (fetch reports no upload progress); resolves to its ETag. */
function putPart(url: string, body: Blob, signal: AbortSignal, onLoaded: (bytes: number) => void) {
  return new Promise<string>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const abort = () => xhr.abort();
    signal.addEventListener('abort', abort, { once: true });
    const settle = () => signal.removeEventListener('abort', abort);
    xhr.open('PUT', url);
    xhr.upload.onprogress = (event) => onLoaded(event.loaded);
    xhr.onload = () => {
      settle();
      const eTag = xhr.getResponseHeader('ETag');
      if (xhr.status >= 200 && xhr.status < 300 && eTag) return resolve(eTag);
      if (xhr.status >= 200 && xhr.status < 300)
        return reject(new PartError(502, 'Storage did not expose the ETag header (bucket CORS)'));
      reject(new PartError(xhr.status, `Storage refused a part (${xhr.status})`));
    };
    xhr.onerror = () => (settle(), reject(new PartError(0, 'Storage cannot be reached')));
    xhr.onabort = () => (settle(), reject(new CancelledError()));
    xhr.send(body);
  });
}

/**
 * One file's resumable multipart upload: parts in parallel (PART_CONCURRENCY), each retried on its own, the
 * upload remembered (upload-store.ts) until it completes so that the same file dropped again after a reload or
 * a lost connection resumes from the parts S3 holds; `cancel` aborts it in S3.
 */
export class ResumableUpload {
  private readonly file: File;
  private readonly api: ApiCall;
  private readonly events: UploadEvents;
  private readonly controller = new AbortController();
  private upload: SavedUpload | undefined;
  private readonly urls = new Map<number, { url: string; expiresAt: number }>();
  private readonly signing = new Map<number, Promise<void>>();
  private readonly queue: number[] = [];
  private readonly loaded = new Map<number, number>();
  private lastReport = 0;
  private running: Promise<string> | undefined;

  constructor(file: File, api: ApiCall, events: UploadEvents) {
    this.file = file;
    this.api = api;
    this.events = events;
  }

  /** Uploads (or resumes) the file; resolves with its key once S3 has the whole object. */
  run(): Promise<string> {
    this.running ??= this.work();
    return this.running;
  }

  /** Stops every part, then aborts the upload in S3, so that no incomplete upload is left behind. */
  async cancel(): Promise<void> {
    this.controller.abort();
    await this.running?.catch(() => {});
    if (this.upload) await abortUpload(this.api, this.upload);
  }

  private async work(): Promise<string> {
    const signal = this.controller.signal;
    const retrying = (status: string) => this.events.onStatus(status);
    const done = await withRetry(() => this.resumeOrCreate(), signal, retrying);
    const upload = this.upload!;
    this.events.onKey(upload.key);
    for (const [partNumber] of done) this.loaded.set(partNumber, this.partSize(partNumber));
    this.report(true);
    for (let n = 1; n <= upload.partCount; n++) if (!done.has(n)) this.queue.push(n);
    const eTags = new Map(done);
    const worker = async () => {
      for (let n = this.queue.shift(); n !== undefined; n = this.queue.shift()) {
        eTags.set(n, await this.sendPart(n, retrying));
        this.events.onStatus(undefined);
      }
    };
    await Promise.all(Array.from({ length: PART_CONCURRENCY }, worker));
    const parts = [...eTags].sort(([a], [b]) => a - b).map(([partNumber, eTag]) => ({ partNumber, eTag }));
    await withRetry(
      () =>
        this.api<CompletedUpload>('/api/uploads/multipart/complete', {
          method: 'POST',
          body: { ...this.ref(), parts },
        }),
      signal,
      retrying,
    );
    forgetUpload(upload.uploadId);
    this.events.onStatus(undefined);
    return upload.key;
  }

  private ref(): MultipartUploadRef {
    return { key: this.upload!.key, uploadId: this.upload!.uploadId };
  }

  private partSize(partNumber: number): number {
    const [start, end] = partRange(partNumber, this.upload!.partSize, this.file.size);
    return end - start;
  }

  /** The saved upload of this file and the parts S3 holds, or a new upload when there is none (or it expired). */
  private async resumeOrCreate(): Promise<Map<number, string>> {
    const print = fingerprint(this.file);
    const saved = savedUploads().find((u) => u.fingerprint === print);
    if (saved) {
      try {
        const listed = await this.api<UploadedParts>(
          `/api/uploads/multipart/parts?${new URLSearchParams({ key: saved.key, uploadId: saved.uploadId })}`,
        );
        this.upload = saved;
        return completeParts(listed.parts, saved, this.file.size);
      } catch (error) {
        if (!(error instanceof ApiError && error.status === 404)) throw error;
        forgetUpload(saved.uploadId);
      }
    }
    const created = await this.api<MultipartUpload>('/api/uploads/multipart', {
      method: 'POST',
      body: { filename: this.file.name, contentType: contentTypeOf(this.file), size: this.file.size },
    });
    this.upload = {
      ...created,
      fingerprint: print,
      name: this.file.name,
      size: this.file.size,
      savedAt: new Date().toISOString(),
    };
    saveUpload(this.upload);
    return new Map();
  }

  private async sendPart(partNumber: number, onRetry: (status: string) => void): Promise<string> {
    const [start, end] = partRange(partNumber, this.upload!.partSize, this.file.size);
    const body = this.file.slice(start, end);
    const signal = this.controller.signal;
    const attempt = async () => {
      const url = await this.url(partNumber);
      try {
        return await putPart(url, body, signal, (bytes) => {
          this.loaded.set(partNumber, bytes);
          this.report();
        });
      } catch (error) {
        this.loaded.set(partNumber, 0);
        if (error instanceof PartError && error.status === 403) this.urls.delete(partNumber);
        throw error;
      }
    };
    // A 403 from storage is an expired (or clock-skewed) URL: the next attempt signs a new one.
    const eTag = await withRetry(
      attempt,
      signal,
      onRetry,
      (e) => isTransient(e) || (e instanceof PartError && e.status === 403),
    );
    this.loaded.set(partNumber, end - start);
    this.report();
    return eTag;
  }

  /** A fresh presigned URL for the part, signed in a batch with the parts queued after it. */
  private async url(partNumber: number): Promise<string> {
    const fresh = (n: number) => (this.urls.get(n)?.expiresAt ?? 0) - URL_MARGIN_MS > Date.now();
    while (!fresh(partNumber)) {
      const pending = this.signing.get(partNumber);
      if (pending) {
        await pending;
        continue;
      }
      const batch = [partNumber, ...this.queue.filter((n) => !fresh(n) && !this.signing.has(n))].slice(
        0,
        SIGN_BATCH,
      );
      const signed = this.api<SignedParts>('/api/uploads/multipart/sign', {
        method: 'POST',
        body: { ...this.ref(), partNumbers: batch },
      }).then((answer) => {
        const expiresAt = Date.parse(answer.expiresAt);
        for (const part of answer.parts) this.urls.set(part.partNumber, { url: part.url, expiresAt });
      });
      const settled = signed.finally(() => batch.forEach((n) => this.signing.delete(n)));
      for (const n of batch)
        this.signing.set(
          n,
          settled.catch(() => {}),
        );
      await settled;
    }
    return this.urls.get(partNumber)!.url;
  }

  /** Progress at most every 100 ms (XMLHttpRequest reports far more often), and always at the end. */
  private report(force = false): void {
    const now = Date.now();
    if (!force && now - this.lastReport < 100) return;
    this.lastReport = now;
    let bytes = 0;
    for (const value of this.loaded.values()) bytes += value;
    this.events.onProgress(this.file.size === 0 ? 1 : Math.min(1, bytes / this.file.size));
  }
}

/** Aborts a multipart upload in S3 (an upload S3 no longer knows counts as aborted) and forgets it. */
export async function abortUpload(api: ApiCall, upload: MultipartUploadRef): Promise<void> {
  const never = new AbortController().signal;
  try {
    await withRetry(
      () =>
        api<void>('/api/uploads/multipart/abort', {
          method: 'POST',
          body: { key: upload.key, uploadId: upload.uploadId },
        }),
      never,
    );
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 404)) throw error;
  }
  forgetUpload(upload.uploadId);
}
