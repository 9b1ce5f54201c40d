import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResources, startApi, startEmulator, type LocalAws } from './testing/harness.ts';

let local: LocalAws;
let api: Awaited<ReturnType<typeof startApi>>;
let browser: Browser;

beforeAll(async () => {
  local = await startEmulator();
  api = await startApi(local, await createResources(local, 'docs'));
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
});

afterAll(async () => {
  await browser?.close();
  await api?.app.close();
  await local?.stop();
});

describe('GET /docs under the API content security policy', () => {
  it('renders Swagger UI with every route, and the browser reports no CSP violation', async () => {
    const page = await browser.newPage();
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    const response = await page.goto(`${api.url}/docs`);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.waitForSelector('.swagger-ui .opblock', { timeout: 20_000 });
    const paths = await page.$$eval('.opblock-summary-path', (nodes) => nodes.map((n) => n.textContent));
    expect(paths).toEqual(expect.arrayContaining(['/api/uploads', '/api/thumbnails', '/api/state']));
    expect(violations).toEqual([]);
    await page.close();
  });
});
