import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { DeletedResultSchema, QueuedResultSchema, VideoDetailSchema } from '@thumbs/model';
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import type { Videos } from '../feeds/videos.ts';
import { requireAdminToken } from './admin-auth.ts';
import { errors } from './errors.ts';
import { notAnUpload } from './upload-request.ts';

export interface VideoRouteOptions {
  videos: Videos;
  uploadPrefix: string;
  adminToken: string;
  readRateLimit: number;
  adminRateLimit: number;
}

// A query parameter, not a path segment: video keys have slashes of their own.
const VideoQuerySchema = Type.Object(
  {
    source: Type.String({ minLength: 1, maxLength: 1024, description: "the video's S3 key, under uploads/" }),
  },
  { additionalProperties: false },
);

/**
 * One video: its detail (job state, timeline, probe findings, thumbnails; a few S3 reads for what this
 * replica does not remember), and the admin actions on it.
 */
export const videoRoutes: FastifyPluginAsyncTypebox<VideoRouteOptions> = async (app, options) => {
  const { videos, uploadPrefix } = options;
  const tags = ['videos'];
  const read = { rateLimit: { max: options.readRateLimit, timeWindow: '1 minute' } };
  const admin = {
    config: { rateLimit: { max: options.adminRateLimit, timeWindow: '1 minute' } },
    preParsing: requireAdminToken(options.adminToken),
  };
  const security = [{ bearer: [] }];
  const adminErrors = errors(400, 401, 404, 429, 502);

  const notFound = (reply: FastifyReply, source: string, what: string) =>
    reply
      .code(404)
      .send({ statusCode: 404, error: 'Not Found', message: `${what} ${JSON.stringify(source)}` });
  /** Only videos, under the upload prefix: the admin actions never touch another object. */
  const badSource = (reply: FastifyReply, source: string) => {
    const message = notAnUpload(source, uploadPrefix);
    return message && reply.code(400).send({ statusCode: 400, error: 'Bad Request', message });
  };

  app.get(
    '/api/video',
    {
      config: read,
      schema: {
        tags,
        querystring: VideoQuerySchema,
        response: { 200: VideoDetailSchema, ...errors(400, 404, 429, 502) },
      },
    },
    async (request, reply) => {
      const { source } = request.query;
      const detail = await videos.detail(source);
      return detail ?? notFound(reply, source, 'nothing is known of');
    },
  );

  app.post(
    '/api/video/reprocess',
    {
      ...admin,
      schema: {
        tags,
        security,
        querystring: VideoQuerySchema,
        response: { 200: QueuedResultSchema, ...adminErrors },
      },
    },
    async (request, reply) => {
      const { source } = request.query;
      if (badSource(reply, source)) return reply;
      return (await videos.reprocess(source)) ? { queued: 1 } : notFound(reply, source, 'no such video');
    },
  );

  app.delete(
    '/api/video',
    {
      ...admin,
      schema: {
        tags,
        security,
        querystring: VideoQuerySchema,
        response: { 200: DeletedResultSchema, ...adminErrors },
      },
    },
    async (request, reply) => {
      const { source } = request.query;
      if (badSource(reply, source)) return reply;
      return { deleted: await videos.remove(source) };
    },
  );
};
