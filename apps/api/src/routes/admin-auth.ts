import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type {} from './alb-identity.ts';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * A preParsing hook (after rate limiting, before the body is read or validated) that lets a request through
 * only with `Authorization: Bearer <token>`. Compares hashes in constant time (equal length, no early exit);
 * the token itself is never logged.
 */
export function requireAdminToken(token: string) {
  const expected = digest(token);
  return async <P>(request: FastifyRequest, reply: FastifyReply, payload: P) => {
    // Signed in at the ALB as a member of the admin group (routes/alb-identity.ts).
    if (request.albIdentity?.admin) return payload;
    const match = /^Bearer (.+)$/.exec(request.headers.authorization ?? '');
    if (match?.[1] && timingSafeEqual(digest(match[1]), expected)) return payload;
    reply.header('WWW-Authenticate', 'Bearer realm="thumbnail-pipeline admin"');
    return reply.code(401).send({
      statusCode: 401,
      error: 'Unauthorized',
      message: match
        ? 'the admin token is not valid'
        : 'admin routes need an Authorization: Bearer <ADMIN_TOKEN> header',
    });
  };
}
