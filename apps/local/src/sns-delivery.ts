/**
 * SNS → SQS deliveries authorized as AWS authorizes them: SNS sends to a subscribed queue only if the queue's
 * policy lets `sns.amazonaws.com` send for this topic (`aws:SourceArn`); otherwise that queue silently gets
 * nothing. The emulator delivers to every subscription, so when a Publish would reach a queue that refuses it,
 * the proxy makes the deliveries itself (to the queues that accept it) instead of forwarding the Publish.
 */
import { randomUUID } from 'node:crypto';
import {
  GetSubscriptionAttributesCommand,
  ListSubscriptionsByTopicCommand,
  SNSClient,
  type Subscription,
} from '@aws-sdk/client-sns';
import { SendMessageCommand, SQSClient, type MessageAttributeValue } from '@aws-sdk/client-sqs';

export interface SqsSubscription {
  arn: string;
  queueArn: string;
  raw: boolean;
  filtered: boolean;
}

/** Publish's message attributes from its query parameters (`MessageAttributes.entry.N.Name/Value.*`). */
export function publishAttributes(params: Record<string, string>): Record<string, MessageAttributeValue> {
  const attributes: Record<string, MessageAttributeValue> = {};
  for (let n = 1; params[`MessageAttributes.entry.${n}.Name`] !== undefined; n++) {
    const entry = `MessageAttributes.entry.${n}`;
    const name = params[`${entry}.Name`] ?? '';
    attributes[name] = {
      DataType: params[`${entry}.Value.DataType`] ?? 'String',
      ...(params[`${entry}.Value.StringValue`] !== undefined
        ? { StringValue: params[`${entry}.Value.StringValue`] }
        : {}),
      ...(params[`${entry}.Value.BinaryValue`] !== undefined
        ? { BinaryValue: Buffer.from(params[`${entry}.Value.BinaryValue`] ?? '', 'base64') }
        : {}),
    };
  }
  return attributes;
}

/** The JSON envelope SNS wraps a message in for a subscription without raw delivery. */
function envelope(topicArn: string, messageId: string, params: Record<string, string>): string {
  const attributes = publishAttributes(params);
  return JSON.stringify({
    Type: 'Notification',
    MessageId: messageId,
    TopicArn: topicArn,
    ...(params.Subject ? { Subject: params.Subject } : {}),
    Message: params.Message ?? '',
    Timestamp: new Date().toISOString(),
    SignatureVersion: '1',
    Signature: '',
    SigningCertURL: '',
    UnsubscribeURL: '',
    ...(Object.keys(attributes).length > 0
      ? {
          MessageAttributes: Object.fromEntries(
            Object.entries(attributes).map(([name, value]) => [
              name,
              { Type: value.DataType, Value: value.StringValue ?? '' },
            ]),
          ),
        }
      : {}),
  });
}

export class SnsDeliveries {
  readonly #sns: SNSClient;
  readonly #sqs: SQSClient;
  readonly #upstream: string;

  /** `upstream`: the emulator itself. */
  constructor(upstream: string, region: string) {
    const credentials = { accessKeyId: 'local-endpoint', secretAccessKey: 'local-endpoint' };
    this.#upstream = upstream;
    this.#sns = new SNSClient({ endpoint: upstream, region, credentials });
    this.#sqs = new SQSClient({ endpoint: upstream, region, credentials });
  }

  /** The topic's SQS subscriptions, as the emulator holds them. */
  async subscriptions(topicArn: string): Promise<SqsSubscription[]> {
    const all: Subscription[] = [];
    let token: string | undefined;
    do {
      const page = await this.#sns.send(
        new ListSubscriptionsByTopicCommand({ TopicArn: topicArn, NextToken: token }),
      );
      all.push(...(page.Subscriptions ?? []));
      token = page.NextToken;
    } while (token);
    const sqs = all.filter((s) => s.Protocol === 'sqs' && s.SubscriptionArn && s.Endpoint);
    return Promise.all(
      sqs.map(async (s) => {
        const { Attributes: attributes = {} } = await this.#sns.send(
          new GetSubscriptionAttributesCommand({ SubscriptionArn: s.SubscriptionArn }),
        );
        return {
          arn: s.SubscriptionArn ?? '',
          queueArn: s.Endpoint ?? '',
          raw: attributes.RawMessageDelivery === 'true',
          filtered: Boolean(attributes.FilterPolicy),
        };
      }),
    );
  }

  /** Delivers one Publish to `targets` as SNS would; returns the message id. */
  async deliver(
    topicArn: string,
    params: Record<string, string>,
    targets: SqsSubscription[],
  ): Promise<string> {
    const messageId = randomUUID();
    for (const target of targets) {
      const [, , , , account, name] = target.queueArn.split(':');
      const attributes = publishAttributes(params);
      await this.#sqs.send(
        new SendMessageCommand({
          QueueUrl: `${this.#upstream}/${account}/${name}`,
          MessageBody: target.raw ? (params.Message ?? '') : envelope(topicArn, messageId, params),
          ...(target.raw && Object.keys(attributes).length > 0 ? { MessageAttributes: attributes } : {}),
        }),
      );
    }
    return messageId;
  }

  close(): void {
    this.#sns.destroy();
    this.#sqs.destroy();
  }
}

export function publishResponse(messageId: string): string {
  return (
    '<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">' +
    `<PublishResult><MessageId>${messageId}</MessageId></PublishResult>` +
    `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></PublishResponse>`
  );
}
