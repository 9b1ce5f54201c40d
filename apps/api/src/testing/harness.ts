import { Agent, request } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { renderDeploymentPolicies, type Deployment } from '@thumbs/iam';
import { createLogger, type Logger } from '@thumbs/runtime';
import { WebSocket, type ClientOptions } from 'ws';
import type { ServerMessage } from '@thumbs/model';
// The local AWS endpoint: the emulator behind the proxy that checks every request against Terraform's roles.
import { deploymentOf, startLocalAws, type LocalAws, type LocalAwsOptions } from '@thumbs/local/testing';
import { buildApp, type App, type AppOptions } from '../app.ts';
import { loadApiConfig } from '../config.ts';

export type { LocalAws };

export const ADMIN_TOKEN = 'test-admin-token';
export const ORIGIN = 'http://dashboard.test';

/** The local AWS endpoint, enforcing unless LOCAL_AWS_ENFORCE=false; `emulator` controls what is behind it. */
export function startEmulator(options: LocalAwsOptions = {}): Promise<LocalAws> {
  return startLocalAws(options);
}

export interface Resources {
  bucket: string;
  testSourceBucket: string;
  queue: string;
  dlq: string;
  topic: string;
  queueUrl: string;
  dlqUrl: string;
  topicArn: string;
  /** What the roles' policies are rendered for: credentials for these resources are issued for it. */
  deployment: Deployment;
}

/**
 * The pipeline's buckets, queues (DLQ after 3 receives) and events topic, with names unique to a test, created
 * in the emulator directly as Terraform creates them, with Terraform's queue and topic policies.
 */
export async function createResources(local: LocalAws, suffix: string): Promise<Resources> {
  const names = {
    bucket: `thumbnail-pipeline-${suffix}`,
    testSourceBucket: `thumbnail-test-source-${suffix}`,
    queue: `thumbnail-jobs-${suffix}`,
    topic: `thumbnail-events-${suffix}`,
  };
  const deployment = deploymentOf(names);
  const { arns, queuePolicies, topicPolicies } = await renderDeploymentPolicies(deployment);
  const policy = (document: object | undefined): Record<string, string> =>
    document ? { Policy: JSON.stringify(document) } : {};
  const { emulator } = local;
  emulator.createBucket(names.bucket);
  emulator.createBucket(names.testSourceBucket);
  const dlq = emulator.createQueue(`${names.queue}-dlq`, { attributes: policy(queuePolicies[arns.dlq]) });
  const queue = emulator.createQueue(names.queue, {
    attributes: {
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.queueArn, maxReceiveCount: 3 }),
      ...policy(queuePolicies[arns.queue]),
    },
  });
  const topic = emulator.createTopic(names.topic, { attributes: policy(topicPolicies[arns.topic]) });
  return {
    ...names,
    dlq: dlq.queueName,
    queueUrl: queue.queueUrl,
    dlqUrl: dlq.queueUrl,
    topicArn: topic.topicArn,
    deployment,
  };
}

/**
 * The API's environment for these resources, as production gives it (k8s/config.yaml): queue URLs and the
 * topic ARN, since no role may look them up by name.
 */
export function apiEnv(
  endpoint: string,
  resources: Resources,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: resources.deployment.region,
    S3_BUCKET: resources.bucket,
    TEST_SOURCE_BUCKET: resources.testSourceBucket,
    SQS_QUEUE_URL: resources.queueUrl,
    SQS_DLQ_URL: resources.dlqUrl,
    EVENTS_TOPIC_ARN: resources.topicArn,
    ADMIN_TOKEN,
    DASHBOARD_ORIGIN: ORIGIN,
    API_PORT: '0',
    API_HOST: '127.0.0.1',
    PODS_ENABLED: 'false',
    QUEUE_POLL_MS: '200',
    ADMIN_RATE_LIMIT: '1000',
    READ_RATE_LIMIT: '100000',
    ...extra,
  };
}

/**
 * A full garbage collection, so that heap figures measure what is still held, not what is merely unswept
 * (`gc` exposed for this call, however the test runner started Node).
 */
export function collectGarbage(): number {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  return process.memoryUsage().heapUsed;
}

export const quietLogger = (): Logger =>
  createLogger('api-test').child({}, { level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** The API in-process, calling the endpoint as its IAM role (`api`) for these resources' deployment. */
export async function startApi(
  local: LocalAws,
  resources: Resources,
  extra: Record<string, string> = {},
  options: Partial<AppOptions> = {},
): Promise<App & { url: string }> {
  const built = await buildApp({
    config: loadApiConfig(apiEnv(local.endpoint, resources, extra)),
    logger: quietLogger(),
    aws: local.clients('api', resources.deployment),
    eventsWaitSeconds: 1,
    ...options,
  });
  const address = await built.app.listen({ port: 0, host: '127.0.0.1' });
  return { ...built, url: address };
}

/**
 * Tiny objects straight over HTTP to the emulator itself, behind the endpoint's checks (the emulator checks no
 * signatures): ~10× faster than the SDK.
 */
export async function putTinyObjects(local: LocalAws, bucket: string, keys: Iterable<string>): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const put = (key: string) =>
    new Promise<void>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: local.emulator.port,
          method: 'PUT',
          path: `/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`,
          agent,
          headers: { 'content-length': 4 },
        },
        (res) => {
          res.resume();
          res.on('end', () =>
            res.statusCode === 200 ? resolve() : reject(new Error(`PUT ${key}: ${res.statusCode}`)),
          );
        },
      );
      req.on('error', reject);
      req.end('tiny');
    });
  const pending = keys[Symbol.iterator]();
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let next = pending.next(); !next.done; next = pending.next()) await put(next.value);
    }),
  );
  agent.destroy();
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
