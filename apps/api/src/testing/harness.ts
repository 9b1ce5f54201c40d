import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { createLogger, type AwsClients, type Logger } from '@thumbs/runtime';
import { startFauxqs, type FauxqsServer } from 'fauxqs';
import { WebSocket, type ClientOptions } from 'ws';
import type { ServerMessage } from '@thumbs/model';
import { buildApp, type App, type AppOptions } from '../app.ts';
import { loadApiConfig, type ApiConfig } from '../config.ts';

export const ADMIN_TOKEN = 'test-admin-token';
export const ORIGIN = 'http://dashboard.test';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

export function clientsFor(endpoint: string): AwsClients {
  const common = { region: 'us-east-1', endpoint, credentials };
  return {
    s3: new S3Client({ ...common, forcePathStyle: true }),
    sqs: new SQSClient(common),
    sns: new SNSClient(common),
  };
}

export interface Resources {
  bucket: string;
  testSourceBucket: string;
  queue: string;
  dlq: string;
  topic: string;
}

/** The pipeline's buckets, queues (DLQ after 3 receives) and events topic, with names unique to a test. */
export function createResources(server: FauxqsServer, suffix: string): Resources {
  const names: Resources = {
    bucket: `thumbnail-pipeline-${suffix}`,
    testSourceBucket: `thumbnail-test-source-${suffix}`,
    queue: `thumbnail-jobs-${suffix}`,
    dlq: `thumbnail-jobs-dlq-${suffix}`,
    topic: `thumbnail-events-${suffix}`,
  };
  server.createBucket(names.bucket);
  server.createBucket(names.testSourceBucket);
  const dlq = server.createQueue(names.dlq);
  server.createQueue(names.queue, {
    attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.queueArn, maxReceiveCount: 3 }) },
  });
  server.createTopic(names.topic);
  return names;
}

/** The API's configuration for these resources, as the environment would give it. */
export function configFor(
  endpoint: string,
  resources: Resources,
  extra: Record<string, string> = {},
): ApiConfig {
  return loadApiConfig({
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: 'us-east-1',
    S3_BUCKET: resources.bucket,
    TEST_SOURCE_BUCKET: resources.testSourceBucket,
    SQS_QUEUE_NAME: resources.queue,
    SQS_DLQ_NAME: resources.dlq,
    EVENTS_TOPIC_NAME: resources.topic,
    ADMIN_TOKEN,
    DASHBOARD_ORIGIN: ORIGIN,
    API_PORT: '0',
    API_HOST: '127.0.0.1',
    PODS_ENABLED: 'false',
    QUEUE_POLL_MS: '200',
    ADMIN_RATE_LIMIT: '1000',
    ...extra,
  });
}

export const quietLogger = (): Logger =>
  createLogger('api-test').child({}, { level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export async function startApi(
  endpoint: string,
  resources: Resources,
  extra: Record<string, string> = {},
  options: Partial<AppOptions> = {},
): Promise<App & { url: string }> {
  const built = await buildApp({
    config: configFor(endpoint, resources, extra),
    logger: quietLogger(),
    aws: clientsFor(endpoint),
    eventsWaitSeconds: 1,
    ...options,
  });
  const address = await built.app.listen({ port: 0, host: '127.0.0.1' });
  return { ...built, url: address };
}

export async function startEmulator(): Promise<FauxqsServer> {
  return startFauxqs({ port: 0, logger: false });
}

/** Polls `check` until it returns a value (not undefined/false) or the time is up. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<Exclude<T, false | null | undefined>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== null && value !== false)
      return value as Exclude<T, false | null | undefined>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A real WebSocket client that records every message it receives. */
export class WsRecorder {
  readonly socket: WebSocket;
  readonly messages: ServerMessage[] = [];
  readonly opened: Promise<void>;

  constructor(
    url: string,
    headers: Record<string, string> = { Origin: ORIGIN },
    options: ClientOptions = {},
  ) {
    this.socket = new WebSocket(url.replace(/^http/, 'ws') + '/ws', { headers, ...options });
    this.socket.on('message', (data) => this.messages.push(JSON.parse(String(data)) as ServerMessage));
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('error', reject);
    });
  }

  waitFor<T extends ServerMessage['type']>(
    type: T,
    predicate: (message: Extract<ServerMessage, { type: T }>) => boolean = () => true,
    timeoutMs = 10_000,
  ): Promise<Extract<ServerMessage, { type: T }>> {
    return waitFor(
      () =>
        this.messages.find(
          (m): m is Extract<ServerMessage, { type: T }> => m.type === type && predicate(m as never),
        ),
      timeoutMs,
      `a ${type} message`,
    );
  }

  close(): void {
    this.socket.close();
  }
}
