/**
 * What the fault tests share: the local stack on random ports in a temporary DATA_DIR with fast settings,
 * SDK clients, a watch on the pipeline's events topic, polling helpers, and a slowed-down ffprobe to make
 * sure a fault lands in the middle of a job.
 */
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { PipelineEvent } from '@thumbs/model';
import { ffprobePath, topicMaySendPolicy } from '@thumbs/runtime';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTestClip } from '../testing/clips.ts';
import { roleCredentials } from '../aws-auth/component-credentials.ts';
import { silentLog, type Log } from '../log.ts';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../stack.ts';

export const BUCKET = 'thumbnail-pipeline';

export interface Clients {
  s3: S3Client;
  sqs: SQSClient;
  sns: SNSClient;
  destroy(): void;
}

/**
 * The test's own clients: the operator's, signing with temporary credentials of the deploy role that the
 * stack's endpoint issues (they stay valid across an emulator restart on the same DATA_DIR).
 */
export function clientsFor(stack: LocalStack): Clients {
  const common = {
    endpoint: stack.urls.aws,
    region: stack.config.region,
    credentials: roleCredentials(stack.authority, 'deployer', 3600),
    maxAttempts: 1,
  };
  const s3 = new S3Client({ ...common, forcePathStyle: true });
  const sqs = new SQSClient(common);
  const sns = new SNSClient(common);
  return { s3, sqs, sns, destroy: () => [s3, sqs, sns].forEach((c) => c.destroy()) };
}

/** Polls `read` until `ok` holds; the failure names what was awaited and the last value seen. */
export async function until<T>(
  what: string,
  read: () => T | Promise<T>,
  ok: (value: T) => boolean,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastError: unknown;
  for (;;) {
    try {
      last = await read();
      if (ok(last)) return last;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const seen = lastError ? String(lastError) : JSON.stringify(last)?.slice(0, 1000);
      throw new Error(`${what}: not within ${timeoutMs} ms (last: ${seen})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

/** A fault test's temporary folder: its own files (clips, the slow ffprobe) and, in `data`, the stack's DATA_DIR. */
export function testDir(prefix: string): { dir: string; dataDir: string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, dataDir: join(dir, 'data') };
}

/** Makes a test clip as `dir/name` (2 s, 160x120 unless told) and returns its bytes. */
export async function testClip(
  dir: string,
  name = 'clip.mp4',
  options: { seconds: number; size: string } = { seconds: 2, size: '160x120' },
): Promise<Buffer> {
  const path = join(dir, name);
  await makeTestClip(path, options);
  return readFileSync(path);
}

export const fastChildEnv = {
  WORKER_WAIT_SECONDS: '1',
  FAILURE_BACKOFF_SECONDS: '0',
  QUEUE_POLL_MS: '300',
  LOG_LEVEL: 'info',
};

export interface FaultStack {
  stack: LocalStack;
  dataDir: string;
  aws: Clients;
  events: EventWatch;
  /** What the endpoint refused (its 'AWS denied …' warnings): a component calling beyond its role. */
  denials: string[];
  /**
   * Stops the watch, the stack (if still running) and the clients, and deletes DATA_DIR unless kept; then
   * fails if the endpoint denied any call, as AWS would have.
   */
  close(options?: { keepData?: boolean }): Promise<void>;
}

export type FaultStackOptions = Omit<LocalStackOptions, 'childEnv'> & { childEnv?: Record<string, string> };

export function faultStackOptions(dataDir: string, options: FaultStackOptions = {}): LocalStackOptions {
  return {
    dataDir,
    awsPort: 0,
    kubePort: 0,
    apiPort: 0,
    webPort: 0,
    startApi: false,
    startWeb: false,
    samples: false,
    adminToken: 'fault-test-token',
    maxWorkers: 2,
    pollMs: 200,
    cooldownMs: 2000,
    visibilityTimeoutSeconds: 5,
    workerStopGraceMs: 20_000,
    log: silentLog,
    ...options,
    childEnv: { ...fastChildEnv, ...options.childEnv },
  };
}

/** Starts the stack and waits until the notification's s3:TestEvent has been consumed. */
export async function startFaultStack(options: FaultStackOptions = {}): Promise<FaultStack> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'faults-'));
  const denials: string[] = [];
  const log: Log = (level, message) => {
    if (message.startsWith('AWS denied')) denials.push(message);
    options.log?.(level, message);
  };
  const stack = await startLocalStack(faultStackOptions(dataDir, { ...options, log }));
  const aws = clientsFor(stack);
  const events = await watchEvents(aws, stack.resources.topicArn);
  if (stack.resources.notificationApplied) {
    await until(
      'the s3:TestEvent consumed',
      () => queueDepth(aws.sqs, stack.resources.queueUrl),
      (d) => d.visible + d.inFlight === 0,
      60_000,
    );
  }
  let stopped = false;
  return {
    stack,
    dataDir,
    aws,
    events,
    denials,
    async close({ keepData = false } = {}) {
      events.stop();
      if (!stopped) await stack.stop();
      stopped = true;
      aws.destroy();
      if (!keepData) rmSync(dataDir, { recursive: true, force: true });
      if (denials.length > 0)
        throw new Error(`the AWS endpoint denied ${denials.length} call(s):\n${denials.join('\n')}`);
    },
  };
}

export async function queueDepth(sqs: SQSClient, queueUrl: string) {
  const result = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(result.Attributes?.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(result.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}

export interface EventWatch {
  /** Every pipeline event published so far, in arrival order. */
  list: PipelineEvent[];
  of(type: PipelineEvent['type'], source?: string): PipelineEvent[];
  stop(): void;
}

/**
 * A queue of the test's own subscribed to the events topic (raw delivery), drained in the background.
 * It lives in the emulator, so it survives an emulator restart; receive errors (AWS down) are retried.
 */
export async function watchEvents(aws: Clients, topicArn: string): Promise<EventWatch> {
  // The topic's policy (Terraform's OnlyApiQueuesSubscribe) lets only queues named as the API's subscribe.
  const name = `thumbnail-api-faults-watch-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  const { QueueUrl } = await aws.sqs.send(new CreateQueueCommand({ QueueName: name }));
  const attributes = await aws.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  const queueArn = attributes.Attributes?.QueueArn;
  // SNS delivers only to a queue whose policy lets it send for this topic (as the API sets its own queue's).
  const policy = topicMaySendPolicy(queueArn ?? '', topicArn);
  await aws.sqs.send(
    new SetQueueAttributesCommand({ QueueUrl, Attributes: { Policy: JSON.stringify(policy) } }),
  );
  await aws.sns.send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: 'sqs',
      Endpoint: queueArn,
      Attributes: { RawMessageDelivery: 'true' },
    }),
  );
  const list: PipelineEvent[] = [];
  const seen = new Set<string>();
  let running = true;
  const drain = async (): Promise<void> => {
    while (running) {
      try {
        // A short visibility: a batch whose answer is lost in transit comes back soon.
        const { Messages = [] } = await aws.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
            VisibilityTimeout: 2,
          }),
        );
        for (const message of Messages) {
          if (seen.has(message.MessageId ?? '')) continue;
          seen.add(message.MessageId ?? '');
          list.push(JSON.parse(message.Body ?? '{}') as PipelineEvent);
        }
        if (Messages.length > 0) {
          await aws.sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl,
              Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
            }),
          );
        }
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
    }
    await aws.sqs.send(new DeleteQueueCommand({ QueueUrl })).catch(() => undefined);
  };
  void drain();
  return {
    list,
    of: (type, source) =>
      list.filter((e) => e.type === type && (source === undefined || ('source' in e && e.source === source))),
    stop: () => {
      running = false;
    },
  };
}

export async function listKeys(s3: S3Client, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, ContinuationToken: token }),
    );
    keys.push(...(page.Contents ?? []).map((o) => o.Key ?? ''));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

export async function upload(s3: S3Client, key: string, body: Buffer): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
}

/**
 * An ffprobe that first sleeps when the video's name contains `slow` (the worker's range relay keeps the
 * name in its URL), then runs the real ffprobe: a job certain to be in progress for a while. A name with
 * `slower` sleeps `slowerSeconds`, on its first probe only (later attempts sleep `seconds`).
 */
export function slowProbe(dir: string, seconds: number, slowerSeconds = seconds): Record<string, string> {
  const path = join(dir, 'slow-ffprobe.sh');
  const marker = join(dir, 'slower-probed');
  writeFileSync(
    path,
    [
      '#!/bin/sh',
      // Sleep in the background so that a SIGTERM (the worker aborting the probe) also ends the sleep.
      'nap() { trap \'kill $! 2>/dev/null; exit 143\' TERM; sleep "$1" & wait $!; trap - TERM; }',
      'case "$*" in',
      `  *slower*) if [ -e '${marker}' ]; then nap ${seconds}; else touch '${marker}'; nap ${slowerSeconds}; fi ;;`,
      `  *slow*) nap ${seconds} ;;`,
      'esac',
      `exec '${ffprobePath()}' "$@"`,
      '',
    ].join('\n'),
  );
  chmodSync(path, 0o755);
  return { FFPROBE_PATH: path };
}

/** Workers' pods, with the pid of each running process. */
export function workerPids(stack: LocalStack): { name: string; pid: number }[] {
  return stack.fleet.workers.flatMap((w) => (w.pid === undefined ? [] : [{ name: w.name, pid: w.pid }]));
}
