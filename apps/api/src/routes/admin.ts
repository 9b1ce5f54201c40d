import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  BackfillResultSchema,
  DeletedResultSchema,
  MovedResultSchema,
  PresignedUploadSchema,
  QueuedResultSchema,
  UploadRequestSchema,
} from '@thumbs/model';
import type { Pipeline } from '../pipeline.ts';
import { requireAdminToken } from './admin-auth.ts';
import { errors } from './errors.ts';
import { checkUploadRequest } from './upload-request.ts';

export interface AdminOptions {
  pipeline: Pipeline;
  adminToken: string;
  rateLimit: number;
}

/** Routes that change things: bearer token first (401 and nothing happens without it), rate limited. */
export const adminRoutes: FastifyPluginAsyncTypebox<AdminOptions> = async (
  app,
  { pipeline, adminToken, rateLimit },
) => {
  app.addHook('preParsing', requireAdminToken(adminToken));
  const config = { rateLimit: { max: rateLimit, timeWindow: '1 minute' } };
  const tags = ['admin'];
  const security = [{ bearer: [] }];
  const failures = errors(400, 401, 429, 502);

  app.post(
    '/api/dlq/redrive',
    { config, schema: { tags, security, response: { 200: MovedResultSchema, ...failures } } },
    async () => ({ moved: await pipeline.redrive() }),
  );

  app.post(
    '/api/backfill',
    { config, schema: { tags, security, response: { 200: BackfillResultSchema, ...failures } } },
    async () => {
      const { unprocessed, queued } = await pipeline.backfill.sweepNow();
      return { unprocessed, queued };
    },
  );

  app.post(
    '/api/uploads',
    {
      config,
      schema: {
        tags,
        security,
        body: UploadRequestSchema,
        response: { 200: PresignedUploadSchema, ...errors(400, 401, 413, 429, 502) },
      },
    },
    async (request, reply) => {
      const problem = checkUploadRequest(request.body, pipeline.config.uploadMaxBytes);
      if (problem) return reply.code(problem.statusCode).send(problem);
      const upload = await pipeline.bucket.presignUpload(request.body, pipeline.config.uploadUrlTtlSeconds);
      await pipeline.announce({ type: 'job.queued', source: upload.key, time: new Date().toISOString() });
      return upload;
    },
  );

  app.post(
    '/api/test',
    { config, schema: { tags, security, response: { 200: QueuedResultSchema, ...failures } } },
    async () => ({ queued: await pipeline.queueTestVideos() }),
  );

  app.delete(
    '/api/purge',
    { config, schema: { tags, security, response: { 200: DeletedResultSchema, ...failures } } },
    async () => ({ deleted: await pipeline.purge() }),
  );
};
