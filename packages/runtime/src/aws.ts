import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient, CreateTopicCommand } from '@aws-sdk/client-sns';
import { SQSClient, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import type { PipelineConfig } from './config.ts';

export interface AwsClients {
  s3: S3Client;
  sqs: SQSClient;
  sns: SNSClient;
}

/**
 * One set of AWS SDK v3 clients. Local mode differs only by endpoint (AWS_ENDPOINT_URL) and the
 * credentials in the environment; there S3 is addressed path-style, since `<bucket>.localhost` may not resolve.
 */
export function createAwsClients(config: Pick<PipelineConfig, 'region' | 'endpoint'>): AwsClients {
  const common = { region: config.region, ...(config.endpoint ? { endpoint: config.endpoint } : {}) };
  return {
    s3: new S3Client({ ...common, forcePathStyle: Boolean(config.endpoint) }),
    sqs: new SQSClient(common),
    sns: new SNSClient(common),
  };
}

export async function resolveQueueUrl(
  sqs: SQSClient,
  url: string | undefined,
  name: string,
): Promise<string> {
  if (url) return url;
  const result = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
  if (!result.QueueUrl) throw new Error(`SQS did not return a URL for queue ${name}`);
  return result.QueueUrl;
}

/** CreateTopic is idempotent and returns the ARN of an existing topic of that name. */
export async function resolveTopicArn(
  sns: SNSClient,
  arn: string | undefined,
  name: string,
): Promise<string> {
  if (arn) return arn;
  const result = await sns.send(new CreateTopicCommand({ Name: name }));
  if (!result.TopicArn) throw new Error(`SNS did not return an ARN for topic ${name}`);
  return result.TopicArn;
}

/** The queue policy that lets SNS deliver the topic's messages into the queue (and nothing else). */
export function topicMaySendPolicy(queueArn: string, topicArn: string) {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Service: 'sns.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: queueArn,
        Condition: { ArnEquals: { 'aws:SourceArn': topicArn } },
      },
    ],
  };
}
