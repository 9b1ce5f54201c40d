import { setTimeout as sleep } from 'node:timers/promises';
import { S3Client } from '@aws-sdk/client-s3';
import type { KubeConfig } from '@kubernetes/client-node';
import { thumbnailKeys, type PipelineEvent } from '@thumbs/model';
import { createAwsClients, type AwsClients, type Logger } from '@thumbs/runtime';
import type { ApiConfig } from './config.ts';
import { Bucket } from './feeds/bucket.ts';
import { Backfill } from './feeds/backfill.ts';
import { DeadLetters } from './feeds/dead-letters.ts';
import { EventBus } from './feeds/events.ts';
import { MultipartUploads } from './feeds/multipart-uploads.ts';
import { PodFeed } from './feeds/pods.ts';
import { PresignCache } from './feeds/presign-cache.ts';
import { QueueFeed } from './feeds/queues.ts';
import { ThumbnailFeed } from './feeds/thumbnails.ts';
import { Videos } from './feeds/videos.ts';
import { StateStore } from './state/store.ts';

export interface PipelineOptions {
  config: ApiConfig;
  log: Logger;
  aws?: AwsClients;
  kubeConfig?: KubeConfig;
  /** Long-poll wait on the fan-out queue (20 s in production; tests stop faster with less). */
  eventsWaitSeconds?: number;
}

// URLs can live as little as their signing credentials have left (minutes, near an STS renewal): look often.
const URL_RENEWAL_CHECK_MS = 10_000;
/** How long the first walk of the bucket waits for the events subscription (normally well under a second). */
const SUBSCRIPTION_WAIT_MS = 5000;

/**
 * Everything the API knows and does, wired together: the state store and the sources that keep it current
 * (thumbnail index, queues, pods, the events fan-out), and the admin actions.
 */
export class Pipeline {
  readonly config: ApiConfig;
  readonly aws: AwsClients;
  readonly store: StateStore;
  readonly bucket: Bucket;
  readonly thumbnails: ThumbnailFeed;
  readonly queues: QueueFeed;
  readonly events: EventBus;
  readonly pods: PodFeed | undefined;
  readonly backfill: Backfill;
  readonly uploads: MultipartUploads;
  readonly videos: Videos;
  private readonly log: Logger;
  /** Signs presigned URLs (uploads, parts) for the bucket and the multipart uploads. */
  private readonly signer: S3Client;
  private lastPurge = 0;
  private renewTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(options: PipelineOptions) {
    const { config, log } = options;
    this.config = config;
    this.log = log;
    this.aws = options.aws ?? createAwsClients(config);
    const presign = new PresignCache({
      s3: this.aws.s3,
      bucket: config.bucket,
      ttlSeconds: config.thumbnailUrlTtlSeconds,
    });
    this.store = new StateStore({
      presign,
      snapshotThumbnails: config.snapshotThumbnails,
      recentJobs: config.recentJobs,
    });
    // Presigned uploads must not carry the SDK's default checksum of an empty body: sign with checksums
    // only where S3 requires them, with the same endpoint and credentials as the main client.
    this.signer = new S3Client({
      region: config.region,
      endpoint: config.endpoint,
      forcePathStyle: Boolean(config.endpoint),
      credentials: this.aws.s3.config.credentials,
      requestChecksumCalculation: 'WHEN_REQUIRED',
    });
    this.bucket = new Bucket({ s3: this.aws.s3, signer: this.signer, ...config });
    this.uploads = new MultipartUploads({
      s3: this.aws.s3,
      signer: this.signer,
      bucket: config.bucket,
      uploadPrefix: config.uploadPrefix,
      urlTtlSeconds: config.uploadUrlTtlSeconds,
    });
    this.thumbnails = new ThumbnailFeed({
      bucket: this.bucket,
      thumbnailPrefix: config.thumbnailPrefix,
      store: this.store,
      reconcileMinutes: config.reconcileMinutes,
      log: log.child({ source: 'thumbnails' }),
    });
    this.queues = new QueueFeed({
      sqs: this.aws.sqs,
      ...config,
      pollMs: config.queuePollMs,
      store: this.store,
      deadLetters: new DeadLetters({
        bucket: this.bucket,
        failurePrefix: config.failurePrefix,
        maxReceiveCount: config.maxReceiveCount,
        log: log.child({ source: 'dead-letters' }),
      }),
      log: log.child({ source: 'queues' }),
    });
    this.events = new EventBus({
      sqs: this.aws.sqs,
      sns: this.aws.sns,
      topicArn: config.eventsTopicArn,
      topicName: config.eventsTopicName,
      waitSeconds: options.eventsWaitSeconds ?? 20,
      onEvent: (event) => this.apply(event),
      log: log.child({ source: 'events' }),
    });
    this.backfill = new Backfill({
      s3: this.aws.s3,
      sqs: this.aws.sqs,
      listing: this.bucket,
      ...config,
      leaseKey: config.backfillLeaseKey,
      intervalMs: config.backfillIntervalSeconds * 1000,
      graceMs: config.backfillGraceSeconds * 1000,
      pageDelayMs: config.backfillPageDelayMs,
      workQueueUrl: () => this.queues.workQueueUrl(),
      store: this.store,
      announce: (event) => this.announce(event),
      log: log.child({ source: 'backfill' }),
    });
    this.videos = new Videos({
      s3: this.aws.s3,
      sqs: this.aws.sqs,
      bucket: this.bucket,
      bucketName: config.bucket,
      region: config.region,
      thumbnailPrefix: config.thumbnailPrefix,
      failurePrefix: config.failurePrefix,
      store: this.store,
      workQueueUrl: () => this.queues.workQueueUrl(),
      announce: (event) => this.announce(event),
    });
    if (config.podsEnabled) {
      try {
        this.pods = new PodFeed({
          namespace: config.k8sNamespace,
          metricsMs: config.podMetricsMs,
          store: this.store,
          log: log.child({ source: 'pods' }),
          kubeConfig: options.kubeConfig,
        });
      } catch (error) {
        this.store.setSource('pods', `no Kubernetes configuration: ${(error as Error).message}`);
      }
    } else {
      this.store.setSource('pods', 'disabled (PODS_ENABLED=false)');
    }
  }

  start(): void {
    this.events.start();
    // The walk starts once events reach this replica, so that whatever changes while it lists is not missed;
    // if the subscription takes too long (SNS unreachable), it lists anyway and the next walk heals.
    void Promise.race([this.events.subscribed, sleep(SUBSCRIPTION_WAIT_MS, undefined, { ref: false })]).then(
      () => {
        if (!this.stopped) this.thumbnails.start();
      },
    );
    this.queues.start();
    this.pods?.start();
    this.backfill.start();
    this.renewTimer = setInterval(() => {
      this.store.renewUrls().catch((error: unknown) => this.log.warn({ err: error }, 'URL renewal failed'));
    }, URL_RENEWAL_CHECK_MS);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.renewTimer);
    await Promise.all([
      this.thumbnails.stop(),
      this.queues.stop(),
      this.pods?.stop(),
      this.events.stop(),
      this.backfill.stop(),
    ]);
    this.store.close();
    this.signer.destroy();
  }

  /** Applies one pipeline event (from any replica or worker) to the state. */
  async apply(event: PipelineEvent): Promise<void> {
    const time = Date.parse(event.time);
    if (event.type === 'purged') {
      if (time <= this.lastPurge) return;
      this.lastPurge = time;
      this.store.purged();
      return;
    }
    // Whatever happened before the last purge was deleted by it.
    if (time < this.lastPurge) return;
    if (event.type === 'backfill.swept') {
      const { unprocessed, queued, time: sweptAt } = event;
      return this.store.setBackfill({ unprocessed, queued, sweptAt });
    }
    if (event.type === 'video.removed') {
      this.thumbnails.countRemoved(event.source);
      return this.store.videoRemoved(event.source, thumbnailKeys(event.source, this.config.thumbnailPrefix));
    }
    const job = this.store.jobs.apply(event);
    if (job) this.store.jobChanged(job);
    if (event.type === 'job.done') await this.thumbnails.onJobDone(event);
  }

  /** Tells this replica and, through the topic, every other one. */
  async announce(event: PipelineEvent): Promise<void> {
    await this.apply(event);
    await this.events.publish(event).catch((error: unknown) => {
      this.log.warn(
        { err: error, event: event.type },
        'could not publish an event; other replicas will reconcile',
      );
    });
  }

  async purge(): Promise<number> {
    const { uploadPrefix, thumbnailPrefix, failurePrefix } = this.config;
    const deleted = await this.bucket.deleteUnder([uploadPrefix, thumbnailPrefix, failurePrefix]);
    await this.announce({ type: 'purged', time: new Date().toISOString() });
    return deleted;
  }

  async queueTestVideos(): Promise<number> {
    const keys = await this.bucket.copyTestVideos();
    const time = new Date().toISOString();
    for (const key of keys) await this.announce({ type: 'job.queued', source: key, time });
    return keys.length;
  }

  async redrive(): Promise<number> {
    return this.queues.redrive();
  }
}
