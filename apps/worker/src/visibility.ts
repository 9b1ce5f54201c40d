import { ChangeMessageVisibilityCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '@thumbs/runtime';

export interface Heartbeat {
  /** Stops extending; resolves once no extension is in flight (so it cannot override a later change). */
  stop(): Promise<void>;
}

/** Keeps a message invisible while it is being worked on by extending its timeout every third of it. */
export function startHeartbeat(
  sqs: SQSClient,
  queueUrl: string,
  receiptHandle: string,
  timeoutSeconds: number,
  log: Logger,
): Heartbeat {
  let inFlight: Promise<unknown> = Promise.resolve();
  const timer = setInterval(
    () => {
      inFlight = sqs
        .send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: queueUrl,
            ReceiptHandle: receiptHandle,
            VisibilityTimeout: timeoutSeconds,
          }),
        )
        .then(
          () => log.debug({ timeoutSeconds }, 'extended message visibility'),
          (error: unknown) => log.warn({ err: error }, 'could not extend message visibility'),
        );
    },
    (timeoutSeconds * 1000) / 3,
  );
  return {
    async stop() {
      clearInterval(timer);
      await inFlight;
    },
  };
}

/** Makes a message visible again after `seconds` (0: at once), for a retry or another worker. */
export async function setVisibility(
  sqs: SQSClient,
  queueUrl: string,
  receiptHandle: string,
  seconds: number,
): Promise<void> {
  await sqs.send(
    new ChangeMessageVisibilityCommand({
      QueueUrl: queueUrl,
      ReceiptHandle: receiptHandle,
      VisibilityTimeout: seconds,
    }),
  );
}
