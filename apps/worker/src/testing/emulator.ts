import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { startFauxqs, type FauxqsServer } from 'fauxqs';
import { buildS3Event, type PipelineEvent } from '@thumbs/model';
import type { AwsClients } from '@thumbs/runtime';

export const REGION = 'us-east-1';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

export function clientsFor(endpoint: string): AwsClients {
  const common = { region: REGION, endpoint, credentials };
  return {
    s3: new S3Client({ ...common, forcePathStyle: true }),
    sqs: new SQSClient(common),
    sns: new SNSClient(common),
  };
}

export interface Pipeline {
  bucket: string;
  queue: string;
  queueUrl: string;
  dlq: string;
  dlqUrl: string;
  topic: string;
}

/** The embedded AWS emulator on a random port, with SDK clients pointed at it. */
export async function startEmulator(): Promise<{
  server: FauxqsServer;
  endpoint: string;
  clients: AwsClients;
}> {
  const server = await startFauxqs({ port: 0, logger: false });
  return { server, endpoint: server.address, clients: clientsFor(server.address) };
}

/**
 * Bucket, work queue with its DLQ (redrive after maxReceiveCount), events topic and a queue subscribed to
 * it (raw delivery) to watch what the worker publishes. Names end in `suffix`.
 */
export function createPipeline(server: FauxqsServer, suffix: string, maxReceiveCount = 3): Pipeline {
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
  server.createTopic(topic);
  server.createQueue(`${topic}-watch`);
  server.subscribe({ topic, queue: `${topic}-watch`, attributes: { RawMessageDelivery: 'true' } });
  return { bucket, queue, queueUrl: work.queueUrl, dlq, dlqUrl: dead.queueUrl, topic };
}

/** Environment for a worker of this pipeline (the worker's own config loader reads it). */
export function workerEnv(endpoint: string, pipeline: Pipeline, extra: Record<string, string> = {}) {
  return {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    S3_BUCKET: pipeline.bucket,
    SQS_QUEUE_NAME: pipeline.queue,
    EVENTS_TOPIC_NAME: pipeline.topic,
    WORKER_NAME: 'test-worker',
    WORKER_WAIT_SECONDS: '1',
    WORKER_VISIBILITY_TIMEOUT: '30',
    FAILURE_BACKOFF_SECONDS: '0',
    ...extra,
  };
}

/** Queues the S3 event notification AWS sends when an object (`key`, `size`, `eTag`) is put into the bucket. */
export function queueS3Event(
  server: FauxqsServer,
  pipeline: Pipeline,
  object: { key: string; size: number; eTag: string },
): void {
  server.sendMessage(
    pipeline.queue,
    buildS3Event({ bucket: pipeline.bucket, ...object, eventName: 'ObjectCreated:Put', region: REGION }),
  );
}

/** Every event the worker has published so far, oldest first (read without consuming). */
export function publishedEvents(server: FauxqsServer, pipeline: Pipeline): PipelineEvent[] {
  const ready = server.inspectQueue(`${pipeline.topic}-watch`)?.messages.ready ?? [];
  return ready.map((m) => JSON.parse(m.body) as PipelineEvent);
}

/** Messages in a queue: visible, delayed and in flight. */
export function queueMessages(server: FauxqsServer, queue: string) {
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
