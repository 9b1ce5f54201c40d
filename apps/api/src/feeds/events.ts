import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import {
  ListSubscriptionsByTopicCommand,
  PublishCommand,
  SubscribeCommand,
  UnsubscribeCommand,
  type SNSClient,
} from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ListQueueTagsCommand,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  SetQueueAttributesCommand,
  TagQueueCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { PipelineEventSchema, type PipelineEvent } from '@thumbs/model';
import {
  backoffDelay,
  errorMessage,
  resolveTopicArn,
  sleep,
  topicMaySendPolicy,
  type Logger,
} from '@thumbs/runtime';
import { Compile } from 'typebox/compile';

/** Between attempts to subscribe or receive while SNS/SQS fail. */
const SUBSCRIBE_RETRY = { firstMs: 1000, maxMs: 30_000 };

const checkEvent = Compile(PipelineEventSchema);

export interface EventBusOptions {
  sqs: SQSClient;
  sns: SNSClient;
  topicArn?: string;
  topicName: string;
  waitSeconds: number;
  onEvent: (event: PipelineEvent) => Promise<void> | void;
  log: Logger;
  /** How often this replica renews its queue's heartbeat tag. */
  heartbeatMs?: number;
  /** A replica queue whose heartbeat is older than this belongs to a replica that died unannounced. */
  staleMs?: number;
  /** How often each replica looks for such queues (and once right after it subscribed). */
  reapMs?: number;
}

const QUEUE_PREFIX = 'thumbnail-api-';
/** Tags of a replica queue: when it was made and when its replica last said it was alive (ISO 8601). */
export const CREATED_TAG = 'thumbnail:created';
export const HEARTBEAT_TAG = 'thumbnail:heartbeat';

/** A queue name unique to this replica: `thumbnail-api-<host>-<random>` (SQS allows 80 of [A-Za-z0-9_-]). */
export function replicaQueueName(host = hostname()): string {
  const safeHost = host.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 50);
  return `thumbnail-api-${safeHost}-${randomBytes(4).toString('hex')}`;
}

export function parseEvent(body: string): PipelineEvent | undefined {
  try {
    const value: unknown = JSON.parse(body);
    return checkEvent.Check(value) ? (value as PipelineEvent) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Fan-out: this replica's own queue, subscribed to the events topic with raw delivery, so every replica
 * sees every event. Created at start, long-polled, and deleted (with its subscription) at shutdown.
 * A replica killed without SIGTERM cannot delete its queue, which would stay subscribed and fill for good:
 * each queue carries a heartbeat tag that its replica renews, and every replica deletes the subscribed
 * replica queues whose heartbeat has gone stale (a replica whose own queue was reaped makes a new one).
 */
export class EventBus {
  private readonly options: EventBusOptions;
  private topicArn: string | undefined;
  private queueUrl: string | undefined;
  private subscriptionArn: string | undefined;
  private abort = new AbortController();
  private loop: Promise<void> | undefined;
  private stopped = false;
  private timers: NodeJS.Timeout[] = [];
  private markSubscribed: () => void = () => {};
  readonly queueName = replicaQueueName();
  /** Resolves once this replica's queue is first subscribed: from then on no event passes it by. */
  readonly subscribed = new Promise<void>((resolve) => (this.markSubscribed = resolve));

  constructor(options: EventBusOptions) {
    this.options = options;
  }

  get ready(): boolean {
    return this.subscriptionArn !== undefined;
  }

  /** Sets the subscription up (retrying with backoff until it works or the bus stops), then consumes. */
  start(): void {
    this.loop = this.run();
  }

  async publish(event: PipelineEvent): Promise<void> {
    const topicArn = await this.topic();
    await this.options.sns.send(new PublishCommand({ TopicArn: topicArn, Message: JSON.stringify(event) }));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    this.abort.abort();
    await this.loop;
    const { sqs, sns, log } = this.options;
    try {
      if (this.subscriptionArn)
        await sns.send(new UnsubscribeCommand({ SubscriptionArn: this.subscriptionArn }));
      if (this.queueUrl) await sqs.send(new DeleteQueueCommand({ QueueUrl: this.queueUrl }));
      log.info({ queue: this.queueName }, 'fan-out queue deleted');
    } catch (error) {
      log.warn({ err: error, queue: this.queueName }, 'could not delete the fan-out queue');
    }
  }

  private async topic(): Promise<string> {
    this.topicArn ??= await resolveTopicArn(this.options.sns, this.options.topicArn, this.options.topicName);
    return this.topicArn;
  }

  private async subscribe(): Promise<void> {
    const { sqs, sns } = this.options;
    const topicArn = await this.topic();
    if (!this.queueUrl) {
      const now = new Date().toISOString();
      const created = await sqs.send(
        new CreateQueueCommand({
          QueueName: this.queueName,
          tags: { [CREATED_TAG]: now, [HEARTBEAT_TAG]: now },
        }),
      );
      this.queueUrl = created.QueueUrl;
    }
    const attributes = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: this.queueUrl, AttributeNames: ['QueueArn'] }),
    );
    const queueArn = attributes.Attributes?.QueueArn;
    if (!this.queueUrl || !queueArn) throw new Error(`could not create the fan-out queue ${this.queueName}`);
    const policy = topicMaySendPolicy(queueArn, topicArn);
    await sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl: this.queueUrl,
        Attributes: { Policy: JSON.stringify(policy) },
      }),
    );
    const subscribed = await sns.send(
      new SubscribeCommand({
        TopicArn: topicArn,
        Protocol: 'sqs',
        Endpoint: queueArn,
        Attributes: { RawMessageDelivery: 'true' },
        ReturnSubscriptionArn: true,
      }),
    );
    this.subscriptionArn = subscribed.SubscriptionArn;
    this.markSubscribed();
    this.options.log.info({ queue: this.queueName, topicArn }, 'subscribed to pipeline events');
    this.startHousekeeping();
  }

  private startHousekeeping(): void {
    const { heartbeatMs = 60_000, reapMs = 5 * 60_000, log } = this.options;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    const every = (ms: number, task: () => Promise<unknown>, what: string) => {
      const run = () => task().catch((error: unknown) => log.warn({ err: error }, what));
      this.timers.push(setInterval(run, ms).unref());
      return run;
    };
    every(heartbeatMs, () => this.heartbeat(), 'could not renew the fan-out queue heartbeat');
    void every(reapMs, () => this.reap(), 'could not reap stale fan-out queues')();
  }

  private async heartbeat(): Promise<void> {
    await this.options.sqs.send(
      new TagQueueCommand({ QueueUrl: this.queueUrl, Tags: { [HEARTBEAT_TAG]: new Date().toISOString() } }),
    );
  }

  /** Deletes the subscribed replica queues (and subscriptions) of replicas that stopped renewing them. */
  private async reap(): Promise<void> {
    const { sqs, sns, log, staleMs = 15 * 60_000 } = this.options;
    const topicArn = await this.topic();
    let nextToken: string | undefined;
    do {
      const page = await sns.send(
        new ListSubscriptionsByTopicCommand({ TopicArn: topicArn, NextToken: nextToken }),
      );
      nextToken = page.NextToken;
      for (const subscription of page.Subscriptions ?? []) {
        const name = subscription.Endpoint?.split(':').pop() ?? '';
        if (subscription.Protocol !== 'sqs' || !name.startsWith(QUEUE_PREFIX) || name === this.queueName)
          continue;
        // Same account and endpoint as this replica's own queue.
        const queueUrl = this.queueUrl?.replace(/[^/]+$/, name);
        const heartbeat = queueUrl ? await this.heartbeatOf(queueUrl) : undefined;
        if (heartbeat !== undefined && Date.now() - heartbeat < staleMs) continue;
        if (subscription.SubscriptionArn?.startsWith('arn:'))
          await sns.send(new UnsubscribeCommand({ SubscriptionArn: subscription.SubscriptionArn }));
        if (heartbeat !== undefined) await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
        log.info(
          { queue: name, heartbeat: heartbeat && new Date(heartbeat).toISOString() },
          'reaped a stale fan-out queue',
        );
      }
    } while (nextToken);
  }

  /** The queue's last heartbeat (its creation time if it has no tag); undefined when it no longer exists. */
  private async heartbeatOf(queueUrl: string): Promise<number | undefined> {
    const { sqs } = this.options;
    try {
      const { Tags: tags = {} } = await sqs.send(new ListQueueTagsCommand({ QueueUrl: queueUrl }));
      const tagged = Date.parse(tags[HEARTBEAT_TAG] ?? tags[CREATED_TAG] ?? '');
      if (Number.isFinite(tagged)) return tagged;
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['CreatedTimestamp'] }),
      );
      return Number(Attributes?.CreatedTimestamp ?? 0) * 1000;
    } catch (error) {
      if (error instanceof QueueDoesNotExist) return undefined;
      throw error;
    }
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      try {
        if (!this.subscriptionArn) await this.subscribe();
        await this.receive();
        failures = 0;
      } catch (error) {
        if (this.stopped) break;
        // Reaped while this replica could not renew its heartbeat: subscribe a new queue.
        if (error instanceof QueueDoesNotExist) {
          this.queueUrl = undefined;
          this.subscriptionArn = undefined;
        }
        const retryInMs = backoffDelay(SUBSCRIBE_RETRY, ++failures);
        this.options.log.warn({ err: errorMessage(error), retryInMs }, 'event subscription failed');
        // Ends at once on stop(), so that a stop during an outage is not held up by the wait.
        await sleep(retryInMs, this.abort.signal);
      }
    }
  }

  private async receive(): Promise<void> {
    const { sqs, log } = this.options;
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: this.options.waitSeconds,
      }),
      { abortSignal: this.abort.signal },
    );
    const messages = received.Messages ?? [];
    for (const message of messages) {
      const event = parseEvent(message.Body ?? '');
      if (event) await this.options.onEvent(event);
      else log.warn({ body: message.Body?.slice(0, 200) }, 'ignored a message that is not a pipeline event');
    }
    const entries = messages.flatMap((m, i) =>
      m.ReceiptHandle ? [{ Id: String(i), ReceiptHandle: m.ReceiptHandle }] : [],
    );
    if (entries.length > 0)
      await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entries }));
  }
}
