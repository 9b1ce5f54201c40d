import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  BackfillResultSchema,
  DeletedResultSchema,
  MovedResultSchema,
  PresignedUploadSchema,
  QueuedResultSchema,
  UploadRequestSchema,
} from '@thumbs/model';
import type { Bucket } from '../feeds/bucket.ts';
import type { Pipeline } from '../pipeline.ts';
import { requireAdminToken } from './admin-auth.ts';
import { errors } from './errors.ts';
import { checkUploadRequest } from './upload-request.ts';

/** What the admin routes do, and nothing else of the pipeline. */
export type AdminActions = Pick<Pipeline, 'redrive' | 'announce' | 'queueTestVideos' | 'purge'> & {
  sweep: () => Promise<{ unprocessed: number; queued: number }>;
  presignUpload: Bucket['presignUpload'];
};

export interface AdminOptions {
  actions: AdminActions;
  uploads: { maxBytes: number; urlTtlSeconds: number };
  adminToken: string;
  rateLimit: number;
}

/** Routes that change things: bearer token first (401 and nothing happens without it), rate limited. */
export const adminRoutes: FastifyPluginAsyncTypebox<AdminOptions> = async (
  app,
  { actions, uploads, adminToken, rateLimit },
) => {
  app.addHook('preParsing', requireAdminToken(adminToken));
  const config = { rateLimit: { max: rateLimit, timeWindow: '1 minute' } };
  const tags = ['admin'];
  const security = [{ bearer: [] }];
  const failures = errors(400, 401, 429, 502);

  app.post(
    '/api/dlq/redrive',
    { config, schema: { tags, security, response: { 200: MovedResultSchema, ...failures } } },
    async () => ({ moved: await actions.redrive() }),
  );

  app.post(
    '/api/backfill',
    { config, schema: { tags, security, response: { 200: BackfillResultSchema, ...failures } } },
    async () => {
      const { unprocessed, queued } = await actions.sweep();
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
      const problem = checkUploadRequest(request.body, uploads.maxBytes);
      if (problem) return reply.code(problem.statusCode).send(problem);
      const upload = await actions.presignUpload(request.body, uploads.urlTtlSeconds);
      await actions.announce({ type: 'job.queued', source: upload.key, time: new Date().toISOString() });
      return upload;
    },
  );

  app.post(
    '/api/test',
    { config, schema: { tags, security, response: { 200: QueuedResultSchema, ...failures } } },
    async () => ({ queued: await actions.queueTestVideos() }),
  );

  app.delete(
    '/api/purge',
    { config, schema: { tags, security, response: { 200: DeletedResultSchema, ...failures } } },
    async () => ({ deleted: await actions.purge() }),
  );
};
