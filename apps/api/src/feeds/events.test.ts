import { ListSubscriptionsByTopicCommand, PublishCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, ListQueueTagsCommand } from '@aws-sdk/client-sqs';
import { thumbnailKeys } from '@thumbs/model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_TOKEN,
  createResources,
  startApi,
  startEmulator,
  waitFor,
  WsRecorder,
  type LocalAws,
  type Resources,
} from '../testing/harness.ts';
import { CREATED_TAG, HEARTBEAT_TAG } from './events.ts';

let local: LocalAws;
let resources: Resources;

beforeAll(async () => {
  local = await startEmulator();
  resources = await createResources(local, 'fanout');
});

afterAll(async () => {
  await local?.stop();
});

describe('events fan-out across API replicas', () => {
  it('delivers every event to every replica, and each replica removes its queue when it stops', async () => {
    const aws = local.clients('deployer', resources.deployment);
    const { topicArn } = resources;
    const replicas = [await startApi(local, resources), await startApi(local, resources)];
    await waitFor(() => replicas.every((r) => r.pipeline.events.ready), 10_000, 'both subscriptions');
    const sockets = replicas.map((r) => new WsRecorder(r.url));
    await Promise.all(sockets.map((s) => s.waitFor('snapshot')));

    const source = 'uploads/shared.mp4';
    await aws.sns.send(
      new PublishCommand({
        TopicArn: topicArn,
        Message: JSON.stringify({
          type: 'job.done',
          source,
          attempt: 1,
          worker: 'worker-1',
          thumbnails: thumbnailKeys(source).map((key, i) => ({
            key,
            frame: (['10%', '50%', '95%'] as const)[i],
            size: 9,
          })),
          uploadedAt: null,
          processingMs: 800,
          time: new Date().toISOString(),
        }),
      }),
    );
    for (const socket of sockets)
      await socket.waitFor('job', (m) => m.job.source === source && m.job.status === 'done');
    for (const replica of replicas) {
      const page = (await replica.app.inject(`/api/thumbnails?source=${encodeURIComponent(source)}`)).json();
      expect(page.items).toHaveLength(3);
    }

    // An admin action on one replica reaches the other through the topic.
    const purge = await replicas[0]!.app.inject({
      method: 'DELETE',
      url: '/api/purge',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(purge.statusCode).toBe(200);
    await sockets[1]!.waitFor('purged');
    expect((await replicas[1]!.app.inject('/api/metrics')).json().thumbnails).toBe(0);

    // Junk on the topic is ignored, not fatal.
    await aws.sns.send(new PublishCommand({ TopicArn: topicArn, Message: '{"type":"job.exploded"}' }));

    const names = replicas.map((r) => r.pipeline.events.queueName);
    for (const name of names) expect(local.emulator.inspectQueue(name)).toBeDefined();
    for (const socket of sockets) socket.close();
    for (const replica of replicas) await replica.app.close();
    for (const name of names) expect(local.emulator.inspectQueue(name)).toBeUndefined();
    const subscriptions = await aws.sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn }));
    expect(subscriptions.Subscriptions ?? []).toEqual([]);
  });
});

describe('when AWS is unreachable', () => {
  it('marks the sources unavailable and keeps serving', async () => {
    // A port nothing listens on: every AWS call fails fast.
    const dead = await startEmulator();
    await dead.stop();
    const api = await startApi(dead, resources, { QUEUE_POLL_MS: '100' });
    try {
      const ws = new WsRecorder(api.url);
      await ws.waitFor('snapshot');
      const sources = await ws.waitFor(
        'sources',
        (m) => !m.sources.s3.ok && !m.sources.sqs.ok && m.sources.s3.error !== 'not checked yet',
      );
      expect(sources.sources.s3.error).toEqual(expect.any(String));
      expect((await api.app.inject('/health')).statusCode).toBe(200);
      // This replica still serves: readiness names what it cannot reach instead of leaving the load balancer.
      const ready = await api.app.inject('/ready');
      expect(ready.statusCode).toBe(200);
      expect(ready.json()).toEqual({ status: 'ready', degraded: expect.arrayContaining(['s3', 'sqs']) });
      const state = (await api.app.inject('/api/state')).json();
      expect(state.sources.sqs.ok).toBe(false);
      const purge = await api.app.inject({
        method: 'DELETE',
        url: '/api/purge',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      expect(purge.statusCode).toBe(502);
      expect(ws.socket.readyState).toBe(ws.socket.OPEN);
      ws.close();
    } finally {
      await api.app.close();
    }
  });
});

describe('queues of replicas that died without SIGTERM', () => {
  it('are tagged with a heartbeat, and a live replica deletes the stale ones with their subscriptions', async () => {
    const aws = local.clients('api', resources.deployment);
    const { topicArn } = resources;
    /** A replica queue subscribed to the topic, whose replica last renewed its heartbeat `ageMs` ago. */
    const replicaQueue = async (name: string, ageMs: number) => {
      const beat = new Date(Date.now() - ageMs).toISOString();
      const { QueueUrl } = await aws.sqs.send(
        new CreateQueueCommand({ QueueName: name, tags: { [CREATED_TAG]: beat, [HEARTBEAT_TAG]: beat } }),
      );
      const { Attributes } = await aws.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
      );
      await aws.sns.send(
        new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: Attributes?.QueueArn }),
      );
    };
    await replicaQueue('thumbnail-api-killed-0a1b2c3d', 60 * 60_000);
    await replicaQueue('thumbnail-api-alive-4e5f6a7b', 60_000);

    const api = await startApi(local, resources);
    try {
      await waitFor(() => api.pipeline.events.ready, 10_000, 'the subscription');
      const own = api.pipeline.events.queueName;
      const tags = await aws.sqs.send(
        new ListQueueTagsCommand({ QueueUrl: local.emulator.inspectQueue(own)?.url }),
      );
      expect(Date.parse(tags.Tags?.[HEARTBEAT_TAG] ?? '')).toBeGreaterThan(Date.now() - 60_000);

      await waitFor(
        () => local.emulator.inspectQueue('thumbnail-api-killed-0a1b2c3d') === undefined,
        10_000,
        'the stale queue deleted',
      );
      expect(local.emulator.inspectQueue('thumbnail-api-alive-4e5f6a7b')).toBeDefined();
      const subscriptions = await aws.sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn }));
      expect((subscriptions.Subscriptions ?? []).map((s) => s.Endpoint?.split(':').pop()).sort()).toEqual(
        ['thumbnail-api-alive-4e5f6a7b', own].sort(),
      );
    } finally {
      await api.app.close();
    }
  });
});
