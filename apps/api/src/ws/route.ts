import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { originAllowed } from '../origin.ts';
import type { WsHub } from './hub.ts';

export interface WsRouteOptions {
  hub: WsHub;
  dashboardOrigin: string | undefined;
  maxClientsPerIp: number;
  /** Upgrades per address per minute: a reconnect loop with backoff stays far below, a flood is refused. */
  connectsPerMinute: number;
}

/**
 * WS /ws: browsers must come from the dashboard's origin or the API's own (clients that send no Origin, like
 * tools and other services, are allowed); a few connections per IP at most, and a few new ones per minute (each
 * costs a snapshot). Checked before the upgrade, as plain HTTP errors; the hub enforces the cap again once the
 * socket is open (concurrent upgrades).
 */
export const wsRoutes: FastifyPluginAsyncTypebox<WsRouteOptions> = async (
  app,
  { hub, dashboardOrigin, maxClientsPerIp, connectsPerMinute },
) => {
  app.get(
    '/ws',
    {
      websocket: true,
      // Per client address as Fastify derives it (trusted proxies only), like every other limit.
      config: { rateLimit: { max: connectsPerMinute, timeWindow: '1 minute' } },
      schema: {
        tags: ['state'],
        summary: 'WebSocket: a snapshot first, then updates (see ServerMessage)',
        hide: true,
      },
      preValidation: async (request, reply) => {
        const origin = request.headers.origin;
        if (!originAllowed(origin, dashboardOrigin, request.host)) {
          return reply
            .code(403)
            .send({ statusCode: 403, error: 'Forbidden', message: `origin ${origin} is not allowed` });
        }
        if (hub.countFrom(request.ip) >= maxClientsPerIp) {
          return reply.code(429).send({
            statusCode: 429,
            error: 'Too Many Requests',
            message: 'too many WebSocket connections from this address',
          });
        }
      },
    },
    (socket, request) => hub.add(socket, request.ip, maxClientsPerIp),
  );
};
