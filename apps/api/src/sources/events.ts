import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { PublishCommand, SubscribeCommand, UnsubscribeCommand, type SNSClient } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { PipelineEventSchema, type PipelineEvent } from '@thumbs/model';
import { resolveTopicArn, topicMaySendPolicy, type Logger } from '@thumbs/runtime';
import { Compile } from 'typebox/compile';
import { errorMessage } from './poller.ts';

const checkEvent = Compile(PipelineEventSchema);

export interface EventBusOptions {
  sqs: SQSClient;
  sns: SNSClient;
  topicArn?: string;
  topicName: string;
  waitSeconds: number;
  onEvent: (event: PipelineEvent) => Promise<void> | void;
  log: Logger;
}

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
 */
export class EventBus {
  private readonly options: EventBusOptions;
  private topicArn: string | undefined;
  private queueUrl: string | undefined;
  private subscriptionArn: string | undefined;
  private abort = new AbortController();
  private loop: Promise<void> | undefined;
  private stopped = false;
  readonly queueName = replicaQueueName();

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
      const created = await sqs.send(new CreateQueueCommand({ QueueName: this.queueName }));
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
    this.options.log.info({ queue: this.queueName, topicArn }, 'subscribed to pipeline events');
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
        failures++;
        const retryInMs = Math.min(30_000, 500 * 2 ** Math.min(failures, 6));
        this.options.log.warn({ err: errorMessage(error), retryInMs }, 'event subscription failed');
        await new Promise((resolve) => setTimeout(resolve, retryInMs));
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
