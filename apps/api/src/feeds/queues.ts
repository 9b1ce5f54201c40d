import {
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  StartMessageMoveTaskCommand,
  type ListMessageMoveTasksResultEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { resolveQueueUrl, type Logger } from '@thumbs/runtime';
import type { StateStore } from '../state/store.ts';
import type { DeadLetters } from './dead-letters.ts';
import { Poller, publicError } from './poller.ts';

/** How long a redrive request waits for SQS's move task to finish before answering with what it moved so far. */
const REDRIVE_WAIT_MS = 20_000;
const REDRIVE_POLL_MS = 500;
/** While the DLQ holds messages, the dead-letter list is looked at again this often even if its depth is steady. */
const DEAD_LETTER_REFRESH_MS = 60_000;

export interface QueueFeedOptions {
  sqs: SQSClient;
  queueUrl?: string;
  queueName: string;
  dlqUrl?: string;
  dlqName: string;
  pollMs: number;
  store: StateStore;
  deadLetters: DeadLetters;
  log: Logger;
  /** Tests wait less for a redrive. */
  redriveWaitMs?: number;
}

interface Queues {
  queue: string;
  dlq: string;
  queueArn: string;
  dlqArn: string;
}

/** A task that moved everything it set out to move: the dead letters that failed before it started are back. */
function completeRedrive(task: ListMessageMoveTasksResultEntry | undefined): boolean {
  return (
    task?.Status === 'COMPLETED' &&
    (task.ApproximateNumberOfMessagesMoved ?? 0) >= (task.ApproximateNumberOfMessagesToMove ?? 0)
  );
}

/**
 * Work queue and DLQ figures (GetQueueAttributes on a short interval), the dead letters (from the failure
 * records, looked at when the DLQ's depth changes), and redrive with SQS's own message move task. Nothing
 * here receives from the DLQ, so any number of replicas and dashboards leave its counts as they are.
 */
export class QueueFeed {
  private readonly options: QueueFeedOptions;
  private readonly poller: Poller;
  private queues: Queues | undefined;
  private lastDlqDepth = -1;
  private lastDeadLetterLook = 0;
  /** When the last complete redrive started (ms; 0 before any). */
  private redrivenAt = 0;

  constructor(options: QueueFeedOptions) {
    this.options = options;
    this.poller = new Poller({
      name: 'queues',
      intervalMs: options.pollMs,
      run: () => this.poll(),
      onError: (error, retryInMs) => {
        options.store.setSource('sqs', publicError(error));
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

  /** The work queue's URL (the backfill sends to it). */
  async workQueueUrl(): Promise<string> {
    return (await this.resolve()).queue;
  }

  /**
   * Moves the DLQ's messages back to the work queue with a message move task (one at a time per DLQ; a
   * redrive while one runs follows that one). Answers once it is done, or after REDRIVE_WAIT_MS with the
   * count moved so far while it goes on.
   */
  async redrive(): Promise<number> {
    const { sqs } = this.options;
    const queues = await this.resolve();
    let handle: string | undefined;
    try {
      ({ TaskHandle: handle } = await sqs.send(
        new StartMessageMoveTaskCommand({ SourceArn: queues.dlqArn, DestinationArn: queues.queueArn }),
      ));
    } catch (error) {
      if (!/already a task running/i.test((error as Error).message)) throw error;
      handle = (await this.latestTask(queues))?.TaskHandle;
    }
    const deadline = Date.now() + (this.options.redriveWaitMs ?? REDRIVE_WAIT_MS);
    let task = await this.latestTask(queues);
    while (task?.TaskHandle === handle && task?.Status === 'RUNNING' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, REDRIVE_POLL_MS));
      task = await this.latestTask(queues);
    }
    if (task?.Status === 'FAILED')
      throw new Error(`redrive failed: ${task.FailureReason ?? 'unknown reason'}`);
    this.lastDlqDepth = -1;
    await this.refresh();
    return task?.ApproximateNumberOfMessagesMoved ?? 0;
  }

  private async latestTask(queues: Queues): Promise<ListMessageMoveTasksResultEntry | undefined> {
    const listed = await this.options.sqs.send(
      new ListMessageMoveTasksCommand({ SourceArn: queues.dlqArn, MaxResults: 1 }),
    );
    return listed.Results?.[0];
  }

  private async resolve(): Promise<Queues> {
    if (this.queues) return this.queues;
    const { sqs, queueUrl, queueName, dlqUrl, dlqName } = this.options;
    const queue = await resolveQueueUrl(sqs, queueUrl, queueName);
    const dlq = await resolveQueueUrl(sqs, dlqUrl, dlqName);
    const arnOf = async (url: string) => {
      const result = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
      );
      const arn = result.Attributes?.QueueArn;
      if (!arn) throw new Error(`queue ${url} has no ARN`);
      return arn;
    };
    this.queues = { queue, dlq, queueArn: await arnOf(queue), dlqArn: await arnOf(dlq) };
    return this.queues;
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
    const queues = await this.resolve();
    const [queue, dlq] = await Promise.all([this.depth(queues.queue), this.depth(queues.dlq)]);
    const dlqDepth = dlq.visible + dlq.inFlight;
    this.options.store.setQueue({ depth: queue.visible, inFlight: queue.inFlight, dlqDepth });
    this.options.store.setSource('sqs', null);
    const due = dlqDepth > 0 && Date.now() - this.lastDeadLetterLook >= DEAD_LETTER_REFRESH_MS;
    if (dlqDepth === this.lastDlqDepth && !due) return;
    this.lastDlqDepth = dlqDepth;
    this.lastDeadLetterLook = Date.now();
    if (dlqDepth === 0) return this.options.store.setDlq([]);
    const task = await this.latestTask(queues);
    if (completeRedrive(task)) this.redrivenAt = Math.max(this.redrivenAt, task?.StartedTimestamp ?? 0);
    this.options.store.setDlq(await this.options.deadLetters.list(this.redrivenAt));
  }
}
