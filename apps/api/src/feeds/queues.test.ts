import { PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { failureKey, type DlqEntry, type FailureRecord } from '@thumbs/model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_TOKEN,
  createResources,
  startApi,
  startEmulator,
  waitFor,
  type LocalAws,
  type Resources,
} from '../testing/harness.ts';

let local: LocalAws;

beforeAll(async () => {
  local = await startEmulator();
});

afterAll(async () => {
  await local?.stop();
});

/** `count` dead letters as the worker leaves them: the message in the DLQ, its failure record in S3. */
async function deadLetters(
  resources: Resources,
  count: number,
  kind?: FailureRecord['kind'],
): Promise<string[]> {
  const { s3, sqs } = local.clients('deployer', resources.deployment);
  const sources = Array.from({ length: count }, (_, i) => `uploads/dead ${String(i).padStart(3, '0')}.mp4`);
  for (let i = 0; i < count; i += 10) {
    const batch = sources.slice(i, i + 10);
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: resources.dlqUrl,
        Entries: batch.map((source, j) => ({ Id: String(j), MessageBody: source })),
      }),
    );
  }
  await Promise.all(
    sources.map((source) => {
      const record: FailureRecord = {
        source,
        ...(kind ? { kind } : {}),
        error: `cannot decode ${source}`,
        attempt: kind ? 1 : 3,
        worker: 'w1',
        time: new Date().toISOString(),
      };
      return s3.send(
        new PutObjectCommand({
          Bucket: resources.bucket,
          Key: failureKey(source),
          Body: JSON.stringify(record),
        }),
      );
    }),
  );
  return sources;
}

/** The DLQ as SQS counts it: visible (what the CloudWatch alarm watches) and in flight. */
function dlqCounts(resources: Resources) {
  const messages = local.emulator.inspectQueue(resources.dlq)?.messages;
  return { visible: messages?.ready.length ?? 0, inFlight: messages?.inflight.length ?? 0 };
}

describe('dead letters', () => {
  it("leaves the DLQ's visible count as it is, with several replicas listing it, each with the same list", async () => {
    const resources = await createResources(local, 'dlq-replicas');
    const sources = await deadLetters(resources, 12);
    const replicas = await Promise.all([1, 2, 3].map(() => startApi(local, resources)));
    try {
      const lists = await Promise.all(
        replicas.map((api) =>
          waitFor(async () => {
            const body = (await api.app.inject('/api/dlq')).json() as DlqEntry[];
            return body.length === 12 && body;
          }),
        ),
      );
      for (const list of lists) {
        expect(list.map((d) => d.source).sort()).toEqual(sources);
        expect(list.every((d) => d.error?.startsWith('cannot decode') && d.receiveCount === 3)).toBe(true);
      }
      // Several polls later, nothing has ever been received from the DLQ.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(dlqCounts(resources)).toEqual({ visible: 12, inFlight: 0 });
      expect((await replicas[0]!.app.inject('/api/queue')).json().dlqDepth).toBe(12);
    } finally {
      await Promise.all(replicas.map((api) => api.app.close()));
    }
  });

  it('lists a file no retry can fix after its first attempt, with its kind', async () => {
    const resources = await createResources(local, 'dlq-poison');
    const [source] = await deadLetters(resources, 1, 'not-a-video');
    const api = await startApi(local, resources);
    try {
      const [entry] = await waitFor(async () => {
        const body = (await api.app.inject('/api/dlq')).json() as DlqEntry[];
        return body.length === 1 && body;
      });
      expect(entry).toMatchObject({ source, receiveCount: 1, errorKind: 'not-a-video' });
    } finally {
      await api.app.close();
    }
  });

  it('redrives hundreds of dead letters with a message move task, and the panel empties', async () => {
    const resources = await createResources(local, 'dlq-redrive');
    await deadLetters(resources, 300);
    const api = await startApi(local, resources);
    try {
      await waitFor(async () => ((await api.app.inject('/api/dlq')).json() as DlqEntry[]).length === 100);
      const redrive = await api.app.inject({
        method: 'POST',
        url: '/api/dlq/redrive',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      expect(redrive.json()).toEqual({ moved: 300 });
      expect(dlqCounts(resources)).toEqual({ visible: 0, inFlight: 0 });
      expect(local.emulator.inspectQueue(resources.queue)?.messages.ready).toHaveLength(300);
      await waitFor(async () => ((await api.app.inject('/api/dlq')).json() as DlqEntry[]).length === 0);
      expect((await api.app.inject('/api/queue')).json().dlqDepth).toBe(0);
    } finally {
      await api.app.close();
    }
  });
});
