import { PutObjectCommand } from '@aws-sdk/client-s3';
import { failureKey, parseQueueMessage, thumbnailKeys, type PipelineState } from '@thumbs/model';
import { afterAll, beforeAll, expect, it } from 'vitest';
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

/** Objects as the worker and users leave them; no bucket notification exists, so no event was ever sent. */
async function put(resources: Resources, key: string, body = 'x'): Promise<void> {
  const { s3 } = local.clients('deployer', resources.deployment);
  await s3.send(new PutObjectCommand({ Bucket: resources.bucket, Key: key, Body: body }));
}

/** A video whose thumbnails exist, one that failed, one never processed, and a file that is no video. */
async function bucketWithOneLostVideo(resources: Resources): Promise<string> {
  await put(resources, 'uploads/done.mp4');
  for (const key of thumbnailKeys('uploads/done.mp4')) await put(resources, key, 'jpeg');
  await put(resources, 'uploads/failed.mp4');
  await put(resources, failureKey('uploads/failed.mp4'), JSON.stringify({ source: 'uploads/failed.mp4' }));
  await put(resources, 'uploads/notes.txt');
  await put(resources, 'uploads/lost video.mp4');
  return 'uploads/lost video.mp4';
}

const queued = (resources: Resources) =>
  (local.emulator.inspectQueue(resources.queue)?.messages.ready ?? []).map((m) => {
    const parsed = parseQueueMessage(m.body);
    return parsed.kind === 'objects' ? parsed.objects[0]?.key : parsed.kind;
  });

const fast = { BACKFILL_INTERVAL_SECONDS: '1', BACKFILL_GRACE_SECONDS: '0', BACKFILL_PAGE_DELAY_MS: '0' };

it('queues, once, the video no event brought to a worker, with one replica of several sweeping', async () => {
  const resources = await createResources(local, 'backfill-sweep');
  const lost = await bucketWithOneLostVideo(resources);
  const replicas = await Promise.all([1, 2].map(() => startApi(local, resources, fast)));
  try {
    await waitFor(async () => queued(resources).length > 0, 20_000, 'the lost video queued');
    // More intervals pass: the queue is busy, and the lease keeps the other replica from sweeping too.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(queued(resources)).toEqual([lost]);
    for (const api of replicas) {
      const state = await waitFor(async () => {
        const body = (await api.app.inject('/api/state')).json() as PipelineState;
        return body.backfill.sweptAt !== null && body;
      });
      expect(state.backfill).toMatchObject({ unprocessed: 1, queued: 1 });
      expect(state.jobs.find((j) => j.source === lost)?.status).toBe('queued');
    }
  } finally {
    await Promise.all(replicas.map((api) => api.app.close()));
  }
});

it('sweeps on demand (admin), and leaves videos younger than the grace period alone', async () => {
  const resources = await createResources(local, 'backfill-manual');
  await bucketWithOneLostVideo(resources);
  const api = await startApi(local, resources, { BACKFILL_GRACE_SECONDS: '3600' });
  try {
    const denied = await api.app.inject({ method: 'POST', url: '/api/backfill' });
    expect(denied.statusCode).toBe(401);
    const response = await api.app.inject({
      method: 'POST',
      url: '/api/backfill',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(response.json()).toEqual({ unprocessed: 0, queued: 0 });
    expect(queued(resources)).toEqual([]);
  } finally {
    await api.app.close();
  }
});
