import { parseThumbnailKey, type PipelineEvent } from '@thumbs/model';
import type { Logger } from '@thumbs/runtime';
import type { StateStore } from '../state/store.ts';
import type { Bucket } from './bucket.ts';
import { Poller, publicError } from './poller.ts';
import { thumbnailEntry } from './thumbnail-pages.ts';

/** An idle replica spends at most this many S3 requests per minute on walks. */
export const MAX_IDLE_REQUESTS_PER_MINUTE = 2;

export interface ThumbnailFeedOptions {
  bucket: Bucket;
  thumbnailPrefix: string;
  store: StateStore;
  reconcileMinutes: number;
  log: Logger;
}

/**
 * Keeps the store's live thumbnails (the bounded index) and totals (the count) current without holding the
 * bucket: events add and remove as they happen, and a walk through the listing, page by page, counts the
 * bucket, finds the newest thumbnails and heals missed events. The first walk runs in the background while the
 * API already serves (`counting`); later ones are spaced so that an idle replica stays under a fixed S3
 * request rate.
 */
export class ThumbnailFeed {
  private readonly options: ThumbnailFeedOptions;
  private readonly poller: Poller;
  private counted = false;
  private lastPages = 1;

  constructor(options: ThumbnailFeedOptions) {
    this.options = options;
    this.poller = new Poller({
      name: 'thumbnails',
      intervalMs: () => this.reconcileIntervalMs(),
      run: () => this.walk(),
      onError: (error, retryInMs) => {
        options.store.setSource('s3', publicError(error));
        options.log.warn({ err: error, retryInMs }, 'thumbnail listing failed');
      },
      maxBackoffMs: 5 * 60_000,
    });
  }

  start(): void {
    this.poller.start();
  }

  stop(): Promise<void> {
    return this.poller.stop();
  }

  /** The first walk is done: the totals are the bucket's. */
  get ready(): boolean {
    return this.counted;
  }

  /** Time between walks: the configured minimum, longer for big buckets (pages / rate). */
  reconcileIntervalMs(): number {
    return Math.max(
      this.options.reconcileMinutes * 60_000,
      (this.lastPages / MAX_IDLE_REQUESTS_PER_MINUTE) * 60_000,
    );
  }

  async onJobDone(event: Extract<PipelineEvent, { type: 'job.done' }>): Promise<void> {
    const { index, count } = this.options.store;
    const lastModified = Date.parse(event.time);
    const entries = event.thumbnails.flatMap((ref) => {
      const parsed = parseThumbnailKey(ref.key, this.options.thumbnailPrefix);
      return parsed ? [{ key: ref.key, ...parsed, lastModified, size: ref.size }] : [];
    });
    // A video whose frames are kept and seen again (a message delivered twice) replaces, not adds.
    const known = new Map(index.ofSource(event.source).map((e) => [e.key, e]));
    count.change(
      entries.map((e) => ({
        key: e.key,
        thumbnails: known.has(e.key) ? 0 : 1,
        bytes: e.size - (known.get(e.key)?.size ?? 0),
      })),
      known.size === 0 && entries.length > 0 ? 1 : 0,
    );
    await this.options.store.addThumbnails(entries);
  }

  /**
   * A video is being deleted with its thumbnails (call before the store forgets them). Its frames are
   * subtracted when they are kept; an older video's sizes are not known here, so its removal reaches the totals
   * at the next walk.
   */
  countRemoved(source: string): void {
    const gone = this.options.store.index.ofSource(source);
    if (gone.length === 0) return;
    this.options.store.count.change(
      gone.map((e) => ({ key: e.key, thumbnails: -1, bytes: -e.size })),
      -1,
    );
  }

  /**
   * One walk through the listing: counts, offers every thumbnail to the bounded index (which keeps the newest),
   * and, once complete, forgets kept thumbnails the bucket no longer has. After an error the next run goes on
   * where the walk stopped.
   */
  private async walk(): Promise<void> {
    const { store, bucket, thumbnailPrefix, log } = this.options;
    const { index, count } = store;
    const startedAt = Date.now();
    const resumeAfter = count.walkPosition || undefined;
    if (resumeAfter === undefined) count.startWalk();
    // Kept entries older than the walk that it does not list are gone from the bucket.
    const unseen = new Set(
      [...index.keys()].filter((key) => (index.get(key)?.lastModified ?? 0) < startedAt),
    );
    let pages = 0;
    for await (const page of bucket.listPages(thumbnailPrefix, { startAfter: resumeAfter })) {
      pages++;
      const entries = page.objects.flatMap((object) => thumbnailEntry(object, thumbnailPrefix) ?? []);
      count.listedPage(entries, page.truncated, page.objects.at(-1)?.Key);
      for (const entry of entries) unseen.delete(entry.key);
      store.setSource('s3', null);
      await store.thumbnailsListed(entries);
    }
    count.finishWalk();
    const removed = resumeAfter === undefined ? await store.removeThumbnails([...unseen]) : 0;
    this.lastPages = Math.max(1, pages);
    if (!this.counted) log.info({ ...count.totals, pages }, 'thumbnails counted');
    this.counted = true;
    if (removed) log.info({ removed }, 'walk forgot thumbnails the bucket no longer has');
    store.countChanged();
  }
}
