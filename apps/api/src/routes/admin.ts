import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  BackfillResultSchema,
  DeletedResultSchema,
  MovedResultSchema,
  PresignedUploadSchema,
  QueuedResultSchema,
  UploadRequestSchema,
  isVideoKey,
  videoContentType,
} from '@thumbs/model';
import type { Pipeline } from '../pipeline.ts';
import { requireAdminToken } from './admin-auth.ts';
import { errors } from './errors.ts';

/** Content types browsers report for videos besides the canonical one for each extension. */
const GENERIC_TYPES = new Set(['application/octet-stream', 'video/mpeg', 'video/x-m4v', 'video/mp4']);

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
      const { filename, contentType, size } = request.body;
      const expected = videoContentType(filename);
      const bad = (message: string) =>
        reply.code(400).send({ statusCode: 400, error: 'Bad Request', message });
      if (!isVideoKey(filename) || !expected)
        return bad(`${JSON.stringify(filename)} is not a supported video file name`);
      if (contentType !== expected && !GENERIC_TYPES.has(contentType)) {
        return bad(`content type ${contentType} does not match ${filename} (expected ${expected})`);
      }
      if (size > pipeline.config.uploadMaxBytes) {
        return reply.code(413).send({
          statusCode: 413,
          error: 'Payload Too Large',
          message: `uploads are limited to ${pipeline.config.uploadMaxBytes} bytes`,
        });
      }
      const upload = await pipeline.bucket.presignUpload(
        { filename, contentType, size },
        pipeline.config.uploadUrlTtlSeconds,
      );
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
