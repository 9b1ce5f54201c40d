import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Sources } from '@thumbs/model';

const ReadySchema = Type.Object({
  status: Type.Literal('ready'),
  /** Sources this replica cannot reach right now; the dashboard shows them degraded, the replica still serves. */
  degraded: Type.Array(Type.String()),
});

/**
 * Liveness (the process answers) and readiness (this replica can serve). Readiness does not follow AWS's
 * health: every replica shares the same dependencies, so a blip of SQS or S3 would take all of them out of
 * the load balancer at once, while each one serves its in-memory state and marks the failing source. While
 * the server closes, Fastify itself answers 503, which takes the replica out before it stops.
 */
export const healthRoutes: FastifyPluginAsyncTypebox<{ sources: () => Sources }> = async (
  app,
  { sources },
) => {
  app.get(
    '/health',
    { schema: { tags: ['health'], response: { 200: Type.Object({ status: Type.Literal('ok') }) } } },
    async () => ({ status: 'ok' as const }),
  );

  app.get('/ready', { schema: { tags: ['health'], response: { 200: ReadySchema } } }, async () => ({
    status: 'ready' as const,
    degraded: Object.entries(sources())
      .filter(([, source]) => !source.ok)
      .map(([name]) => name),
  }));
};
