import type { ThumbnailPage } from '@thumbs/model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareKeys } from '../feeds/bucket.ts';
import {
  createResources,
  putTinyObjects,
  startApi,
  startEmulator,
  waitFor,
  type LocalAws,
  type Resources,
} from '../testing/harness.ts';

let local: LocalAws;
let resources: Resources;

beforeAll(async () => {
  local = await startEmulator();
  resources = await createResources(local, 'read-limits');
});

afterAll(async () => {
  await local?.stop();
});

/** GET from a client address as the (one trusted) proxy in front of the API reports it. */
function get(url: string, address: string): Promise<Response> {
  return fetch(url, { headers: { 'x-forwarded-for': `10.9.9.9, ${address}` } });
}

describe('read routes', () => {
  it('answer the N+1th GET of a route in a minute from one address with a 429; other routes and addresses go on', async () => {
    const api = await startApi(local, resources, { READ_RATE_LIMIT: '3', TRUST_PROXY_HOPS: '1' });
    try {
      const statuses = async (path: string, address: string, times: number) => {
        const result: number[] = [];
        for (let i = 0; i < times; i++) result.push((await get(`${api.url}${path}`, address)).status);
        return result;
      };
      expect(await statuses('/api/metrics', '192.0.2.7', 4)).toEqual([200, 200, 200, 429]);
      const refused = await get(`${api.url}/api/metrics`, '192.0.2.7');
      expect(((await refused.json()) as { message: string }).message).toMatch(/rate limit/i);
      expect(await statuses('/api/queue', '192.0.2.7', 1)).toEqual([200]);
      expect(await statuses('/api/metrics', '192.0.2.8', 1)).toEqual([200]);
      for (const path of ['/api/state', '/api/pods', '/api/jobs', '/api/dlq', '/api/thumbnails'])
        expect(await statuses(path, '192.0.2.9', 4), path).toEqual([200, 200, 200, 429]);
    } finally {
      await api.app.close();
    }
  });

  it('sign at most a budget of new thumbnail URLs per address; pages go on from where a short one ended', async () => {
    const api = await startApi(local, resources, { TRUST_PROXY_HOPS: '1' });
    try {
      await waitFor(() => api.pipeline.thumbnails.ready, 10_000, 'the thumbnail count');
      const { store } = api.pipeline;
      // More thumbnails than the presign cache has seen: every URL of these pages must be signed.
      const total = 3000;
      const stored = Array.from({ length: total }, (_, i) => `thumbnails/uploads/v${i}.mp4/50.jpg`);
      await putTinyObjects(local, resources.bucket, stored);
      // Pages follow the S3 listing: key order.
      const listed = [...stored].sort(compareKeys);
      const pageUrl = (cursor: string | null) =>
        `${api.url}/api/thumbnails?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;

      const signedBefore = store.presign.signed;
      const started = Date.now();
      const keys: string[] = [];
      let cursor: string | null = null;
      let cut = false;
      for (let i = 0; i < 12 && !cut; i++) {
        const response = await get(pageUrl(cursor), '192.0.2.7');
        if (response.status === 429) {
          expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
          cut = true;
          continue;
        }
        expect(response.status).toBe(200);
        const page = (await response.json()) as ThumbnailPage;
        keys.push(...page.items.map((t) => t.key));
        cursor = page.nextCursor;
        if (page.items.length < 500 && cursor !== null) cut = true;
        if (cursor === null) break;
      }
      const elapsedMinutes = (Date.now() - started) / 60_000;
      // Pages that were cut short still go on exactly where they ended: no thumbnail skipped or repeated.
      expect(keys).toEqual(listed.slice(0, keys.length));
      expect(cut).toBe(true);
      // 2,000 at once, then 2,000 a minute.
      expect(store.presign.signed - signedBefore).toBeLessThanOrEqual(
        2000 + Math.ceil(2000 * elapsedMinutes),
      );
      expect(keys.length).toBeGreaterThanOrEqual(2000);

      // Cached URLs cost nothing: the first pages again, in full, from the address whose budget is spent.
      const first = (await (await get(pageUrl(null), '192.0.2.7')).json()) as ThumbnailPage;
      expect(first.items.map((t) => t.key)).toEqual(listed.slice(0, 500));
      // Another address has its own budget: past the cached pages it is served in full.
      const other = (await (await get(pageUrl(cursor), '192.0.2.8')).json()) as ThumbnailPage;
      expect(other.items).toHaveLength(Math.min(500, total - keys.length));
    } finally {
      await api.app.close();
    }
  });
});
