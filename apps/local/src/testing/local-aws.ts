/**
 * The local AWS endpoint for tests: the emulator behind the enforcing proxy, as `npm start` runs it, with
 * credentials for each component's role. Tests create their resources directly in the emulator (what
 * Terraform does before any component runs) and then call it only through the endpoint, each part with its
 * own role, so a call the role does not allow fails the test as it would fail in AWS.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { LOCAL_ACCOUNT_ID, LOCAL_DEPLOYMENT, type Deployment, type RoleKey } from '@thumbs/iam';
import { loadConfig, env, type AwsClients } from '@thumbs/runtime';
import { startFauxqs } from 'fauxqs';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Authorizer } from '../aws-auth/authorizer.ts';
import { roleCredentials } from '../aws-auth/component-credentials.ts';
import { IdentityAuthority, OPERATOR_KEY, type SessionCredentials } from '../aws-auth/identities.ts';
import { startAwsProxy, type AwsProxy } from '../aws-proxy.ts';
import { silentLog, type Log } from '../log.ts';
import { useS3ListingOrder } from '../s3-listing-order.ts';

export const REGION = 'us-east-1';

/** A deployment named like Terraform names it, from the names a test gives its resources. */
export function deploymentOf(names: {
  bucket: string;
  testSourceBucket?: string;
  queue: string;
  topic: string;
}): Deployment {
  return {
    region: REGION,
    accountId: LOCAL_ACCOUNT_ID,
    bucketName: names.bucket,
    testSourceBucketName: names.testSourceBucket ?? `${names.bucket}-test-source`,
    queueName: names.queue,
    eventsTopicName: names.topic,
    uploadAllowedOrigins: ['http://localhost:3000'],
  };
}

/** A message as a queue holds it (what inspection shows; receiving would change it). */
export interface QueuedMessage {
  messageId: string;
  body: string;
  messageAttributes: Record<string, { DataType: string; StringValue?: string }>;
  sentTimestamp: number;
  approximateReceiveCount: number;
}

/**
 * What tests may do behind AWS's back, as Terraform or AWS itself would: create resources, put a message on
 * a queue (an S3 event notification), look at a queue without receiving from it. The one door to the
 * emulator's own API: another emulator needs only these.
 */
export interface EmulatorControl {
  /** The emulator's own port behind the endpoint: to see what it does without the endpoint's checks. */
  readonly port: number;
  createBucket(name: string): unknown;
  createQueue(
    name: string,
    options?: { attributes?: Record<string, string> },
  ): { queueUrl: string; queueArn: string; queueName: string };
  createTopic(name: string, options?: { attributes?: Record<string, string> }): { topicArn: string };
  subscribe(options: { topic: string; queue: string; attributes?: Record<string, string> }): void;
  sendMessage(
    queueName: string,
    body: string,
    options?: { delaySeconds?: number; messageAttributes?: QueuedMessage['messageAttributes'] },
  ): { messageId: string };
  inspectQueue(name: string):
    | {
        url: string;
        arn: string;
        attributes: Record<string, string>;
        messages: {
          ready: QueuedMessage[];
          delayed: QueuedMessage[];
          inflight: { message: QueuedMessage; receiptHandle: string; visibilityDeadline: number }[];
        };
      }
    | undefined;
}

export interface LocalAws {
  /** Resources and queue inspection behind the endpoint's checks (see EmulatorControl). */
  emulator: EmulatorControl;
  /** The endpoint components call. */
  endpoint: string;
  port: number;
  proxy: AwsProxy;
  authority: IdentityAuthority;
  /** Temporary credentials for a role (as STS would give), by default valid for an hour. */
  credentials(role: RoleKey, deployment?: Deployment, lifetimeSeconds?: number): SessionCredentials;
  /** SDK clients signing as `role`; their credentials are renewed as they near expiry. */
  clients(
    role: RoleKey,
    deployment?: Deployment,
    options?: { lifetimeSeconds?: number; maxAttempts?: number },
  ): AwsClients;
  stop(): Promise<void>;
}

export interface LocalAwsOptions {
  deployment?: Deployment;
  /** Default: on, unless LOCAL_AWS_ENFORCE says otherwise (the one switch, as for `npm start`). */
  enforce?: boolean;
  /** The emulator's S3 file storage (needed for ranged GETs served from files). */
  s3StorageDir?: string;
  dataDir?: string;
  /** Terraform files' text in place of the repository's, e.g. a policy with a statement removed. */
  overrides?: Record<string, string>;
  log?: Log;
}

export function enforcementFromEnv(): boolean {
  return loadConfig({ enforce: env.bool('LOCAL_AWS_ENFORCE', true) }).enforce;
}

export async function startLocalAws(options: LocalAwsOptions = {}): Promise<LocalAws> {
  const deployment = options.deployment ?? LOCAL_DEPLOYMENT;
  const scratch = mkdtempSync(join(tmpdir(), 'local-aws-'));
  await useS3ListingOrder();
  const fauxqs = await startFauxqs({
    port: 0,
    logger: false,
    defaultRegion: REGION,
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(options.s3StorageDir ? { s3StorageDir: options.s3StorageDir } : {}),
  });
  const authority = new IdentityAuthority(randomBytes(32), deployment, [OPERATOR_KEY]);
  const proxy = await startAwsProxy({
    port: 0,
    upstreamPort: fauxqs.port,
    notificationsFile: join(scratch, 'notifications.json'),
    eventsFile: join(scratch, 's3-events.jsonl'),
    ...(options.s3StorageDir ? { s3StorageDir: options.s3StorageDir } : {}),
    region: REGION,
    authorizer: new Authorizer(authority, `http://127.0.0.1:${fauxqs.port}`, REGION, options.overrides),
    enforce: options.enforce ?? enforcementFromEnv(),
    sessionSeconds: 3600,
    log: options.log ?? silentLog,
  });
  const endpoint = `http://127.0.0.1:${proxy.port}`;
  const emulator: EmulatorControl = fauxqs;
  return {
    emulator,
    endpoint,
    port: proxy.port,
    proxy,
    authority,
    credentials: (role, forDeployment = deployment, lifetimeSeconds = 3600) =>
      authority.issue(role, lifetimeSeconds, { deployment: forDeployment }),
    clients(role, forDeployment = deployment, clientOptions = {}) {
      const common = {
        endpoint,
        region: REGION,
        credentials: roleCredentials(authority, role, clientOptions.lifetimeSeconds ?? 3600, forDeployment),
        ...(clientOptions.maxAttempts ? { maxAttempts: clientOptions.maxAttempts } : {}),
      };
      return {
        s3: new S3Client({ ...common, forcePathStyle: true }),
        sqs: new SQSClient(common),
        sns: new SNSClient(common),
      };
    },
    async stop() {
      await proxy.stop();
      await fauxqs.stop();
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}
