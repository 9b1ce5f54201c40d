import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { parseThumbnailKey, type PipelineEvent } from '@thumbs/model';
import type { Logger } from '@thumbs/runtime';
import type { StateStore } from '../state/store.ts';
import type { IndexEntry } from '../state/thumbnail-index.ts';
import { Poller, publicError } from './poller.ts';

const PAGE = 1000;
/** An idle replica spends at most this many S3 requests per minute on reconciliation. */
const MAX_IDLE_REQUESTS_PER_MINUTE = 2;

export interface ThumbnailSourceOptions {
  s3: S3Client;
  bucket: string;
  thumbnailPrefix: string;
  store: StateStore;
  reconcileMinutes: number;
  log: Logger;
}

/**
 * Keeps the store's thumbnail index equal to the bucket: one paginated listing at start, then events
 * (job.done adds, purged clears), and a slow reconciliation that heals missed events. The reconciliation
 * interval stretches with the bucket so that an idle replica stays under a fixed S3 request rate.
 */
export class ThumbnailSource {
  private readonly options: ThumbnailSourceOptions;
  private readonly poller: Poller;
  private loaded = false;
  private lastPages = 1;
  listings = 0;

  constructor(options: ThumbnailSourceOptions) {
    this.options = options;
    this.poller = new Poller({
      name: 'thumbnails',
      intervalMs: () => this.reconcileIntervalMs(),
      run: () => (this.loaded ? this.reconcile() : this.load()),
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

  get ready(): boolean {
    return this.loaded;
  }

  /** Time between reconciliations: the configured minimum, longer for big buckets (pages / rate). */
  reconcileIntervalMs(): number {
    return Math.max(
      this.options.reconcileMinutes * 60_000,
      (this.lastPages / MAX_IDLE_REQUESTS_PER_MINUTE) * 60_000,
    );
  }

  /** Forces a reconciliation now (tests, and after an admin action whose events may be lost). */
  reconcileNow(): Promise<void> {
    return this.poller.runNow();
  }

  async onJobDone(event: Extract<PipelineEvent, { type: 'job.done' }>): Promise<void> {
    const lastModified = Date.parse(event.time);
    const added: IndexEntry[] = [];
    for (const ref of event.thumbnails) {
      const parsed = parseThumbnailKey(ref.key, this.options.thumbnailPrefix);
      if (!parsed) continue;
      const entry = {
        key: ref.key,
        source: parsed.source,
        frame: parsed.frame,
        lastModified,
        size: ref.size,
      };
      if (this.options.store.index.upsert(entry)) added.push(entry);
    }
    await this.options.store.thumbnailsChanged(added, []);
  }

  private async load(): Promise<void> {
    const entries = await this.listAll();
    this.options.store.index.load(entries);
    this.loaded = true;
    this.options.store.setSource('s3', null);
    this.options.log.info({ thumbnails: entries.length, pages: this.lastPages }, 'thumbnail index built');
    await this.options.store.indexLoaded();
  }

  private async reconcile(): Promise<void> {
    const startedAt = Date.now();
    const listed = await this.listAll();
    const { index } = this.options.store;
    const seen = new Set<string>();
    const added: IndexEntry[] = [];
    for (const entry of listed) {
      seen.add(entry.key);
      if (!index.has(entry.key) && index.upsert(entry)) added.push(entry);
    }
    // Entries newer than the listing may simply not have been listed yet: only older ones are stale.
    const removed = [...index.keys()].filter(
      (key) => !seen.has(key) && (index.get(key)?.lastModified ?? 0) < startedAt,
    );
    for (const key of removed) index.remove(key);
    this.options.store.setSource('s3', null);
    if (added.length || removed.length) {
      this.options.log.info(
        { added: added.length, removed: removed.length },
        'reconciliation healed the index',
      );
    }
    await this.options.store.thumbnailsChanged(added, removed);
  }

  private async listAll(): Promise<IndexEntry[]> {
    const entries: IndexEntry[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await this.options.s3.send(
        new ListObjectsV2Command({
          Bucket: this.options.bucket,
          Prefix: this.options.thumbnailPrefix,
          ContinuationToken: token,
          MaxKeys: PAGE,
        }),
      );
      pages++;
      for (const object of page.Contents ?? []) {
        const parsed = object.Key ? parseThumbnailKey(object.Key, this.options.thumbnailPrefix) : undefined;
        if (!object.Key || !parsed) continue;
        entries.push({
          key: object.Key,
          source: parsed.source,
          frame: parsed.frame,
          lastModified: object.LastModified?.getTime() ?? 0,
          size: object.Size ?? 0,
        });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    this.lastPages = pages;
    this.listings++;
    return entries;
  }
}
