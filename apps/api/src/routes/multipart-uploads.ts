import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  CompletedUploadSchema,
  CompleteUploadRequestSchema,
  MultipartUploadRefSchema,
  MultipartUploadSchema,
  SignedPartsSchema,
  SignPartsRequestSchema,
  UploadedPartsSchema,
  UploadRequestSchema,
  type PipelineEvent,
} from '@thumbs/model';
import type { FastifyReply } from 'fastify';
import { MAX_OBJECT_SIZE, UploadRefused, type MultipartUploads } from '../feeds/multipart-uploads.ts';
import { requireAdminToken } from './admin-auth.ts';
import { checkUploadRequest, notAnUpload } from './upload-request.ts';
import { errors } from './errors.ts';

export interface MultipartUploadOptions {
  uploads: MultipartUploads;
  announce: (event: PipelineEvent) => Promise<void>;
  uploadPrefix: string;
  /** The largest upload the dashboard may start (S3's object limit at most). */
  maxBytes: number;
  adminToken: string;
  /** Per minute: higher than other admin routes, as one upload makes a call per batch of parts. */
  rateLimit: number;
}

/**
 * The dashboard's resumable uploads (admin): create (the server picks the key under uploads/ and the part
 * size), sign parts, list the parts S3 holds (resume), complete, abort. The browser sends the bytes to S3.
 */
export const multipartUploadRoutes: FastifyPluginAsyncTypebox<MultipartUploadOptions> = async (
  app,
  { uploads, announce, uploadPrefix, maxBytes, adminToken, rateLimit },
) => {
  app.addHook('preParsing', requireAdminToken(adminToken));
  const routeConfig = { rateLimit: { max: rateLimit, timeWindow: '1 minute' } };
  const tags = ['admin'];
  const security = [{ bearer: [] }];
  const failures = errors(400, 401, 404, 429, 502);

  const bad = (reply: FastifyReply, message: string) =>
    reply.code(400).send({ statusCode: 400, error: 'Bad Request', message });
  /** Only keys this API hands out: videos under the upload prefix. */
  const badKey = (key: string) => notAnUpload(key, uploadPrefix);
  const refused = (reply: FastifyReply, error: unknown) => {
    if (!(error instanceof UploadRefused)) throw error;
    const name = error.status === 404 ? 'Not Found' : 'Bad Request';
    return reply.code(error.status).send({ statusCode: error.status, error: name, message: error.message });
  };

  app.post(
    '/api/uploads/multipart',
    {
      config: routeConfig,
      schema: {
        tags,
        security,
        body: UploadRequestSchema,
        response: { 200: MultipartUploadSchema, ...errors(400, 401, 413, 429, 502) },
      },
    },
    async (request, reply) => {
      const limit = Math.min(maxBytes, MAX_OBJECT_SIZE);
      const problem = checkUploadRequest(request.body, limit);
      if (problem) return reply.code(problem.statusCode).send(problem);
      return uploads.create(request.body);
    },
  );

  app.post(
    '/api/uploads/multipart/sign',
    {
      config: routeConfig,
      schema: {
        tags,
        security,
        body: SignPartsRequestSchema,
        response: { 200: SignedPartsSchema, ...failures },
      },
    },
    async (request, reply) => {
      const problem = badKey(request.body.key);
      if (problem) return bad(reply, problem);
      return uploads.signParts(request.body, request.body.partNumbers);
    },
  );

  app.get(
    '/api/uploads/multipart/parts',
    {
      config: routeConfig,
      schema: {
        tags,
        security,
        querystring: MultipartUploadRefSchema,
        response: { 200: UploadedPartsSchema, ...failures },
      },
    },
    async (request, reply) => {
      const problem = badKey(request.query.key);
      if (problem) return bad(reply, problem);
      return uploads.listParts(request.query).catch((error: unknown) => refused(reply, error));
    },
  );

  app.post(
    '/api/uploads/multipart/complete',
    {
      config: routeConfig,
      schema: {
        tags,
        security,
        body: CompleteUploadRequestSchema,
        response: { 200: CompletedUploadSchema, ...failures },
      },
    },
    async (request, reply) => {
      const problem = badKey(request.body.key);
      if (problem) return bad(reply, problem);
      try {
        const completed = await uploads.complete(request.body);
        await announce({
          type: 'job.queued',
          source: completed.key,
          time: new Date().toISOString(),
        });
        return completed;
      } catch (error) {
        return refused(reply, error);
      }
    },
  );

  app.post(
    '/api/uploads/multipart/abort',
    {
      config: routeConfig,
      schema: {
        tags,
        security,
        body: MultipartUploadRefSchema,
        response: { 204: { type: 'null' }, ...failures },
      },
    },
    async (request, reply) => {
      const problem = badKey(request.body.key);
      if (problem) return bad(reply, problem);
      try {
        await uploads.abort(request.body);
        return reply.code(204).send(null);
      } catch (error) {
        return refused(reply, error);
      }
    },
  );
};
