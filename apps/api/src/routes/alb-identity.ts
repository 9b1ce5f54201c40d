import { createHash, createPublicKey, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** Who the ALB says is signed in (authenticate-cognito or authenticate-oidc). */
export interface AlbIdentity {
  subject: string;
  email: string | undefined;
  admin: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    albIdentity?: AlbIdentity;
  }
}

export interface AlbIdentityOptions {
  region: string;
  /** The ALB's ARN, or its prefix up to the name and `/` (the controller's ALB gets a generated id). */
  signer: string;
  /** Claim that lists the user's groups, and the group whose members may use the admin routes. */
  groupsClaim: string;
  adminGroup: string;
  /** The PEM public key of a key id; by default from the ALB's regional key endpoint. */
  fetchKey?: (kid: string) => Promise<string>;
  now?: () => number;
}

export class AlbIdentityError extends Error {}

const HEADER = 'x-amzn-oidc-data';

function decodeJson(part: string): Record<string, unknown> {
  const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  if (!value || typeof value !== 'object') throw new AlbIdentityError('malformed token');
  return value as Record<string, unknown>;
}

/**
 * Verifies the ALB's signed identity header as AWS documents it: an ES256 JWT whose header names the key
 * (kid, fetched from https://public-keys.auth.elb.<region>.amazonaws.com/<kid>) and the ALB that signed it
 * (signer). Keys are cached; a token from another load balancer, expired or altered, is refused.
 */
export function albIdentityVerifier(options: AlbIdentityOptions): (token: string) => Promise<AlbIdentity> {
  const keys = new Map<string, Promise<KeyObject>>();
  const now = options.now ?? Date.now;
  const fetchKey =
    options.fetchKey ??
    (async (kid: string) => {
      const response = await fetch(`https://public-keys.auth.elb.${options.region}.amazonaws.com/${kid}`, {
        signal: AbortSignal.timeout(5000),
      });
      if (!response.ok) throw new AlbIdentityError(`no ALB public key ${kid} (HTTP ${response.status})`);
      return response.text();
    });
  const keyOf = (kid: string) => {
    let key = keys.get(kid);
    if (!key) {
      key = fetchKey(kid).then((pem) => createPublicKey(pem));
      key.catch(() => keys.delete(kid));
      keys.set(kid, key);
    }
    return key;
  };

  return async (token) => {
    const parts = token.split('.');
    if (parts.length !== 3) throw new AlbIdentityError('malformed token');
    const [head = '', body = '', signature = ''] = parts;
    const header = decodeJson(head);
    const { alg, kid, signer } = header;
    if (alg !== 'ES256') throw new AlbIdentityError('unexpected algorithm');
    // The key id becomes part of a URL: only the ALB's own form (a UUID) is accepted.
    if (typeof kid !== 'string' || !/^[A-Za-z0-9-]{1,128}$/.test(kid))
      throw new AlbIdentityError('bad key id');
    const expectedSigner = options.signer.endsWith('/')
      ? typeof signer === 'string' &&
        signer.startsWith(options.signer) &&
        !signer.slice(options.signer.length).includes('/')
      : signer === options.signer;
    if (!expectedSigner) throw new AlbIdentityError('signed by another load balancer');
    const valid = verify(
      'sha256',
      Buffer.from(`${head}.${body}`),
      { key: await keyOf(kid), dsaEncoding: 'ieee-p1363' },
      Buffer.from(signature, 'base64url'),
    );
    if (!valid) throw new AlbIdentityError('bad signature');
    const claims = decodeJson(body);
    const expires = typeof header.exp === 'number' ? header.exp : claims.exp;
    if (typeof expires !== 'number' || expires * 1000 <= now()) throw new AlbIdentityError('expired');
    if (typeof claims.sub !== 'string') throw new AlbIdentityError('no subject');
    const groups = claims[options.groupsClaim];
    const list = Array.isArray(groups) ? groups : typeof groups === 'string' ? groups.split(/[\s,]+/) : [];
    return {
      subject: claims.sub,
      email: typeof claims.email === 'string' ? claims.email : undefined,
      admin: list.includes(options.adminGroup),
    };
  };
}

/** Requests that come through the ALB (its rules send only these paths to the API). */
const viaAlb = (request: FastifyRequest) => /^\/(api|ws)(\/|\?|$)/.test(request.url);

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * An onRequest hook for an app behind an authenticating ALB: every /api and /ws request must carry a valid
 * identity header, so a request that reaches a pod some other way sees nothing without signing in. The
 * bearer admin token still works (automation, through a port-forward).
 */
export function requireAlbIdentity(options: AlbIdentityOptions & { adminToken: string }) {
  const verifyToken = albIdentityVerifier(options);
  const adminToken = digest(`Bearer ${options.adminToken}`);
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (!viaAlb(request)) return;
    const token = request.headers[HEADER];
    if (typeof token !== 'string') {
      const authorization = digest(request.headers.authorization ?? '');
      if (timingSafeEqual(authorization, adminToken)) return;
      return reply.code(401).send({ statusCode: 401, error: 'Unauthorized', message: 'sign in first' });
    }
    try {
      request.albIdentity = await verifyToken(token);
    } catch (error) {
      request.log.warn({ err: error }, 'refused an ALB identity header');
      return reply.code(401).send({ statusCode: 401, error: 'Unauthorized', message: 'sign in again' });
    }
  };
}
