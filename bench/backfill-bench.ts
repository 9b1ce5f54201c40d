/**
 * The cost of one backfill sweep (apps/api/src/feeds/backfill.ts): S3 and SQS requests and wall time for a
 * bucket of N videos, all with their thumbnails but ten that no event ever reached (those ten get queued).
 * The seed has no backfill: a lost event there is a video lost for good, so there is no seed figure.
 */
import { thumbnailKeys, type PipelineState } from '@thumbs/model';
import {
  createResources,
  putTinyObjects,
  startApi,
  startEmulator,
  waitFor,
} from '../apps/api/src/testing/harness.ts';
import type { BenchContext } from './context.ts';
import type { Figure } from './figures.ts';

const LOST = 10;

function* uploads(videos: number): Generator<string> {
  for (let i = 0; i < videos; i++) yield `uploads/video-${i}.mp4`;
}

function* thumbnails(videos: number): Generator<string> {
  for (let i = LOST; i < videos; i++) yield* thumbnailKeys(`uploads/video-${i}.mp4`);
}

export async function benchBackfill(ctx: BenchContext): Promise<Figure[]> {
  const sizes = ctx.quick ? [1_000] : [10_000, 100_000];
  const local = await startEmulator({ enforce: true });
  const figures: Figure[] = [];
  try {
    for (const videos of sizes) {
      const resources = await createResources(local, `backfill-${videos}`);
      ctx.say(`backfill: ${videos.toLocaleString('en-US')} videos in the bucket (${LOST} never notified)`);
      // Uploads first, thumbnails after: each thumbnail is newer than its video, as the worker leaves them.
      await putTinyObjects(local, resources.bucket, uploads(videos));
      // S3 times are to the second: the thumbnails come in the next one, as after a worker's run.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      await putTinyObjects(local, resources.bucket, thumbnails(videos));
      const api = await startApi(local, resources, {
        BACKFILL_INTERVAL_SECONDS: '86400',
        BACKFILL_GRACE_SECONDS: '0',
        BACKFILL_PAGE_DELAY_MS: '0',
      });
      try {
        await waitFor(
          async () =>
            ((await api.app.inject('/api/state')).json() as PipelineState).metrics.thumbnails ===
            (videos - LOST) * 3,
          600_000,
          'the thumbnails counted',
        );
        const started = performance.now();
        // The sweep counts its own requests (the API's pollers run beside it).
        const result = await api.pipeline.backfill.sweepNow();
        const ms = performance.now() - started;
        if (result.queued !== LOST) throw new Error(`backfill queued ${result.queued}, expected ${LOST}`);
        const perSweep = result.requests;
        ctx.details[`backfill-${videos}`] = { videos, ms, ...result };
        const size = videos.toLocaleString('en-US');
        figures.push(
          {
            section: 'backfill',
            name: `backfill: S3 + SQS requests per sweep, ${size} videos`,
            unit: 'requests',
            ours: perSweep,
            seed: null,
            ratio: null,
            // Per 1,000 videos: their page, the ≤ 4 pages of the thumbnail listing holding their frames, and
            // the lease renewal (GET + PUT) before the next page.
            goal: '≤ 7 per 1,000 videos + 1 per 10 lost + 5',
            met: perSweep <= 7 * Math.ceil(videos / 1000) + Math.ceil(LOST / 10) + 5,
            note: 'the seed has no backfill',
          },
          {
            section: 'backfill',
            name: `backfill: sweep wall time, ${size} videos (no pause between pages)`,
            unit: 'ms',
            ours: ms,
            seed: null,
            ratio: null,
            goal: 'reported',
            met: null,
          },
        );
      } finally {
        await api.app.close();
      }
    }
  } finally {
    await local.stop();
  }
  return figures;
}
