import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { PipelineEvent } from '@thumbs/model';
import type { Logger } from '@thumbs/runtime';

export type PublishEvent = (event: PipelineEvent) => Promise<void>;

/**
 * Publishes pipeline events to the events topic. The dashboard is told, but the job never depends on it:
 * failures are logged and swallowed, and the topic ARN is looked up again after a failed lookup.
 */
export function createEventPublisher(
  sns: SNSClient,
  resolveTopicArn: () => Promise<string>,
  log: Logger,
): PublishEvent {
  let topicArn: Promise<string> | undefined;
  return async (event) => {
    try {
      topicArn ??= resolveTopicArn();
      await sns.send(
        new PublishCommand({
          TopicArn: await topicArn,
          Message: JSON.stringify(event),
          MessageAttributes: { type: { DataType: 'String', StringValue: event.type } },
        }),
      );
    } catch (error) {
      topicArn = undefined;
      log.warn({ err: error, event: event.type }, 'could not publish event');
    }
  };
}
