import fc from 'fast-check';
import { VIDEO_EXTENSIONS, videoContentType, videoExtension, videoSuffixVariants } from '@thumbs/model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, createResources, startApi, startEmulator, type LocalAws } from '../testing/harness.ts';

let local: LocalAws;
let api: Awaited<ReturnType<typeof startApi>>;

beforeAll(async () => {
  local = await startEmulator();
  api = await startApi(local, await createResources(local, 'upload-names'), { ADMIN_RATE_LIMIT: '1000000' });
});

afterAll(async () => {
  await api?.app.close();
  await local?.stop();
});

function presign(filename: string, size = 4): Promise<Response> {
  return fetch(`${api.url}/api/uploads`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ filename, contentType: videoContentType(filename) ?? 'video/mp4', size }),
  });
}

/** Checks an answer to a name: a 2xx with a valid, bounded key keeping the extension, or a 4xx; never a 5xx. */
async function expectHandled(response: Response, filename: string): Promise<void> {
  const what = JSON.stringify([...filename].slice(0, 40).join(''));
  expect(response.status, what).toBeGreaterThanOrEqual(200);
  expect(response.status, what).toBeLessThan(500);
  if (response.status !== 200) return;
  const { key } = (await response.json()) as { key: string };
  const name = key.slice('uploads/'.length);
  expect(name, what).not.toMatch(/\p{Cs}/u);
  expect(name.length, what).toBeLessThanOrEqual(120);
  expect(name.endsWith(videoExtension(filename) ?? '?'), what).toBe(true);
}

const astral = fc.constantFrom('𝐀', '𝒜', '𠀀', '😀', '👩🏽‍💻', '🏳️‍🌈', '🇯🇵');
const combining = fc.constantFrom(
  'e\u0301',
  'a\u0308\u0323',
  'n\u0303',
  '\u1100\u1161\u11a8',
  'क्षि',
  'Z\u0351\u0337\u0334\u0322',
);
const grapheme = fc.oneof(
  astral,
  combining,
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
  fc.constantFrom('a', ' ', '.', '-', '_'),
);

describe('upload names outside the Basic Multilingual Plane, and with combining characters', () => {
  it('presigns 60 × "𝐀" (and combining letters) before every supported suffix', async () => {
    for (const extension of VIDEO_EXTENSIONS) {
      for (const filename of [`${'𝐀'.repeat(60)}${extension}`, `${'e\u0301'.repeat(70)}${extension}`]) {
        const response = await presign(filename);
        expect(response.status, filename).toBe(200);
        await expectHandled(response, filename);
      }
    }
  });

  it('gives a URL the signature-checking endpoint accepts for such a key', async () => {
    const response = await presign(`${'𝐀'.repeat(60)}.mp4`);
    const { url, headers } = (await response.json()) as { url: string; headers: Record<string, string> };
    const put = await fetch(url, { method: 'PUT', headers, body: 'abcd' });
    expect(put.status).toBe(200);
  });

  it('answers any such name ending in any spelling of any suffix with a 2xx or a 4xx, never a 5xx (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(grapheme, { maxLength: 160 }),
        fc.constantFrom(...videoSuffixVariants()),
        async (parts, suffix) => {
          const filename = parts.join('') + suffix;
          await expectHandled(await presign(filename), filename);
          const source = `uploads/${filename}`;
          const page = await fetch(`${api.url}/api/thumbnails?source=${encodeURIComponent(source)}`);
          expect(page.status, source).toBeLessThan(500);
        },
      ),
      { numRuns: 300 },
    );
  });
});
