import AxeBuilder from '@axe-core/playwright';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, startTestStack, type TestStack } from './harness.ts';

const TIMEOUT = 120_000;
const LAYOUTS = [
  { name: 'desktop', viewport: { width: 1440, height: 900 } },
  { name: 'phone', viewport: { width: 390, height: 844 } },
] as const;

/** Elements a person acts on: each must be reachable with Tab. */
const INTERACTIVE =
  'a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

describe('accessibility of the dashboard (axe-core, keyboard)', () => {
  let test: TestStack;
  let browser: Browser;

  beforeAll(async () => {
    [test, browser] = await Promise.all([startTestStack(), launchBrowser()]);
    const api = test.stack.urls.api!;
    const headers = { authorization: `Bearer ${test.stack.token}` };
    // Content in every panel: the sample videos' thumbnails and jobs, and a failure.
    const queued = await fetch(`${api}/api/test`, { method: 'POST', headers });
    expect(queued.status).toBe(200);
    const presign = await fetch(`${api}/api/uploads`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ filename: 'not really.mp4', contentType: 'video/mp4', size: 11 }),
    });
    const upload = (await presign.json()) as { url: string; headers: Record<string, string> };
    const put = await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: 'not a video' });
    expect(put.status).toBe(200);
    await until(async () => {
      const state = (await (await fetch(`${api}/api/state`)).json()) as {
        thumbnails: unknown[];
        dlq: unknown[];
      };
      return state.thumbnails.length > 0 && state.dlq.length > 0;
    });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await test?.stop();
  });

  async function openDashboard(viewport: { width: number; height: number }): Promise<Page> {
    // A page of its own context: axe runs its frames' checks in a page it opens beside it.
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    page.setDefaultTimeout(TIMEOUT);
    await page.goto(test.stack.urls.web!);
    await page.getByTestId('live-badge').filter({ hasText: 'LIVE' }).waitFor();
    await page.locator('[data-testid=thumb] img').first().waitFor();
    return page;
  }

  for (const layout of LAYOUTS) {
    it(`has no serious or critical axe violations at ${layout.name} width`, async () => {
      const page = await openDashboard(layout.viewport);
      try {
        const results = await new AxeBuilder({ page })
          .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
          .analyze();
        const serious = results.violations
          .filter((v) => v.impact === 'serious' || v.impact === 'critical')
          .map((v) => ({
            id: v.id,
            impact: v.impact,
            nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5),
          }));
        expect(serious).toEqual([]);
        expect(results.passes.length).toBeGreaterThan(10);
      } finally {
        await page.context().close();
      }
    });

    it(`reaches every control with Tab at ${layout.name} width`, async () => {
      const page = await openDashboard(layout.viewport);
      try {
        const controls = await page.$$eval(INTERACTIVE, (elements) =>
          elements
            .filter((e) => {
              const box = e.getBoundingClientRect();
              const style = getComputedStyle(e);
              return box.width > 0 && box.height > 0 && style.visibility !== 'hidden';
            })
            .map((e, index) => {
              e.setAttribute('data-a11y-id', String(index));
              return String(index);
            }),
        );
        expect(controls.length).toBeGreaterThan(5);
        const reached = new Set<string>();
        await page.locator('body').focus();
        for (let i = 0; i < controls.length * 2 + 20 && reached.size < controls.length; i++) {
          await page.keyboard.press('Tab');
          const id = await page.evaluate(() => document.activeElement?.getAttribute('data-a11y-id') ?? null);
          if (id !== null) reached.add(id);
        }
        const missed = await page.$$eval(
          '[data-a11y-id]',
          (elements, seen) =>
            elements
              .filter((e) => !seen.includes(e.getAttribute('data-a11y-id')!))
              .map((e) => e.outerHTML.slice(0, 120)),
          [...reached],
        );
        expect(missed).toEqual([]);
      } finally {
        await page.context().close();
      }
    });
  }
});

async function until(check: () => Promise<boolean>, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the pipeline');
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
