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
import { startAwsEmulator, type AwsEmulator } from './aws-emulator.ts';
import { silentLog } from './log.ts';
import { withoutZeroVisibility } from './sqs-visibility.ts';

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
  let dataDir: string;
  let aws: AwsEmulator;
  let sqs: SQSClient;
  let queueUrl: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'sqs-visibility-'));
    aws = await startAwsEmulator({ dataDir, port: 0, region: 'us-east-1', log: silentLog });
    sqs = new SQSClient({
      endpoint: aws.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'release-test' }))).QueueUrl ?? '';
  });

  afterAll(async () => {
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
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'single' }));
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
