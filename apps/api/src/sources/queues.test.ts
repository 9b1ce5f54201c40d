import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ChangeMessageVisibilityBatchCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { createResources, startApi, startEmulator, waitFor } from '../testing/harness.ts';

describe('DLQ listing', () => {
  it('leaves every message in the DLQ, also on the emulator with persistence (local mode)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'api-dlq-'));
    const local = await startEmulator({ dataDir: dir });
    try {
      const resources = await createResources(local, 'dlq-peek');
      const { sqs } = local.clients('deployer', resources.deployment);
      const { dlqUrl } = resources;
      for (let i = 0; i < 12; i++) {
        await sqs.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: `uploads/dead-${i}.mp4` }));
      }
      const api = await startApi(local, resources);
      try {
        const listed = await waitFor(async () => {
          const body = (await api.app.inject('/api/dlq')).json() as { source: string }[];
          return body.length === 12 && body;
        });
        expect(listed.map((d) => d.source).sort()).toEqual(
          Array.from({ length: 12 }, (_, i) => `uploads/dead-${i}.mp4`).sort(),
        );
      } finally {
        await api.app.close();
      }
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const still = new Set<string>();
      for (let round = 0; round < 5 && still.size < 12; round++) {
        const received = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 30 }),
        );
        for (const message of received.Messages ?? []) still.add(message.Body ?? '');
      }
      expect(still.size).toBe(12);
    } finally {
      await local.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('lists again when another reader held some messages, until the list is whole', async () => {
    const local = await startEmulator();
    try {
      const resources = await createResources(local, 'dlq-held');
      const { sqs } = local.clients('deployer', resources.deployment);
      const { dlqUrl } = resources;
      for (let i = 0; i < 4; i++) {
        await sqs.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: `uploads/dead-${i}.mp4` }));
      }
      // Another reader (a second replica's peek, an operator's console) holds two of them for 3 s.
      const held = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 2, VisibilityTimeout: 3 }),
      );
      expect(held.Messages).toHaveLength(2);
      const api = await startApi(local, resources);
      try {
        const partial = await waitFor(async () => {
          const body = (await api.app.inject('/api/dlq')).json() as { source: string }[];
          return body.length > 0 && body;
        });
        expect(partial).toHaveLength(2);
        // They come back (no change in the DLQ's depth): the API notices its list was short and reads again.
        await sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: dlqUrl,
            Entries: (held.Messages ?? []).map((m, i) => ({
              Id: String(i),
              ReceiptHandle: m.ReceiptHandle,
              VisibilityTimeout: 1,
            })),
          }),
        );
        await waitFor(
          async () => ((await api.app.inject('/api/dlq')).json() as unknown[]).length === 4,
          10_000,
          'all four DLQ entries',
        );
      } finally {
        await api.app.close();
      }
    } finally {
      await local.stop();
    }
  });
});
