import { PutObjectCommand } from '@aws-sdk/client-s3';
import { PublishCommand } from '@aws-sdk/client-sns';
import {
  thumbnailKeys,
  type Metrics,
  type PipelineEvent,
  type PipelineState,
  type ThumbnailPage,
} from '@thumbs/model';
import type { AwsClients } from '@thumbs/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createResources,
  putTinyObjects,
  startApi,
  startEmulator,
  waitFor,
  type LocalAws,
} from '../testing/harness.ts';
import { compareKeys } from './bucket.ts';

let local: LocalAws;

beforeAll(async () => {
  local = await startEmulator();
});

afterAll(async () => {
  await local?.stop();
});

/** Records each command the clients send, when it goes out and when its answer is back, in order. */
function recordCommands(aws: AwsClients): string[] {
  const log: string[] = [];
  for (const client of [aws.s3, aws.sns, aws.sqs])
    (client as AwsClients['s3']).middlewareStack.add(
      (next, context) => async (args) => {
        const prefix = (args.input as { Prefix?: string }).Prefix;
        const name = `${context.commandName}${prefix ? ` ${prefix}` : ''}`;
        log.push(`${name} sent`);
        const result = await next(args);
        log.push(`${name} answered`);
        return result;
      },
      { step: 'initialize' },
    );
  return log;
}

/** Holds every listing of the thumbnail prefix for `ms` before it is sent: a bucket that takes long to walk. */
function slowListings(aws: AwsClients, ms: number): void {
  aws.s3.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'ListObjectsV2Command') await new Promise((r) => setTimeout(r, ms));
      return next(args);
    },
    { step: 'initialize' },
  );
}

function doneEvent(source: string, size: number): PipelineEvent {
  return {
    type: 'job.done',
    source,
    attempt: 1,
    worker: 'test-worker',
    thumbnails: thumbnailKeys(source).map((key, i) => ({
      key,
      frame: (['10%', '50%', '95%'] as const)[i]!,
      size,
    })),
    uploadedAt: null,
    processingMs: 1,
    time: new Date().toISOString(),
  };
}

describe('start-up', () => {
  it('subscribes to the events before it lists the bucket, and serves while it counts', async () => {
    const resources = await createResources(local, 'startup-order');
    const deployer = local.clients('deployer', resources.deployment);
    for (let v = 0; v < 4; v++)
      for (const key of thumbnailKeys(`uploads/old-${v}.mp4`))
        await deployer.s3.send(new PutObjectCommand({ Bucket: resources.bucket, Key: key, Body: 'jpeg' }));
    const aws = local.clients('api', resources.deployment);
    const commands = recordCommands(aws);
    slowListings(aws, 1500);
    const api = await startApi(local, resources, {}, { aws });
    try {
      // Counting: the API answers at once, with partial totals said to be partial.
      const counting = (await api.app.inject('/api/metrics')).json() as Metrics;
      expect(counting.counting).toBe(true);
      await waitFor(() => commands.includes('SubscribeCommand answered'), 10_000, 'the subscription');

      // A worker finishes a video while the walk lists: it writes the thumbnails, then publishes job.done.
      const source = 'uploads/during-walk.mp4';
      for (const key of thumbnailKeys(source))
        await deployer.s3.send(new PutObjectCommand({ Bucket: resources.bucket, Key: key, Body: 'jpeg!' }));
      await deployer.sns.send(
        new PublishCommand({ TopicArn: resources.topicArn, Message: JSON.stringify(doneEvent(source, 5)) }),
      );
      await waitFor(() => api.pipeline.thumbnails.ready, 20_000, 'the count');

      const listing = commands.findIndex((c) => c === 'ListObjectsV2Command thumbnails/ sent');
      expect(listing).toBeGreaterThan(commands.indexOf('SubscribeCommand answered'));
      const metrics = (await api.app.inject('/api/metrics')).json() as Metrics;
      // Counted once: by the listing or by the event, not both.
      expect(metrics).toMatchObject({
        thumbnails: 15,
        videosDone: 5,
        storageBytes: 12 * 4 + 3 * 5,
        counting: false,
      });
      const state = (await api.app.inject('/api/state')).json() as PipelineState;
      expect(state.thumbnails.filter((t) => t.source === source)).toHaveLength(3);
    } finally {
      await api.app.close();
    }
  });
});

describe('GET /api/thumbnails from the S3 listing', () => {
  it('pages through every thumbnail once, in key order, with filters and a bounded cost per page', async () => {
    const resources = await createResources(local, 'paging');
    const videos = Array.from({ length: 40 }, (_, v) => `uploads/clip ${v}.mp4`);
    const stored = videos.flatMap((source) => thumbnailKeys(source));
    // A video in a folder named like another video, and objects under the prefix that are no thumbnails.
    const nested = thumbnailKeys('uploads/clip 1.mp4/inner.mp4');
    const junk = Array.from({ length: 2500 }, (_, i) => `thumbnails/uploads/clip 2.mp4/junk-${i}.txt`);
    await putTinyObjects(local, resources.bucket, [...stored, ...nested, ...junk]);
    const api = await startApi(local, resources);
    const page = async (query: string) => {
      const response = await api.app.inject(`/api/thumbnails?${query}`);
      expect(response.statusCode, query).toBe(200);
      return response.json() as ThumbnailPage;
    };
    try {
      await waitFor(() => api.pipeline.thumbnails.ready, 10_000, 'the count');
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const body = await page(`limit=7${cursor ? `&cursor=${cursor}` : ''}`);
        seen.push(...body.items.map((t) => t.key));
        cursor = body.nextCursor;
        // Thumbnails written while paging, behind the cursor, do not shift the pages ahead.
        if (pages++ === 2)
          await putTinyObjects(local, resources.bucket, thumbnailKeys('uploads/clip 0.mp4 new.mp4'));
      } while (cursor);
      const expected = [...stored, ...nested].sort(compareKeys);
      expect(seen).toEqual(expected);

      const inner = await page(`source=${encodeURIComponent('uploads/clip 1.mp4')}`);
      expect(inner.items.map((t) => t.key)).toEqual(thumbnailKeys('uploads/clip 1.mp4'));
      expect(inner.nextCursor).toBeNull();

      // One frame of 40 videos among 2,500 junk keys: each page costs at most three listing requests.
      const middle: string[] = [];
      cursor = null;
      do {
        const before = api.pipeline.bucket.listRequests;
        const body = await page(`frame=50&limit=500${cursor ? `&cursor=${cursor}` : ''}`);
        expect(api.pipeline.bucket.listRequests - before).toBeLessThanOrEqual(3);
        middle.push(...body.items.map((t) => t.key));
        cursor = body.nextCursor;
      } while (cursor);
      const now = [...expected, ...thumbnailKeys('uploads/clip 0.mp4 new.mp4')].sort(compareKeys);
      expect(middle).toEqual(now.filter((k) => k.endsWith('/50.jpg')));

      const other = await page('limit=1');
      for (const query of [
        'cursor=not-a-cursor',
        `source=${encodeURIComponent('uploads/clip 3.mp4')}&cursor=${other.nextCursor}`,
      ]) {
        const response = await api.app.inject(`/api/thumbnails?${query}`);
        expect(response.statusCode, query).toBe(400);
      }
      expect(await page(`source=${encodeURIComponent('x'.repeat(1024))}`)).toEqual({
        items: [],
        nextCursor: null,
      });
    } finally {
      await api.app.close();
    }
  });
});
