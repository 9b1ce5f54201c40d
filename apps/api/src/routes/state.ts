import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  DlqEntrySchema,
  FrameLabelSchema,
  JobSchema,
  MetricsSchema,
  PipelineStateSchema,
  PodSchema,
  QueueStateSchema,
  ThumbnailPageSchema,
  frameByLabel,
  frameBySlug,
} from '@thumbs/model';
import { Type } from 'typebox';
import type { Pipeline } from '../pipeline.ts';
import { InvalidCursorError } from '../state/thumbnail-index.ts';
import { errors } from './errors.ts';

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

/** Read-only views of the state: all of it, or one part. None of them makes a request to AWS. */
export const stateRoutes: FastifyPluginAsyncTypebox<{ pipeline: Pipeline }> = async (app, { pipeline }) => {
  const { store } = pipeline;
  const tags = ['state'];

  app.get('/api/state', { schema: { tags, response: { 200: PipelineStateSchema } } }, () => store.snapshot());
  app.get('/api/metrics', { schema: { tags, response: { 200: MetricsSchema } } }, async () =>
    store.metrics(),
  );
  app.get('/api/queue', { schema: { tags, response: { 200: QueueStateSchema } } }, async () => store.queue);
  app.get(
    '/api/pods',
    { schema: { tags, response: { 200: Type.Array(PodSchema) } } },
    async () => store.pods,
  );
  app.get('/api/jobs', { schema: { tags, response: { 200: Type.Array(JobSchema) } } }, async () =>
    store.jobs.list(),
  );
  app.get(
    '/api/dlq',
    { schema: { tags, response: { 200: Type.Array(DlqEntrySchema) } } },
    async () => store.dlq,
  );

  app.get(
    '/api/thumbnails',
    {
      schema: {
        tags,
        querystring: ThumbnailQuerySchema,
        response: { 200: ThumbnailPageSchema, ...errors(400) },
      },
    },
    async (request, reply) => {
      const { source, frame, limit, cursor } = request.query;
      const label = frame === undefined ? undefined : (frameByLabel(frame) ?? frameBySlug(frame))?.label;
      try {
        const page = store.index.page({ source, frame: label, limit, cursor });
        return { items: await store.toThumbnails(page.entries), nextCursor: page.nextCursor };
      } catch (error) {
        if (!(error instanceof InvalidCursorError)) throw error;
        return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: error.message });
      }
    },
  );
};
