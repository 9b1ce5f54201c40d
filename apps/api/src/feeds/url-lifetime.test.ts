import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_TOKEN,
  createResources,
  startApi,
  startEmulator,
  waitFor,
  type LocalAws,
  type Resources,
} from '../testing/harness.ts';
import { PresignCache } from './presign-cache.ts';

/** Short-lived API role credentials, as an STS session near its end: the test waits them out in real time. */
const LIFETIME_SECONDS = 12;
const KEY = 'thumbnails/uploads/clip.mp4/50.jpg';

let local: LocalAws;
let resources: Resources;

beforeAll(async () => {
  local = await startEmulator();
  resources = await createResources(local, 'signing');
  await local
    .clients('deployer', resources.deployment)
    .s3.send(new PutObjectCommand({ Bucket: resources.bucket, Key: KEY, Body: 'jpeg' }));
});

afterAll(async () => {
  await local?.stop();
});

/** The URL's lifetime and the expiry of the credentials that signed it (as the endpoint resolves them). */
function signing(url: string): { expiresSeconds: number; credentialsExpireAt: number } {
  const query = new URL(url).searchParams;
  const accessKeyId = (query.get('X-Amz-Credential') ?? '').split('/')[0] ?? '';
  const resolved = local.authority.resolve(accessKeyId, query.get('X-Amz-Security-Token') ?? undefined);
  if (!resolved.ok || !resolved.identity.expiration) throw new Error(`not signed with session credentials`);
  expect(resolved.identity.role).toBe('api');
  return {
    expiresSeconds: Number(query.get('X-Amz-Expires')),
    credentialsExpireAt: resolved.identity.expiration.getTime(),
  };
}

async function get(url: string): Promise<{ status: number; body: string }> {
  const response = await fetch(url);
  return { status: response.status, body: await response.text() };
}

describe('URLs never outlive the credentials that sign them', () => {
  it('renews a cached thumbnail URL before its credentials expire; the old one is refused after', async () => {
    const { s3 } = local.clients('api', resources.deployment, { lifetimeSeconds: LIFETIME_SECONDS });
    // The cache asks for an hour; the credentials have seconds left.
    const cache = new PresignCache({ s3, bucket: resources.bucket, ttlSeconds: 3600 });

    const first = await cache.get(KEY);
    const firstSigning = signing(first.url);
    expect(firstSigning.expiresSeconds * 1000).toBeLessThanOrEqual(
      firstSigning.credentialsExpireAt - first.signedAt,
    );
    expect(first.expiresAt).toBeLessThanOrEqual(firstSigning.credentialsExpireAt);
    expect(await get(first.url)).toEqual({ status: 200, body: 'jpeg' });
    expect(cache.needsRenewal(KEY)).toBe(false);
    expect((await cache.get(KEY)).url).toBe(first.url);

    await waitFor(() => cache.needsRenewal(KEY), LIFETIME_SECONDS * 1000, 'the URL to be due for renewal');
    expect(Date.now()).toBeLessThan(firstSigning.credentialsExpireAt);
    const renewed = await cache.get(KEY);
    expect(renewed.url).not.toBe(first.url);
    const renewedSigning = signing(renewed.url);
    expect(renewedSigning.credentialsExpireAt).toBeGreaterThan(firstSigning.credentialsExpireAt);
    expect(renewedSigning.expiresSeconds * 1000).toBeLessThanOrEqual(
      renewedSigning.credentialsExpireAt - renewed.signedAt,
    );
    expect(await get(renewed.url)).toEqual({ status: 200, body: 'jpeg' });

    await new Promise((resolve) => setTimeout(resolve, firstSigning.credentialsExpireAt - Date.now() + 250));
    const expired = await get(first.url);
    expect(expired.status).toBe(400);
    expect(expired.body).toContain('<Code>ExpiredToken</Code>');
    expect(await get(renewed.url)).toEqual({ status: 200, body: 'jpeg' });
  });

  it('gives POST /api/uploads a URL that expires no later than its credentials', async () => {
    const api = await startApi(
      local,
      resources,
      { UPLOAD_URL_TTL_SECONDS: '900' },
      { aws: local.clients('api', resources.deployment, { lifetimeSeconds: 120 }) },
    );
    try {
      const body = 'a video of 21 bytes..';
      const response = await api.app.inject({
        method: 'POST',
        url: '/api/uploads',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        payload: { filename: 'clip.mp4', contentType: 'video/mp4', size: body.length },
      });
      expect(response.statusCode).toBe(200);
      const upload = response.json() as { url: string; headers: Record<string, string>; expiresAt: string };
      const { expiresSeconds, credentialsExpireAt } = signing(upload.url);
      expect(expiresSeconds).toBeLessThanOrEqual(120);
      expect(Date.parse(upload.expiresAt)).toBeLessThanOrEqual(credentialsExpireAt);
      const put = await fetch(upload.url, { method: 'PUT', headers: upload.headers, body });
      expect(put.status).toBe(200);
    } finally {
      await api.app.close();
    }
  });
});
