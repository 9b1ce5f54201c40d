/**
 * The backfill: a slow sweep of uploads/ that finds videos with no thumbnails of their current version and no
 * failure record, older than a grace period, and queues them as S3 would have. It heals what event delivery
 * lost (S3 notifications are at least once, not a transaction) and what was uploaded before, or while, the
 * notification was missing or misconfigured.
 *
 * Only the replica holding the lease sweeps, only while the work queue is empty (so nothing it finds can be
 * a job still waiting or in flight), one page of 1000 keys at a time with a pause between pages.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ListObjectsV2Command, type S3Client, type _Object } from '@aws-sdk/client-s3';
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { buildS3Event, failureKey, isVideoKey, thumbnailKeys, type PipelineEvent } from '@thumbs/model';
import type { Logger } from '@thumbs/runtime';
import type { StateStore } from '../state/store.ts';
import { S3Lease } from './lease.ts';
import { Poller, publicError } from './poller.ts';

export interface BackfillOptions {
  s3: S3Client;
  sqs: SQSClient;
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
  /** Whether the thumbnail index is built (the sweep compares against it). */
  indexReady: () => boolean;
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
    if (!this.options.indexReady() || depth + inFlight > 0 || this.sweeping) return;
    if (!(await this.lease.acquire())) return;
    await this.sweepNow();
  }

  private async sweep(): Promise<SweepResult> {
    const { s3, bucket, uploadPrefix, graceMs, pageDelayMs, log } = this.options;
    const result: SweepResult = { unprocessed: 0, queued: 0, requests: 0 };
    const failed = await this.listKeys(this.options.failurePrefix, result);
    const before = Date.now() - graceMs;
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: uploadPrefix,
          MaxKeys: PAGE_KEYS,
          ContinuationToken: token,
        }),
      );
      result.requests++;
      const lost = (page.Contents ?? []).filter(
        (object) =>
          object.Key &&
          isVideoKey(object.Key) &&
          (object.LastModified?.getTime() ?? Infinity) < before &&
          !failed.has(failureKey(object.Key, this.options.failurePrefix)) &&
          !this.hasThumbnails(object),
      );
      result.unprocessed += lost.length;
      result.queued += await this.enqueue(lost, result);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
      if (token) {
        await this.lease.acquire();
        result.requests += 2;
        await sleep(pageDelayMs);
      }
    } while (token);
    log.info(result, 'backfill sweep done');
    await this.options.announce({
      type: 'backfill.swept',
      unprocessed: result.unprocessed,
      queued: result.queued,
      time: new Date().toISOString(),
    });
    return result;
  }

  /** Every frame's thumbnail is in the index and was written after this version of the video. */
  private hasThumbnails(object: _Object): boolean {
    const uploaded = object.LastModified?.getTime() ?? 0;
    return thumbnailKeys(object.Key ?? '', this.options.thumbnailPrefix).every((key) => {
      const entry = this.options.store.index.get(key);
      return entry !== undefined && entry.lastModified >= uploaded;
    });
  }

  private async listKeys(prefix: string, result: SweepResult): Promise<Set<string>> {
    const keys = new Set<string>();
    let token: string | undefined;
    do {
      const page = await this.options.s3.send(
        new ListObjectsV2Command({ Bucket: this.options.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      result.requests++;
      for (const object of page.Contents ?? []) if (object.Key) keys.add(object.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
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
