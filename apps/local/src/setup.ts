/**
 * Creates the pipeline's AWS resources through the public endpoint with the AWS SDK, the way Terraform
 * does in the cloud. Idempotent: a second run changes nothing, and the bucket notification (whose creation
 * sends an s3:TestEvent) is only applied when missing or different.
 */
import {
  CreateBucketCommand,
  GetBucketNotificationConfigurationCommand,
  HeadBucketCommand,
  PutBucketNotificationConfigurationCommand,
  type QueueConfiguration,
  type S3Client,
} from '@aws-sdk/client-s3';
import { CreateTopicCommand, SetTopicAttributesCommand, type SNSClient } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { videoSuffixVariants } from '@thumbs/model';

export interface PipelineResourcesSpec {
  bucket: string;
  testSourceBucket: string;
  uploadPrefix: string;
  queueName: string;
  dlqName: string;
  topicName: string;
  maxReceiveCount: number;
  visibilityTimeoutSeconds: number;
  /** Terraform's resource policies (aws_sqs_queue_policy, aws_sns_topic_policy), as IAM JSON. */
  queuePolicy?: object;
  topicPolicy?: object;
}

export interface PipelineResources {
  queueUrl: string;
  queueArn: string;
  dlqUrl: string;
  dlqArn: string;
  topicArn: string;
  /** Whether the bucket notification was (re)applied on this run. */
  notificationApplied: boolean;
}

async function ensureBucket(s3: S3Client, bucket: string): Promise<void> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  }
}

async function queueArn(sqs: SQSClient, url: string): Promise<string> {
  const result = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
  );
  const arn = result.Attributes?.QueueArn;
  if (!arn) throw new Error(`queue ${url} has no ARN`);
  return arn;
}

/** CreateQueue then SetQueueAttributes, so that changed settings apply to a queue that already exists. */
async function ensureQueue(
  sqs: SQSClient,
  name: string,
  attributes: Record<string, string>,
): Promise<string> {
  const created = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  if (!created.QueueUrl) throw new Error(`CreateQueue returned no URL for ${name}`);
  await sqs.send(new SetQueueAttributesCommand({ QueueUrl: created.QueueUrl, Attributes: attributes }));
  return created.QueueUrl;
}

/** One configuration per suffix spelling: S3 suffix filters are case-sensitive, videos may be named in any case. */
export function uploadNotification(queueArn: string, uploadPrefix: string): QueueConfiguration[] {
  return videoSuffixVariants().map((suffix) => ({
    Id: `video-upload${suffix}`,
    QueueArn: queueArn,
    Events: ['s3:ObjectCreated:*', 's3:ObjectRemoved:*'],
    Filter: {
      Key: {
        FilterRules: [
          { Name: 'prefix', Value: uploadPrefix },
          { Name: 'suffix', Value: suffix },
        ],
      },
    },
  }));
}

function canonical(configurations: QueueConfiguration[] | undefined): string {
  return JSON.stringify(
    (configurations ?? [])
      .map((c) =>
        JSON.stringify([
          c.QueueArn,
          [...(c.Events ?? [])].sort(),
          (c.Filter?.Key?.FilterRules ?? []).map((r) => [r.Name?.toLowerCase(), r.Value]).sort(),
        ]),
      )
      .sort(),
  );
}

export async function ensurePipelineResources(
  clients: { s3: S3Client; sqs: SQSClient; sns: SNSClient },
  spec: PipelineResourcesSpec,
): Promise<PipelineResources> {
  const { s3, sqs, sns } = clients;
  await ensureBucket(s3, spec.bucket);
  await ensureBucket(s3, spec.testSourceBucket);

  // SQS's longest retention for both, as Terraform sets it: a long outage must not expire work or dead letters.
  const retention = { MessageRetentionPeriod: String(14 * 24 * 3600) };
  const dlqUrl = await ensureQueue(sqs, spec.dlqName, retention);
  const dlqArn = await queueArn(sqs, dlqUrl);
  const queueUrl = await ensureQueue(sqs, spec.queueName, {
    ...retention,
    VisibilityTimeout: String(spec.visibilityTimeoutSeconds),
    ReceiveMessageWaitTimeSeconds: '20',
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: spec.maxReceiveCount }),
    // S3 may send the bucket's events only as this policy allows (set before the notification, as in Terraform).
    ...(spec.queuePolicy ? { Policy: JSON.stringify(spec.queuePolicy) } : {}),
  });
  const workArn = await queueArn(sqs, queueUrl);

  const topic = await sns.send(new CreateTopicCommand({ Name: spec.topicName }));
  if (!topic.TopicArn) throw new Error(`CreateTopic returned no ARN for ${spec.topicName}`);
  if (spec.topicPolicy) {
    await sns.send(
      new SetTopicAttributesCommand({
        TopicArn: topic.TopicArn,
        AttributeName: 'Policy',
        AttributeValue: JSON.stringify(spec.topicPolicy),
      }),
    );
  }

  const desired = uploadNotification(workArn, spec.uploadPrefix);
  const current = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: spec.bucket }));
  const notificationApplied = canonical(current.QueueConfigurations) !== canonical(desired);
  if (notificationApplied) {
    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: spec.bucket,
        NotificationConfiguration: { QueueConfigurations: desired },
      }),
    );
  }
  return { queueUrl, queueArn: workArn, dlqUrl, dlqArn, topicArn: topic.TopicArn, notificationApplied };
}
