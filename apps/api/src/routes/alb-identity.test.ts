import { generateKeyPairSync, sign } from 'node:crypto';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { requireAdminToken } from './admin-auth.ts';
import { requireAlbIdentity } from './alb-identity.ts';

const SIGNER = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/thumbnail-pipeline/';
const ALB = `${SIGNER}50dc6c495c0c9188`;
const KID = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
const TOKEN = 'admin-token';
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });

const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A token shaped like the ALB's x-amzn-oidc-data (ES256, kid and signer in the header). */
function albToken(
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
  key = privateKey,
): string {
  const exp = Math.floor(Date.now() / 1000) + 60;
  const signed = `${part({ alg: 'ES256', kid: KID, signer: ALB, exp, ...header })}.${part({ sub: 'user-1', email: 'a@example.com', exp, ...claims })}`;
  const signature = sign('sha256', Buffer.from(signed), { key, dsaEncoding: 'ieee-p1363' });
  return `${signed}.${signature.toString('base64url')}`;
}

async function app() {
  const fetched: string[] = [];
  const server = Fastify();
  server.addHook(
    'onRequest',
    requireAlbIdentity({
      region: 'us-east-1',
      signer: SIGNER,
      groupsClaim: 'cognito:groups',
      adminGroup: 'admins',
      adminToken: TOKEN,
      fetchKey: async (kid) => {
        fetched.push(kid);
        return publicKey.export({ type: 'spki', format: 'pem' }).toString();
      },
    }),
  );
  server.get('/api/state', async (request) => ({ who: request.albIdentity?.subject ?? null }));
  server.get('/health', async () => ({ status: 'ok' }));
  server.register(async (admin) => {
    admin.addHook('preParsing', requireAdminToken(TOKEN));
    admin.post('/api/test', async () => ({ queued: 0 }));
  });
  return { server, fetched };
}

const get = (server: Awaited<ReturnType<typeof app>>['server'], headers: Record<string, string> = {}) =>
  server.inject({ url: '/api/state', headers });

describe('the ALB identity header', () => {
  it('lets a signed-in viewer read, fetching the key once', async () => {
    const { server, fetched } = await app();
    const first = await get(server, { 'x-amzn-oidc-data': albToken() });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({ who: 'user-1' });
    expect((await get(server, { 'x-amzn-oidc-data': albToken() })).statusCode).toBe(200);
    expect(fetched).toEqual([KID]);
  });

  it.each([
    ['no header', undefined],
    ['another key', albToken({}, {}, other.privateKey)],
    ['an altered payload', albToken().replace(/\.[^.]+\./, `.${part({ sub: 'admin', exp: 4e9 })}.`)],
    ['another load balancer', albToken({}, { signer: `${SIGNER.replace('thumbnail-pipeline', 'evil')}1` })],
    ['an expired token', albToken({}, { exp: Math.floor(Date.now() / 1000) - 1 })],
    ['another algorithm', albToken({}, { alg: 'HS256' })],
    ['a key id that is a path', albToken({}, { kid: '../../evil' })],
  ])('refuses %s', async (_what, token) => {
    const { server } = await app();
    const response = await get(server, token ? { 'x-amzn-oidc-data': token } : {});
    expect(response.statusCode).toBe(401);
  });

  it('leaves liveness alone and still takes the bearer admin token, not any bearer', async () => {
    const { server } = await app();
    expect((await server.inject('/health')).statusCode).toBe(200);
    expect((await get(server, { authorization: `Bearer ${TOKEN}` })).statusCode).toBe(200);
    expect((await get(server, { authorization: 'Bearer guess' })).statusCode).toBe(401);
  });

  it('gives the admin routes to the admin group only', async () => {
    const { server } = await app();
    const post = (token: string) =>
      server.inject({ method: 'POST', url: '/api/test', headers: { 'x-amzn-oidc-data': token } });
    expect((await post(albToken({ 'cognito:groups': ['viewers'] }))).statusCode).toBe(401);
    expect((await post(albToken({ 'cognito:groups': ['admins'] }))).statusCode).toBe(200);
  });
});
