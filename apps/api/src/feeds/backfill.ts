/**
 * The backfill: a slow sweep of uploads/ that finds videos with no thumbnails of their current version and no
 * failure record, older than a grace period, and queues them as S3 would have. It heals what event delivery
 * lost (S3 notifications are at least once, not a transaction) and what was uploaded before, or while, the
 * notification was missing or misconfigured.
 *
 * Only the replica holding the lease sweeps, only while the work queue is empty (so nothing it finds can be
 * a job still waiting or in flight), one page of 1000 keys at a time with a pause between pages. Each page of
 * videos is joined with the slice of the thumbnail listing that holds their frames (both listings are in key
 * order), so the sweep holds one page, never the bucket.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { S3Client, _Object } from '@aws-sdk/client-s3';
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { buildS3Event, failureKey, isVideoKey, thumbnailKeys, type PipelineEvent } from '@thumbs/model';
import type { Logger } from '@thumbs/runtime';
import type { StateStore } from '../state/store.ts';
import { compareKeys, type Bucket } from './bucket.ts';
import { S3Lease } from './lease.ts';
import { Poller, publicError } from './poller.ts';

export interface BackfillOptions {
  s3: S3Client;
  sqs: SQSClient;
  listing: Bucket;
  bucket: string;
  region: string;
  uploadPrefix: string;
  thumbnailPrefix: string;
  failurePrefix: string;
  leaseKey: string;
  intervalMs: number;
  graceMs: number;
  /** Pause between pages of the listing, so that a sweep of a big bucket stays a trickle of requests. */
  pageDelayMs: number;
  workQueueUrl: () => Promise<string>;
  store: StateStore;
  announce: (event: PipelineEvent) => Promise<void>;
  log: Logger;
}

export interface SweepResult {
  /** Videos found with neither thumbnails of their version nor a failure record. */
  unprocessed: number;
  queued: number;
  /** S3 and SQS requests the sweep made. */
  requests: number;
}

const PAGE_KEYS = 1000;

export class Backfill {
  private readonly options: BackfillOptions;
  private readonly lease: S3Lease;
  private readonly poller: Poller;
  private sweeping: Promise<SweepResult> | undefined;

  constructor(options: BackfillOptions) {
    this.options = options;
    this.lease = new S3Lease({
      s3: options.s3,
      bucket: options.bucket,
      key: options.leaseKey,
      holder: `${hostname()}-${randomBytes(4).toString('hex')}`,
      // Held across a whole sweep and renewed at each page.
      ttlMs: Math.max(60_000, options.intervalMs),
    });
    this.poller = new Poller({
      name: 'backfill',
      intervalMs: options.intervalMs,
      run: () => this.scheduled(),
      onError: (error, retryInMs) =>
        options.log.warn({ err: error, retryInMs, reason: publicError(error) }, 'backfill sweep failed'),
      maxBackoffMs: Math.max(options.intervalMs, 60_000),
    });
  }

  start(): void {
    this.poller.start(this.options.intervalMs);
  }

  stop(): Promise<void> {
    return this.poller.stop();
  }

  /** A sweep now (the admin action): also while jobs are queued, since the operator asks for it. */
  sweepNow(): Promise<SweepResult> {
    this.sweeping ??= this.sweep().finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  private async scheduled(): Promise<void> {
    const { depth, inFlight } = this.options.store.queue;
    if (depth + inFlight > 0 || this.sweeping) return;
    if (!(await this.lease.acquire())) return;
    await this.sweepNow();
  }

  private async sweep(): Promise<SweepResult> {
    const { listing, uploadPrefix, failurePrefix, graceMs, pageDelayMs, log } = this.options;
    const result: SweepResult = { unprocessed: 0, queued: 0, requests: 0 };
    const failed = await this.listKeys(failurePrefix, result);
    const before = Date.now() - graceMs;
    for await (const page of listing.listPages(uploadPrefix, { maxKeys: PAGE_KEYS })) {
      result.requests++;
      const candidates = page.objects.filter(
        (object) =>
          object.Key &&
          isVideoKey(object.Key) &&
          (object.LastModified?.getTime() ?? Infinity) < before &&
          !failed.has(failureKey(object.Key, failurePrefix)),
      );
      const processed = await this.processed(candidates, result);
      const lost = candidates.filter((object) => !processed.has(object.Key ?? ''));
      result.unprocessed += lost.length;
      result.queued += await this.enqueue(lost, result);
      if (page.truncated) {
        await this.lease.acquire();
        result.requests += 2;
        await sleep(pageDelayMs);
      }
    }
    log.info(result, 'backfill sweep done');
    await this.options.announce({
      type: 'backfill.swept',
      unprocessed: result.unprocessed,
      queued: result.queued,
      time: new Date().toISOString(),
    });
    return result;
  }

  /**
   * The videos among `videos` with every frame's thumbnail written after this version of the video, read from
   * the thumbnail listing between their first and last frame keys.
   */
  private async processed(videos: _Object[], result: SweepResult): Promise<Set<string>> {
    const wanted = new Map<string, string>();
    for (const video of videos)
      for (const key of thumbnailKeys(video.Key ?? '', this.options.thumbnailPrefix))
        wanted.set(key, video.Key ?? '');
    const keys = [...wanted.keys()].sort(compareKeys);
    const [first, last] = [keys[0], keys.at(-1)];
    if (first === undefined || last === undefined) return new Set();
    const written = new Map<string, number>();
    // A proper prefix of the first key sorts just before it.
    listing: for await (const page of this.options.listing.listPages(this.options.thumbnailPrefix, {
      startAfter: first.slice(0, -1),
    })) {
      result.requests++;
      for (const object of page.objects) {
        if (!object.Key || compareKeys(object.Key, last) > 0) break listing;
        if (wanted.has(object.Key)) written.set(object.Key, object.LastModified?.getTime() ?? 0);
      }
    }
    return new Set(
      videos
        .filter((video) => {
          const uploaded = video.LastModified?.getTime() ?? 0;
          return thumbnailKeys(video.Key ?? '', this.options.thumbnailPrefix).every(
            (key) => (written.get(key) ?? -Infinity) >= uploaded,
          );
        })
        .map((video) => video.Key ?? ''),
    );
  }

  private async listKeys(prefix: string, result: SweepResult): Promise<Set<string>> {
    const keys = new Set<string>();
    for await (const page of this.options.listing.listPages(prefix)) {
      result.requests++;
      for (const object of page.objects) if (object.Key) keys.add(object.Key);
    }
    return keys;
  }

  /** Queues each video as the S3 event its upload should have sent; returns how many SQS accepted. */
  private async enqueue(objects: _Object[], result: SweepResult): Promise<number> {
    const { sqs, bucket, region } = this.options;
    const url = await this.options.workQueueUrl();
    let queued = 0;
    for (let i = 0; i < objects.length; i += 10) {
      const batch = objects.slice(i, i + 10);
      const sent = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: url,
          Entries: batch.map((object, j) => ({
            Id: String(j),
            MessageBody: buildS3Event({
              bucket,
              key: object.Key ?? '',
              size: object.Size ?? 0,
              eTag: object.ETag ?? '',
              eventName: 'ObjectCreated:Put',
              region,
              time: object.LastModified,
              configurationId: 'backfill',
            }),
          })),
        }),
      );
      result.requests++;
      const time = new Date().toISOString();
      for (const entry of sent.Successful ?? []) {
        const source = batch[Number(entry.Id)]?.Key;
        if (source) await this.options.announce({ type: 'job.queued', source, time });
      }
      queued += sent.Successful?.length ?? 0;
    }
    return queued;
  }
}
