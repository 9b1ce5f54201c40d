import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  DlqEntrySchema,
  FrameLabelSchema,
  HistorySchema,
  JobSchema,
  metricsReport,
  MetricsReportSchema,
  PipelineStateSchema,
  PodSchema,
  QueueStateSchema,
  ThumbnailPageSchema,
  frameByLabel,
  frameBySlug,
} from '@thumbs/model';
import { Type } from 'typebox';
import type { Bucket } from '../feeds/bucket.ts';
import type { StateStore } from '../state/store.ts';
import { cursorAfter, InvalidCursorError, listThumbnailPage } from '../feeds/thumbnail-pages.ts';
import { errors } from './errors.ts';
import { SigningBudget } from './signing-budget.ts';

/** New URL signatures per client address per minute: two full pages at once, then about 33 a second. */
const SIGNATURES_PER_MINUTE = 2000;

const ThumbnailQuerySchema = Type.Object(
  {
    source: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: "the video's S3 key" })),
    frame: Type.Optional(
      Type.Union([FrameLabelSchema, Type.Literal('10'), Type.Literal('50'), Type.Literal('95')], {
        description: '10%, 50% or 95% (or 10, 50, 95)',
      }),
    ),
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
  },
  { additionalProperties: false },
);

/**
 * Read-only views of the state: all of it, or one part. Only the thumbnail pages make a request to AWS (a
 * bounded listing: the long tail is not held in memory). Each is limited
 * to `rateLimit` requests per client address per minute (many dashboards behind one address stay well under).
 */
export interface StateRouteOptions {
  store: StateStore;
  /** Where older thumbnails are paged from. */
  bucket: Bucket;
  thumbnailPrefix: string;
  rateLimit: number;
}

export const stateRoutes: FastifyPluginAsyncTypebox<StateRouteOptions> = async (
  app,
  { store, bucket, thumbnailPrefix, rateLimit },
) => {
  const tags = ['state'];
  const config = { rateLimit: { max: rateLimit, timeWindow: '1 minute' } };
  const limited = errors(429);
  const signing = new SigningBudget(SIGNATURES_PER_MINUTE);

  app.get(
    '/api/state',
    {
      config,
      schema: { tags, response: { 200: PipelineStateSchema, ...limited } },
      // The state is ours and already in shape; the schema serializer picks each nullable field's branch by
      // validating it, which made a snapshot several times slower than JSON.stringify (the WebSocket's way).
      serializerCompiler: () => (data) => JSON.stringify(data),
    },
    () => store.snapshot(),
  );
  app.get(
    '/api/metrics',
    { config, schema: { tags, response: { 200: MetricsReportSchema, ...limited } } },
    async () => metricsReport({ metrics: store.metrics(), queue: store.queue, pods: store.pods }),
  );
  app.get(
    '/api/queue',
    { config, schema: { tags, response: { 200: QueueStateSchema, ...limited } } },
    async () => store.queue,
  );
  app.get(
    '/api/pods',
    { config, schema: { tags, response: { 200: Type.Array(PodSchema), ...limited } } },
    async () => store.pods,
  );
  app.get(
    '/api/jobs',
    { config, schema: { tags, response: { 200: Type.Array(JobSchema), ...limited } } },
    async () => store.jobs.list(),
  );
  app.get(
    '/api/history',
    { config, schema: { tags, response: { 200: HistorySchema, ...limited } } },
    async () => store.metricHistory.history(),
  );
  app.get(
    '/api/dlq',
    { config, schema: { tags, response: { 200: Type.Array(DlqEntrySchema), ...limited } } },
    async () => store.dlq,
  );

  app.get(
    '/api/thumbnails',
    {
      config,
      schema: {
        tags,
        querystring: ThumbnailQuerySchema,
        response: { 200: ThumbnailPageSchema, ...errors(400, 429) },
      },
    },
    async (request, reply) => {
      const { source, frame, limit, cursor } = request.query;
      const label = frame === undefined ? undefined : (frameByLabel(frame) ?? frameBySlug(frame))?.label;
      try {
        const page = await listThumbnailPage(
          bucket,
          thumbnailPrefix,
          { source, frame: label, cursor, limit },
          store.index,
        );
        // URLs not cached yet are signed within the client's budget: the page ends before the first one
        // it cannot afford (cached ones are free), and nextCursor goes on from there.
        const unsigned = page.entries.map((entry) => store.presign.needsRenewal(entry.key));
        let affordable = signing.take(request.ip, unsigned.filter(Boolean).length);
        let kept = 0;
        for (const needed of unsigned) {
          if (needed && affordable-- === 0) break;
          kept++;
        }
        if (kept === 0 && unsigned.length > 0) {
          const seconds = signing.retryAfterSeconds(request.ip);
          return reply
            .code(429)
            .header('retry-after', seconds)
            .send({
              statusCode: 429,
              error: 'Too Many Requests',
              message: `thumbnail URL signing budget used up, retry in ${seconds} s`,
            });
        }
        const entries = page.entries.slice(0, kept);
        const last = entries.at(-1);
        const nextCursor = kept < page.entries.length && last ? cursorAfter(last.key) : page.nextCursor;
        return { items: await store.toThumbnails(entries), nextCursor };
      } catch (error) {
        if (!(error instanceof InvalidCursorError)) throw error;
        return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: error.message });
      }
    },
  );
};
