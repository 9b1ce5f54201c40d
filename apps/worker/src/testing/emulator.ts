import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Deployment, RoleKey } from '@thumbs/iam';
import { buildS3Event, type PipelineEvent } from '@thumbs/model';
import { topicMaySendPolicy, type AwsClients } from '@thumbs/runtime';
import { deploymentOf, REGION, type LocalAws, type EmulatorControl } from '@thumbs/local/testing';

export { REGION };

export interface Pipeline {
  bucket: string;
  queue: string;
  queueUrl: string;
  dlq: string;
  dlqUrl: string;
  topic: string;
  topicArn: string;
  /** What Terraform would deploy under these names: the roles' policies are rendered for it. */
  deployment: Deployment;
}

/**
 * Bucket, work queue with its DLQ (redrive after maxReceiveCount), events topic and a queue subscribed to
 * it (raw delivery; its policy lets SNS deliver) to watch what the worker publishes, created in the emulator itself as Terraform creates
 * them. Names end in `suffix`. Queue URLs are on the endpoint, as components are given them.
 */
export function createPipeline(local: LocalAws, suffix: string, maxReceiveCount = 3): Pipeline {
  const server = local.emulator;
  const bucket = `thumbnail-pipeline-${suffix}`;
  const queue = `thumbnail-jobs-${suffix}`;
  const dlq = `${queue}-dlq`;
  const topic = `thumbnail-events-${suffix}`;
  server.createBucket(bucket);
  const dead = server.createQueue(dlq);
  const work = server.createQueue(queue, {
    attributes: {
      VisibilityTimeout: '30',
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dead.queueArn, maxReceiveCount }),
    },
  });
  const { topicArn } = server.createTopic(topic);
  // As an API replica's queue: SNS delivers only to a queue whose policy lets it send for the topic.
  const snsMaySend = topicMaySendPolicy(work.queueArn.replace(/[^:]+$/, `${topic}-watch`), topicArn);
  server.createQueue(`${topic}-watch`, { attributes: { Policy: JSON.stringify(snsMaySend) } });
  server.subscribe({ topic, queue: `${topic}-watch`, attributes: { RawMessageDelivery: 'true' } });
  const onEndpoint = (url: string) => new URL(new URL(url).pathname, local.endpoint).href;
  return {
    bucket,
    queue,
    queueUrl: onEndpoint(work.queueUrl),
    dlq,
    dlqUrl: onEndpoint(dead.queueUrl),
    topic,
    topicArn,
    deployment: deploymentOf({ bucket, queue, topic }),
  };
}

/** Clients as `local.clients(role, deployment)` gives them, but sent to `endpoint`: a proxy in front of it. */
export function clientsVia(
  endpoint: string,
  local: LocalAws,
  role: RoleKey,
  deployment: Deployment,
): AwsClients {
  const common = { endpoint, region: REGION, credentials: async () => local.credentials(role, deployment) };
  return {
    s3: new S3Client({ ...common, forcePathStyle: true }),
    sqs: new SQSClient(common),
    sns: new SNSClient(common),
  };
}

/**
 * Environment for a worker process of this pipeline, as its pod gets it: temporary credentials of the worker
 * role, and the queue's URL and the topic's ARN in full (k8s/config.yaml), since the role may not look them up.
 */
export function workerEnv(local: LocalAws, pipeline: Pipeline, extra: Record<string, string> = {}) {
  const credentials = local.credentials('worker', pipeline.deployment);
  return {
    AWS_ENDPOINT_URL: local.endpoint,
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_SESSION_TOKEN: credentials.sessionToken,
    S3_BUCKET: pipeline.bucket,
    SQS_QUEUE_URL: pipeline.queueUrl,
    SQS_DLQ_URL: pipeline.dlqUrl,
    EVENTS_TOPIC_ARN: pipeline.topicArn,
    WORKER_NAME: 'test-worker',
    WORKER_WAIT_SECONDS: '1',
    WORKER_VISIBILITY_TIMEOUT: '30',
    FAILURE_BACKOFF_SECONDS: '0',
    ...extra,
  };
}

/** Queues the S3 event notification AWS sends when an object (`key`, `size`, `eTag`) is put into the bucket. */
export function queueS3Event(
  server: EmulatorControl,
  pipeline: Pipeline,
  object: { key: string; size: number; eTag: string },
): void {
  server.sendMessage(
    pipeline.queue,
    buildS3Event({ bucket: pipeline.bucket, ...object, eventName: 'ObjectCreated:Put', region: REGION }),
  );
}

/** Every event the worker has published so far, oldest first (read without consuming). */
export function publishedEvents(server: EmulatorControl, pipeline: Pipeline): PipelineEvent[] {
  const ready = server.inspectQueue(`${pipeline.topic}-watch`)?.messages.ready ?? [];
  return ready.map((m) => JSON.parse(m.body) as PipelineEvent);
}

/** Messages in a queue: visible, delayed and in flight. */
export function queueMessages(server: EmulatorControl, queue: string) {
  const messages = server.inspectQueue(queue)?.messages;
  return [
    ...(messages?.ready ?? []),
    ...(messages?.delayed ?? []),
    ...(messages?.inflight ?? []).map((entry) => entry.message),
  ];
}

/** Polls `check` until it returns a value other than undefined/false, or fails after timeoutMs. */
export async function waitFor<T>(
  check: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Stores a body of any size: the emulator takes at most 11 MiB per request, so big bodies go in parts. */
export async function putObject(s3: S3Client, bucket: string, key: string, body: Buffer): Promise<string> {
  const partSize = 8 * 1024 * 1024;
  if (body.length <= partSize) {
    return (await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }))).ETag ?? '';
  }
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
  const parts = [];
  for (let offset = 0, number = 1; offset < body.length; offset += partSize, number++) {
    const part = body.subarray(offset, offset + partSize);
    const { ETag } = await s3.send(
      new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: number, Body: part }),
    );
    parts.push({ ETag, PartNumber: number });
  }
  const done = await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      UploadId,
      MultipartUpload: { Parts: parts },
    }),
  );
  return done.ETag ?? '';
}
