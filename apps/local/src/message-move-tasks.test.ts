import {
  CancelMessageMoveTaskCommand,
  ListMessageMoveTasksCommand,
  SendMessageBatchCommand,
  StartMessageMoveTaskCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deploymentOf, startLocalAws, type LocalAws } from './testing/local-aws.ts';

const deployment = deploymentOf({ bucket: 'move-test', queue: 'move-jobs', topic: 'move-events' });
const ARN = (name: string) => `arn:aws:sqs:${deployment.region}:${deployment.accountId}:${name}`;
const DLQ = ARN('move-jobs-dlq');
const QUEUE = ARN('move-jobs');

let aws: LocalAws;
let api: SQSClient;

beforeAll(async () => {
  aws = await startLocalAws({ deployment, enforce: true });
  aws.emulator.createQueue('move-jobs-dlq');
  aws.emulator.createQueue('move-jobs', {
    attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: DLQ, maxReceiveCount: 3 }) },
  });
  api = aws.clients('api', deployment).sqs;
});

afterAll(async () => {
  api?.destroy();
  await aws?.stop();
});

const depth = (name: string) => {
  const messages = aws.emulator.inspectQueue(name)?.messages;
  return (messages?.ready.length ?? 0) + (messages?.inflight.length ?? 0) + (messages?.delayed.length ?? 0);
};

async function deadLetters(count: number): Promise<void> {
  const url = `${aws.endpoint}/${deployment.accountId}/move-jobs-dlq`;
  const deployer = aws.clients('deployer', deployment).sqs;
  for (let i = 0; i < count; i += 10) {
    await deployer.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: Array.from({ length: Math.min(10, count - i) }, (_, j) => ({
          Id: String(j),
          MessageBody: `uploads/dead ${i + j}.mp4`,
          MessageAttributes: { origin: { DataType: 'String', StringValue: 'test' } },
        })),
      }),
    );
  }
  deployer.destroy();
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const latest = async () =>
  (await api.send(new ListMessageMoveTasksCommand({ SourceArn: DLQ, MaxResults: 10 }))).Results ?? [];

it('moves every dead letter (hundreds) back to the queue that uses the DLQ, body and attributes intact', async () => {
  await deadLetters(250);
  const { TaskHandle } = await api.send(new StartMessageMoveTaskCommand({ SourceArn: DLQ }));
  expect(TaskHandle).toBeTruthy();
  const [task] = await until(latest, ([t]) => t?.Status !== 'RUNNING');
  expect(task).toMatchObject({
    TaskHandle,
    Status: 'COMPLETED',
    SourceArn: DLQ,
    ApproximateNumberOfMessagesToMove: 250,
    ApproximateNumberOfMessagesMoved: 250,
  });
  expect(depth('move-jobs-dlq')).toBe(0);
  expect(depth('move-jobs')).toBe(250);
  const moved = aws.emulator.inspectQueue('move-jobs')?.messages.ready[0];
  expect(moved?.body).toMatch(/^uploads\/dead \d+\.mp4$/);
  expect(moved?.messageAttributes?.origin?.StringValue).toBe('test');
});

it('allows one running task per DLQ, and cancels one on request', async () => {
  await deadLetters(30);
  const first = await api.send(
    new StartMessageMoveTaskCommand({
      SourceArn: DLQ,
      DestinationArn: QUEUE,
      MaxNumberOfMessagesPerSecond: 1,
    }),
  );
  await expect(api.send(new StartMessageMoveTaskCommand({ SourceArn: DLQ }))).rejects.toMatchObject({
    message: expect.stringContaining('already a task running'),
  });
  await api.send(new CancelMessageMoveTaskCommand({ TaskHandle: first.TaskHandle }));
  const [task] = await until(latest, ([t]) => t?.Status === 'CANCELLED');
  expect(task?.Status).toBe('CANCELLED');
  expect(task?.ApproximateNumberOfMessagesMoved).toBeLessThan(30);
});

it('refuses a source that is no DLQ, a missing queue, and callers without the rights', async () => {
  await expect(api.send(new StartMessageMoveTaskCommand({ SourceArn: QUEUE }))).rejects.toThrow(
    /must be configured as a Dead Letter Queue|not authorized/,
  );
  await expect(
    aws.clients('deployer', deployment).sqs.send(new StartMessageMoveTaskCommand({ SourceArn: ARN('nope') })),
  ).rejects.toThrow(/does not exist/);
  // The worker may not redrive: the endpoint checks the caller's rights as SQS does.
  const worker = aws.clients('worker', deployment).sqs;
  await expect(worker.send(new StartMessageMoveTaskCommand({ SourceArn: DLQ }))).rejects.toMatchObject({
    name: 'AccessDenied',
  });
  worker.destroy();
});
