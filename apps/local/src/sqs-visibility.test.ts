import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roleCredentials } from './aws-auth/component-credentials.ts';
import { startAwsEmulator, type AwsEmulator } from './aws-emulator.ts';
import { silentLog } from './log.ts';
import { withoutZeroVisibility } from './sqs-visibility.ts';
import { deploymentOf, REGION } from './testing/local-aws.ts';

describe('withoutZeroVisibility', () => {
  it('raises zero timeouts to one second, single and batch, and leaves the rest alone', () => {
    expect(JSON.parse(withoutZeroVisibility('{"QueueUrl":"q","VisibilityTimeout":0}'))).toEqual({
      QueueUrl: 'q',
      VisibilityTimeout: 1,
    });
    expect(JSON.parse(withoutZeroVisibility('{"VisibilityTimeout":30}')).VisibilityTimeout).toBe(30);
    const batch = JSON.parse(
      withoutZeroVisibility(
        '{"Entries":[{"Id":"a","VisibilityTimeout":0},{"Id":"b","VisibilityTimeout":5}]}',
      ),
    );
    expect(batch.Entries.map((e: { VisibilityTimeout: number }) => e.VisibilityTimeout)).toEqual([1, 5]);
    expect(withoutZeroVisibility('not json')).toBe('not json');
  });
});

describe('releasing a message through the persisted local AWS', () => {
  // The queue is the deployment's work queue: the worker, which releases messages, may use it.
  const deployment = deploymentOf({ bucket: 'release-test', queue: 'release-test', topic: 'release-test' });
  let dataDir: string;
  let aws: AwsEmulator;
  let deployer: SQSClient;
  let sqs: SQSClient;
  let queueUrl: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'sqs-visibility-'));
    aws = await startAwsEmulator({
      dataDir,
      port: 0,
      region: REGION,
      deployment,
      enforce: true,
      sessionSeconds: 3600,
      log: silentLog,
    });
    const client = (role: 'deployer' | 'worker') =>
      new SQSClient({
        endpoint: aws.endpoint,
        region: REGION,
        credentials: roleCredentials(aws.authority, role, 3600),
      });
    deployer = client('deployer');
    sqs = client('worker');
    queueUrl = (await deployer.send(new CreateQueueCommand({ QueueName: 'release-test' }))).QueueUrl ?? '';
  });

  afterAll(async () => {
    deployer?.destroy();
    sqs?.destroy();
    await aws?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function receiveOne(wait: number) {
    const result = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: wait, VisibilityTimeout: 60 }),
    );
    return result.Messages?.[0];
  }

  it('gets the message back after ChangeMessageVisibility to 0', async () => {
    await deployer.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'single' }));
    const first = await receiveOne(1);
    await sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queueUrl,
        ReceiptHandle: first?.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    const again = await receiveOne(5);
    expect(again?.Body).toBe('single');
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: [{ Id: 'a', ReceiptHandle: again?.ReceiptHandle, VisibilityTimeout: 0 }],
      }),
    );
    expect((await receiveOne(5))?.Body).toBe('single');
  });
});
