import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { parseQueueMessage, type DlqEntry } from '@thumbs/model';
import { resolveQueueUrl, type Logger } from '@thumbs/runtime';
import type { StateStore } from '../state/store.ts';
import type { Bucket } from './bucket.ts';
import { errorMessage, Poller } from './poller.ts';

const DLQ_LIST_LIMIT = 100;
const PEEK_VISIBILITY_SECONDS = 30;
/** Not 0: the emulator with persistence (local mode) drops a message whose visibility is set to 0. */
const RELEASE_VISIBILITY_SECONDS = 1;
/** A list shorter than the depth (another reader held messages) is read again after this long. */
const SHORT_LIST_RETRY_MS = 2000;

export interface QueueSourceOptions {
  sqs: SQSClient;
  queueUrl?: string;
  queueName: string;
  dlqUrl?: string;
  dlqName: string;
  pollMs: number;
  store: StateStore;
  bucket: Bucket;
  log: Logger;
}

interface Failure {
  error: string;
  /** The attempt that failed last (the receive count the worker saw), when known. */
  attempt?: number;
}

/** The source video a queue message is about, whatever the body's shape. */
function sourceOf(message: Message): string | null {
  const parsed = parseQueueMessage(message.Body ?? '');
  return parsed.kind === 'objects' ? (parsed.objects[0]?.key ?? null) : null;
}

/**
 * Work queue and DLQ figures (GetQueueAttributes on a short interval), the DLQ's messages (read only when
 * its depth changes), and redrive.
 */
export class QueueSource {
  private readonly options: QueueSourceOptions;
  private readonly poller: Poller;
  private urls: { queue: string; dlq: string } | undefined;
  private lastDlqDepth = -1;
  /** When the DLQ list last came back shorter than the depth (messages held by another reader), else 0. */
  private shortListAt = 0;
  private readonly failures = new Map<string, Failure>();

  constructor(options: QueueSourceOptions) {
    this.options = options;
    this.poller = new Poller({
      name: 'queues',
      intervalMs: options.pollMs,
      run: () => this.poll(),
      onError: (error, retryInMs) => {
        options.store.setSource('sqs', errorMessage(error));
        options.log.warn({ err: error, retryInMs }, 'queue poll failed');
      },
      maxBackoffMs: 30_000,
    });
  }

  start(): void {
    this.poller.start();
  }

  stop(): Promise<void> {
    return this.poller.stop();
  }

  /** Polls now: after an admin action, the dashboard follows at once. */
  refresh(): Promise<void> {
    return this.poller.runNow();
  }

  async ping(): Promise<void> {
    const urls = await this.resolve();
    await this.depth(urls.queue);
  }

  /** Moves the DLQ's messages back to the work queue, ten at a time: send first, delete only what was sent. */
  async redrive(): Promise<number> {
    const { sqs } = this.options;
    const urls = await this.resolve();
    // Only what is there now: a video that fails again comes back to the DLQ and must not loop forever.
    const initial = await this.depth(urls.dlq);
    const limit = initial.visible + initial.inFlight;
    let moved = 0;
    while (moved < limit) {
      const received = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: urls.dlq,
          MaxNumberOfMessages: Math.min(10, limit - moved),
          VisibilityTimeout: 60,
          // Waits out a DLQ listing's short hold on the messages (they are visible again within a second).
          WaitTimeSeconds: RELEASE_VISIBILITY_SECONDS + 1,
          MessageAttributeNames: ['All'],
        }),
      );
      const messages = received.Messages ?? [];
      if (messages.length === 0) break;
      const sent = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: urls.queue,
          Entries: messages.map((m, i) => ({
            Id: String(i),
            MessageBody: m.Body ?? '',
            MessageAttributes: m.MessageAttributes,
          })),
        }),
      );
      const ok = new Set((sent.Successful ?? []).map((s) => s.Id));
      const toDelete = messages.flatMap((m, i) =>
        ok.has(String(i)) && m.ReceiptHandle ? [{ Id: String(i), ReceiptHandle: m.ReceiptHandle }] : [],
      );
      if (toDelete.length > 0) {
        await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: urls.dlq, Entries: toDelete }));
      }
      moved += toDelete.length;
      if (sent.Failed?.length)
        throw new Error(`redrive stopped: ${sent.Failed[0]?.Message ?? 'send failed'}`);
    }
    this.lastDlqDepth = -1;
    await this.refresh();
    return moved;
  }

  private async resolve(): Promise<{ queue: string; dlq: string }> {
    if (this.urls) return this.urls;
    const { sqs, queueUrl, queueName, dlqUrl, dlqName } = this.options;
    this.urls = {
      queue: await resolveQueueUrl(sqs, queueUrl, queueName),
      dlq: await resolveQueueUrl(sqs, dlqUrl, dlqName),
    };
    return this.urls;
  }

  private async depth(url: string): Promise<{ visible: number; inFlight: number }> {
    const result = await this.options.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return {
      visible: Number(result.Attributes?.ApproximateNumberOfMessages ?? 0),
      inFlight: Number(result.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
    };
  }

  private async poll(): Promise<void> {
    const urls = await this.resolve();
    const [queue, dlq] = await Promise.all([this.depth(urls.queue), this.depth(urls.dlq)]);
    const dlqDepth = dlq.visible + dlq.inFlight;
    this.options.store.setQueue({ depth: queue.visible, inFlight: queue.inFlight, dlqDepth });
    this.options.store.setSource('sqs', null);
    const retryShortList = this.shortListAt > 0 && Date.now() - this.shortListAt >= SHORT_LIST_RETRY_MS;
    if (dlqDepth !== this.lastDlqDepth || retryShortList) {
      this.lastDlqDepth = dlqDepth;
      const entries = dlqDepth === 0 ? [] : await this.listDlq(urls.dlq);
      this.shortListAt = entries.length < Math.min(dlqDepth, DLQ_LIST_LIMIT) ? Date.now() : 0;
      this.options.store.setDlq(entries);
    }
  }

  /** Peeks at up to 100 DLQ messages (received, then made visible again a second later). */
  private async listDlq(url: string): Promise<DlqEntry[]> {
    const { sqs } = this.options;
    const seen = new Map<string, Message>();
    for (let round = 0; seen.size < DLQ_LIST_LIMIT && round < DLQ_LIST_LIMIT / 10; round++) {
      const received = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: PEEK_VISIBILITY_SECONDS,
          WaitTimeSeconds: 0,
          MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
        }),
      );
      const fresh = (received.Messages ?? []).filter((m) => m.MessageId && !seen.has(m.MessageId));
      if (fresh.length === 0) break;
      for (const message of fresh) seen.set(message.MessageId as string, message);
    }
    const handles = [...seen.values()].flatMap((m) => (m.ReceiptHandle ? [m.ReceiptHandle] : []));
    for (let i = 0; i < handles.length; i += 10) {
      await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: url,
          Entries: handles.slice(i, i + 10).map((h, j) => ({
            Id: String(j),
            ReceiptHandle: h,
            VisibilityTimeout: RELEASE_VISIBILITY_SECONDS,
          })),
        }),
      );
    }
    return Promise.all(
      [...seen.values()].map(async (message) => {
        const source = sourceOf(message);
        const sentAt = Number(message.Attributes?.SentTimestamp);
        const failure = source ? await this.lastFailure(source) : null;
        return {
          messageId: message.MessageId as string,
          source,
          // Every listing counts as a receive too, so the worker's last attempt is the better figure; without
          // one, the count from before this peek.
          receiveCount:
            failure?.attempt ?? Math.max(0, Number(message.Attributes?.ApproximateReceiveCount ?? 1) - 1),
          sentAt: Number.isFinite(sentAt) && sentAt > 0 ? new Date(sentAt).toISOString() : null,
          error: failure?.error ?? null,
        };
      }),
    );
  }

  /** A video's last error and attempt: from its job.failed event if this replica saw one, else the worker's record. */
  private async lastFailure(source: string): Promise<Failure | null> {
    const job = this.options.store.jobs.list().find((j) => j.source === source);
    if (job?.error) return { error: job.error, attempt: job.attempts || undefined };
    const known = this.failures.get(source);
    if (known) return known;
    try {
      const record = await this.options.bucket.readFailure(source);
      if (!record) return null;
      const attempt = Number.isInteger(record.attempt) && record.attempt > 0 ? record.attempt : undefined;
      const failure = { error: record.error, attempt };
      this.failures.set(source, failure);
      if (this.failures.size > DLQ_LIST_LIMIT * 2) {
        const oldest = this.failures.keys().next().value;
        if (oldest !== undefined) this.failures.delete(oldest);
      }
      return failure;
    } catch (error) {
      this.options.log.warn({ err: error, source }, 'could not read failure record');
      return null;
    }
  }
}
