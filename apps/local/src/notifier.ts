/** Sends S3 event notification messages to SQS, as S3 itself would after an object is created or deleted. */
import { HeadBucketCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { buildS3Event, buildS3TestEvent } from '@thumbs/model';
import type { S3ObjectEvent } from './event-outbox.ts';
import type { NotificationStore } from './notification-store.ts';
import type { Log } from './log.ts';
import { matchesConfiguration, queueNameFromArn } from './notifications.ts';

export interface NotifierOptions {
  /** Whether the queue's policy lets S3 send this bucket's events to it (checked at each delivery, as S3 does). */
  maySend: (queueArn: string, bucket: string) => Promise<boolean>;
  log: Log;
}

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

export class Notifier {
  readonly #endpoint: string;
  readonly #store: NotificationStore;
  readonly #s3: S3Client;
  readonly #region: string;
  readonly #sqsByRegion = new Map<string, SQSClient>();
  readonly #options: NotifierOptions;

  /** `endpoint` is the emulator itself, not the proxy, so deliveries never loop back through it. */
  constructor(endpoint: string, store: NotificationStore, region: string, options: NotifierOptions) {
    this.#endpoint = endpoint;
    this.#options = options;
    this.#store = store;
    this.#region = region;
    this.#s3 = new S3Client({ endpoint, region, forcePathStyle: true, credentials });
  }

  #sqs(region: string): SQSClient {
    let client = this.#sqsByRegion.get(region);
    if (!client) {
      client = new SQSClient({ endpoint: this.#endpoint, region, credentials });
      this.#sqsByRegion.set(region, client);
    }
    return client;
  }

  async bucketExists(bucket: string): Promise<boolean> {
    try {
      await this.#s3.send(new HeadBucketCommand({ Bucket: bucket }));
      return true;
    } catch (error) {
      if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404)
        return false;
      throw error;
    }
  }

  /** The queue URL for an ARN, or undefined when no such queue exists. */
  async queueUrl(arn: string): Promise<string | undefined> {
    const { region, account, name } = queueNameFromArn(arn);
    try {
      const result = await this.#sqs(region).send(
        new GetQueueUrlCommand({ QueueName: name, QueueOwnerAWSAccountId: account }),
      );
      return result.QueueUrl;
    } catch (error) {
      if (/NonExistentQueue|QueueDoesNotExist/.test((error as Error).name)) return undefined;
      throw error;
    }
  }

  async #send(arn: string, body: string): Promise<boolean> {
    const url = await this.queueUrl(arn);
    if (!url) return false;
    await this.#sqs(queueNameFromArn(arn).region).send(
      new SendMessageCommand({ QueueUrl: url, MessageBody: body }),
    );
    return true;
  }

  /** S3 sends one s3:TestEvent to each destination when a configuration is created or replaced. */
  async sendTestEvents(bucket: string, arns: string[]): Promise<void> {
    for (const arn of new Set(arns)) await this.#send(arn, buildS3TestEvent(bucket));
  }

  /** What an object-created event says about the object: its size and ETag as they are now. */
  async describe(bucket: string, key: string): Promise<{ size: number; eTag: string }> {
    const head = await this.#s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return { size: head.ContentLength ?? 0, eTag: head.ETag ?? '' };
  }

  /** Sends the event to every matching configuration's queue; returns how many messages were sent. */
  async deliver(event: S3ObjectEvent): Promise<number> {
    const { bucket, key } = event;
    const targets = this.#store.get(bucket).filter((c) => matchesConfiguration(c, event.event, key));
    let sent = 0;
    for (const target of targets) {
      // S3 drops an event its destination refuses or that no longer exists; say so, since nothing else will.
      const dropped = (why: string) =>
        this.#options.log('warn', `S3 event for s3://${bucket}/${key} not delivered: ${why}`);
      if (!(await this.#options.maySend(target.queueArn, bucket))) {
        dropped(`the policy of ${target.queueArn} does not let S3 send it`);
        continue;
      }
      const body = buildS3Event({
        bucket,
        key,
        size: event.size,
        eTag: event.eTag,
        eventName: event.event,
        region: this.#region,
        time: new Date(event.time),
        sequencer: event.sequencer,
        configurationId: target.id,
      });
      if (await this.#send(target.queueArn, body)) sent++;
      else dropped(`queue ${target.queueArn} does not exist`);
    }
    return sent;
  }

  close(): void {
    this.#s3.destroy();
    for (const client of this.#sqsByRegion.values()) client.destroy();
  }
}
