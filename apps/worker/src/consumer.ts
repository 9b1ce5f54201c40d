import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { isRemovalEvent, parseQueueMessage } from '@thumbs/model';
import { backoffDelay, sleep, type Logger } from '@thumbs/runtime';
import { runJob, type JobOutcome, type JobSettings } from './job.ts';
import { removeVideo } from './remove-video.ts';
import { setVisibility, startHeartbeat } from './visibility.ts';

export interface ConsumerSettings {
  sqs: SQSClient;
  resolveQueueUrl: () => Promise<string>;
  /** The dead-letter queue, where the worker moves a message that no retry can make succeed. */
  resolveDlqUrl: () => Promise<string>;
  waitSeconds: number;
  visibilityTimeoutSeconds: number;
  failureBackoffSeconds: number;
  job: JobSettings;
  log: Logger;
}

export interface Consumer {
  /** Polls and works one message at a time until stopped. */
  run(): Promise<void>;
  /**
   * Starts no new poll. The poll in progress runs to its end (within the wait time), since an abandoned long
   * poll can still be handed a message that would then stay invisible for the whole visibility timeout; what
   * it returns is released at once. The current job may finish within graceMs, else it is aborted (as is a
   * poll still running then) and its message released.
   */
  stop(graceMs: number): Promise<void>;
}

/** Between attempts to find the queue or to receive from it while SQS fails. */
const RETRY = { firstMs: 1000, maxMs: 30_000 };

export function createConsumer(settings: ConsumerSettings): Consumer {
  const { sqs, log } = settings;
  /** Aborted by stop(): ends waits between polls at once, but not the poll in progress. */
  const polling = new AbortController();
  /** Aborted when the shutdown grace period is over: the current job, or a poll still running. */
  const working = new AbortController();
  let running: Promise<void> = Promise.resolve();

  /** Waits, or stops waiting as soon as the consumer is stopped. */
  const pause = (failures: number) => sleep(backoffDelay(RETRY, failures), polling.signal);

  async function queueUrl(): Promise<string | undefined> {
    for (let attempt = 1; !polling.signal.aborted; attempt++) {
      try {
        return await settings.resolveQueueUrl();
      } catch (error) {
        log.error({ err: error, attempt }, 'cannot find the work queue yet; retrying');
        await pause(attempt);
      }
    }
    return undefined;
  }

  async function receive(url: string): Promise<Message[]> {
    const result = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 1,
        WaitTimeSeconds: settings.waitSeconds,
        VisibilityTimeout: settings.visibilityTimeoutSeconds,
        MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
      }),
      { abortSignal: working.signal },
    );
    return result.Messages ?? [];
  }

  async function remove(url: string, message: Message, messageLog: Logger): Promise<void> {
    try {
      await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: message.ReceiptHandle }));
    } catch (error) {
      messageLog.error({ err: error }, 'could not delete the message; it will be delivered again');
    }
  }

  async function makeVisible(
    url: string,
    message: Message,
    seconds: number,
    messageLog: Logger,
  ): Promise<void> {
    try {
      await setVisibility(sqs, url, message.ReceiptHandle ?? '', seconds);
    } catch (error) {
      messageLog.error({ err: error, seconds }, 'could not change the message visibility');
    }
  }

  /**
   * Moves the message to the DLQ at once (the body as it came, for a redrive), instead of receiving it
   * maxReceiveCount times. When that fails, the message takes the ordinary path there after its back-off.
   */
  async function deadLetter(url: string, message: Message, messageLog: Logger): Promise<void> {
    try {
      await sqs.send(
        new SendMessageCommand({ QueueUrl: await settings.resolveDlqUrl(), MessageBody: message.Body ?? '' }),
      );
    } catch (error) {
      messageLog.error({ err: error }, 'could not move the message to the DLQ; it will be retried');
      return makeVisible(url, message, settings.failureBackoffSeconds, messageLog);
    }
    messageLog.warn('no retry can fix this video: moved the message to the DLQ');
    return remove(url, message, messageLog);
  }

  async function handle(url: string, message: Message): Promise<void> {
    const attempt = Number(message.Attributes?.ApproximateReceiveCount ?? 1) || 1;
    const messageLog = log.child({ messageId: message.MessageId, attempt });
    const parsed = parseQueueMessage(message.Body ?? '');
    if (parsed.kind === 'test-event') {
      messageLog.info({ bucket: parsed.bucket }, 'S3 test event; deleting it');
      return remove(url, message, messageLog);
    }
    if (parsed.kind === 'invalid') {
      // No retry can make a body readable: drop it rather than let it sit in the DLQ as a failed video.
      messageLog.warn(
        { reason: parsed.reason, body: message.Body?.slice(0, 500) },
        'dropping unreadable message',
      );
      return remove(url, message, messageLog);
    }
    const heartbeat = startHeartbeat(
      sqs,
      url,
      message.ReceiptHandle ?? '',
      settings.visibilityTimeoutSeconds,
      messageLog,
    );
    const outcomes: JobOutcome[] = [];
    try {
      for (const object of parsed.objects)
        outcomes.push(
          isRemovalEvent(object.eventName)
            ? await removeVideo(settings.job, object)
            : await runJob(settings.job, object, attempt, working.signal),
        );
    } catch (error) {
      await heartbeat.stop();
      messageLog.warn({ err: error }, 'job interrupted by shutdown; releasing the message');
      return makeVisible(url, message, 0, messageLog);
    }
    await heartbeat.stop();
    if (outcomes.includes('failed')) {
      return makeVisible(url, message, settings.failureBackoffSeconds, messageLog);
    }
    if (outcomes.includes('retry')) return makeVisible(url, message, 0, messageLog);
    if (outcomes.includes('unrecoverable')) return deadLetter(url, message, messageLog);
    return remove(url, message, messageLog);
  }

  async function loop(): Promise<void> {
    const url = await queueUrl();
    if (!url) return;
    log.info({ queueUrl: url }, 'polling the work queue');
    let errors = 0;
    while (!polling.signal.aborted) {
      let messages: Message[];
      try {
        messages = await receive(url);
        errors = 0;
      } catch (error) {
        if (polling.signal.aborted) break;
        errors++;
        log.error({ err: error }, 'could not receive messages; retrying');
        await pause(errors);
        continue;
      }
      for (const message of messages) {
        if (polling.signal.aborted) {
          // Stopped while polling: another worker can take it now.
          log.info({ messageId: message.MessageId }, 'received while stopping; releasing the message');
          await makeVisible(url, message, 0, log);
        } else await handle(url, message);
      }
    }
  }

  return {
    run() {
      running = loop();
      return running;
    },
    async stop(graceMs) {
      polling.abort();
      const deadline = setTimeout(() => working.abort(new Error('shutdown grace period is over')), graceMs);
      try {
        await running;
      } finally {
        clearTimeout(deadline);
      }
    },
  };
}
