import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Registry } from 'prom-client';
import { Type } from 'typebox';

/** GET /metrics in the Prometheus text format. */
export const prometheusRoutes: FastifyPluginAsyncTypebox<{ registry: Registry }> = async (
  app,
  { registry },
) => {
  app.get(
    '/metrics',
    { schema: { tags: ['health'], produces: ['text/plain'], response: { 200: Type.String() } } },
    async (_request, reply) => {
      reply.header('Content-Type', registry.contentType);
      return registry.metrics();
    },
  );
};
