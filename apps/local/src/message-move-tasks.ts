/**
 * SQS's dead-letter redrive (StartMessageMoveTask, ListMessageMoveTasks, CancelMessageMoveTask), which the
 * emulator lacks, done the way SQS documents it: a task per dead-letter queue, at most one running at a time,
 * that moves the messages the queue held when it started (count taken then) to the destination, or back to
 * the queue whose redrive policy names the DLQ; each message is sent before it is deleted.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { AwsErrorSpec } from './aws-auth/aws-errors.ts';
import type { Log } from './log.ts';
import { queueNameFromArn } from './notifications.ts';

export type TaskStatus = 'RUNNING' | 'COMPLETED' | 'CANCELLING' | 'CANCELLED' | 'FAILED';

export interface MoveTask {
  TaskHandle: string;
  Status: TaskStatus;
  SourceArn: string;
  DestinationArn?: string;
  MaxNumberOfMessagesPerSecond?: number;
  ApproximateNumberOfMessagesMoved: number;
  ApproximateNumberOfMessagesToMove: number;
  FailureReason?: string;
  StartedTimestamp: number;
}

/** An error SQS answers a message-move request with. */
export class MoveTaskError extends Error {
  readonly spec: AwsErrorSpec;
  constructor(spec: AwsErrorSpec) {
    super(spec.message);
    this.spec = spec;
  }
}

const TASKS_KEPT_PER_QUEUE = 10;
/** Empty receives in a row after which the messages still counted are taken to be in flight elsewhere. */
const EMPTY_RECEIVES_TO_STOP = 3;
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

const notFound = (arn: string) =>
  new MoveTaskError({
    status: 400,
    code: 'ResourceNotFoundException',
    message: `The resource ${arn} does not exist.`,
  });

export class MessageMoveTasks {
  readonly #sqs: SQSClient;
  readonly #log: Log;
  readonly #tasks = new Map<string, MoveTask[]>();
  readonly #cancelled = new Set<string>();
  readonly #running = new Set<Promise<void>>();

  /** `endpoint` is the emulator itself: the caller's rights were checked by the endpoint in front of it. */
  constructor(endpoint: string, region: string, log: Log) {
    this.#sqs = new SQSClient({ endpoint, region, credentials });
    this.#log = log;
  }

  async #url(arn: string): Promise<string> {
    const { name, account } = queueNameFromArn(arn);
    try {
      const found = await this.#sqs.send(
        new GetQueueUrlCommand({ QueueName: name, QueueOwnerAWSAccountId: account }),
      );
      if (found.QueueUrl) return found.QueueUrl;
    } catch (error) {
      if (!/NonExistentQueue|QueueDoesNotExist/.test((error as Error).name)) throw error;
    }
    throw notFound(arn);
  }

  async #attributes(url: string): Promise<Record<string, string>> {
    const AttributeNames = [
      'QueueArn',
      'RedrivePolicy',
      'ApproximateNumberOfMessages',
      'ApproximateNumberOfMessagesNotVisible',
    ] as const;
    const result = await this.#sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: [...AttributeNames] }),
    );
    return result.Attributes ?? {};
  }

  /** The queues whose redrive policy sends their dead letters to `dlqArn`. */
  async #sourcesOf(dlqArn: string): Promise<string[]> {
    const { QueueUrls = [] } = await this.#sqs.send(new ListQueuesCommand({}));
    const sources: string[] = [];
    for (const url of QueueUrls) {
      const attributes = await this.#attributes(url);
      const policy = attributes.RedrivePolicy
        ? (JSON.parse(attributes.RedrivePolicy) as { deadLetterTargetArn?: string })
        : {};
      if (policy.deadLetterTargetArn === dlqArn && attributes.QueueArn) sources.push(attributes.QueueArn);
    }
    return sources;
  }

  async start(params: Record<string, unknown>): Promise<{ TaskHandle: string }> {
    const sourceArn = String(params.SourceArn ?? '');
    const destinationArn = params.DestinationArn === undefined ? undefined : String(params.DestinationArn);
    const rate =
      params.MaxNumberOfMessagesPerSecond === undefined
        ? undefined
        : Number(params.MaxNumberOfMessagesPerSecond);
    if (rate !== undefined && !(Number.isInteger(rate) && rate >= 1 && rate <= 500)) {
      throw new MoveTaskError({
        status: 400,
        code: 'InvalidParameterValue',
        message:
          'Value for parameter MaxNumberOfMessagesPerSecond is invalid. Reason: must be between 1 and 500.',
      });
    }
    const sourceUrl = await this.#url(sourceArn);
    const sources = await this.#sourcesOf(sourceArn);
    if (sources.length === 0) {
      throw new MoveTaskError({
        status: 400,
        code: 'InvalidParameterValue',
        message: 'Source queue must be configured as a Dead Letter Queue.',
      });
    }
    if (this.list(sourceArn, 1)[0]?.Status === 'RUNNING') {
      throw new MoveTaskError({
        status: 400,
        code: 'UnsupportedOperation',
        message:
          'There is already a task running. Only one active task is allowed for each source queue arn at a given time.',
      });
    }
    // Without a destination, messages go back to the queue they came from: here, the one queue that uses this DLQ.
    const target = destinationArn ?? (sources.length === 1 ? sources[0] : undefined);
    if (!target) {
      throw new MoveTaskError({
        status: 400,
        code: 'UnsupportedOperation',
        message:
          'The local endpoint moves messages back only to a DLQ used by exactly one queue; give a DestinationArn.',
      });
    }
    const destinationUrl = await this.#url(target);
    const attributes = await this.#attributes(sourceUrl);
    const task: MoveTask = {
      TaskHandle: Buffer.from(JSON.stringify({ taskId: randomUUID(), sourceArn })).toString('base64'),
      Status: 'RUNNING',
      SourceArn: sourceArn,
      ...(destinationArn ? { DestinationArn: destinationArn } : {}),
      ...(rate ? { MaxNumberOfMessagesPerSecond: rate } : {}),
      ApproximateNumberOfMessagesMoved: 0,
      ApproximateNumberOfMessagesToMove:
        Number(attributes.ApproximateNumberOfMessages ?? 0) +
        Number(attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
      StartedTimestamp: Date.now(),
    };
    const kept = [task, ...(this.#tasks.get(sourceArn) ?? [])].slice(0, TASKS_KEPT_PER_QUEUE);
    this.#tasks.set(sourceArn, kept);
    const running = this.#move(task, sourceUrl, destinationUrl).finally(() => this.#running.delete(running));
    this.#running.add(running);
    return { TaskHandle: task.TaskHandle };
  }

  /** The most recent tasks of a source queue, newest first (SQS's default is one). */
  list(sourceArn: string, maxResults = 1): MoveTask[] {
    return (this.#tasks.get(sourceArn) ?? [])
      .slice(0, Math.min(10, Math.max(1, maxResults)))
      .map((t) => ({ ...t }));
  }

  async listChecked(params: Record<string, unknown>): Promise<MoveTask[]> {
    const sourceArn = String(params.SourceArn ?? '');
    await this.#url(sourceArn);
    return this.list(sourceArn, params.MaxResults === undefined ? 1 : Number(params.MaxResults));
  }

  cancel(params: Record<string, unknown>): { ApproximateNumberOfMessagesMoved: number } {
    const handle = String(params.TaskHandle ?? '');
    const task = [...this.#tasks.values()].flat().find((t) => t.TaskHandle === handle);
    if (!task) throw notFound(handle);
    if (task.Status !== 'RUNNING') {
      throw new MoveTaskError({
        status: 400,
        code: 'UnsupportedOperation',
        message: 'Only a running task can be cancelled.',
      });
    }
    task.Status = 'CANCELLING';
    this.#cancelled.add(handle);
    return { ApproximateNumberOfMessagesMoved: task.ApproximateNumberOfMessagesMoved };
  }

  async #move(task: MoveTask, sourceUrl: string, destinationUrl: string): Promise<void> {
    let empty = 0;
    try {
      while (task.ApproximateNumberOfMessagesMoved < task.ApproximateNumberOfMessagesToMove) {
        if (this.#cancelled.has(task.TaskHandle)) {
          task.Status = 'CANCELLED';
          return;
        }
        const batch = Math.min(
          10,
          task.MaxNumberOfMessagesPerSecond ?? 10,
          task.ApproximateNumberOfMessagesToMove - task.ApproximateNumberOfMessagesMoved,
        );
        const started = Date.now();
        const { Messages = [] } = await this.#sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: sourceUrl,
            MaxNumberOfMessages: batch,
            VisibilityTimeout: 60,
            WaitTimeSeconds: 1,
            MessageAttributeNames: ['All'],
          }),
        );
        if (Messages.length === 0) {
          if (++empty >= EMPTY_RECEIVES_TO_STOP) break;
          continue;
        }
        empty = 0;
        const sent = await this.#sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: destinationUrl,
            Entries: Messages.map((m, i) => ({
              Id: String(i),
              MessageBody: m.Body ?? '',
              MessageAttributes: m.MessageAttributes,
            })),
          }),
        );
        const ok = new Set((sent.Successful ?? []).map((s) => s.Id));
        const moved = Messages.flatMap((m, i) =>
          ok.has(String(i)) && m.ReceiptHandle ? [{ Id: String(i), ReceiptHandle: m.ReceiptHandle }] : [],
        );
        if (moved.length > 0)
          await this.#sqs.send(new DeleteMessageBatchCommand({ QueueUrl: sourceUrl, Entries: moved }));
        task.ApproximateNumberOfMessagesMoved += moved.length;
        if (sent.Failed?.length)
          throw new Error(sent.Failed[0]?.Message ?? 'the destination refused a message');
        if (task.MaxNumberOfMessagesPerSecond) await sleep(Math.max(0, 1000 - (Date.now() - started)));
      }
      task.Status = 'COMPLETED';
    } catch (error) {
      task.Status = 'FAILED';
      task.FailureReason = (error as Error).message;
      this.#log('warn', `message move task from ${task.SourceArn} failed: ${task.FailureReason}`);
    } finally {
      this.#cancelled.delete(task.TaskHandle);
    }
  }

  async close(): Promise<void> {
    for (const tasks of this.#tasks.values())
      for (const task of tasks) if (task.Status === 'RUNNING') this.#cancelled.add(task.TaskHandle);
    await Promise.all(this.#running);
    this.#sqs.destroy();
  }
}
