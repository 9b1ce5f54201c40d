import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apiPid,
  docsDir,
  launchBrowser,
  makeVideo,
  seedThumbnails,
  startTestStack,
  type TestStack,
} from './harness.ts';

const TIMEOUT = 90_000;
const BULK_VIDEOS = 400;

describe('dashboard against the real local stack', () => {
  let test: TestStack;
  let browser: Browser;
  let page: Page;
  let token: string;
  /** Console errors of the page: a Content-Security-Policy violation is one. */
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    [test, browser] = await Promise.all([startTestStack(), launchBrowser()]);
    token = test.stack.token;
    if (!test.stack.urls.web) throw new Error('the local stack did not start the dashboard');
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.setDefaultTimeout(TIMEOUT);
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
  });

  afterAll(async () => {
    await browser?.close();
    await test?.stop();
  });

  const badge = () => page.getByTestId('live-badge');
  const tokenDialog = () => page.getByRole('dialog', { name: 'Admin token' });

  async function enterToken(value: string) {
    await tokenDialog().getByLabel('Token').fill(value);
    await tokenDialog().getByRole('button', { name: 'Continue' }).click();
  }

  it('loads with the LIVE badge, from the API named by API_PUBLIC_URL at run time', async () => {
    await page.goto(test.stack.urls.web!);
    await expectText(badge(), 'LIVE');
    await page.getByTestId('stat-thumbnails').waitFor();
    const response = await page.request.get(test.stack.urls.web!);
    expect(response.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(response.headers()['x-content-type-options']).toBe('nosniff');
    expect(consoleErrors.filter((text) => /Content Security Policy/i.test(text))).toEqual([]);
  });

  it("moves the queue chart and the pod grid while Test Pipeline's videos are processed", async () => {
    const chart = page.getByTestId('queue-chart');
    await chart.waitFor();
    const busyBefore = Number(await chart.getAttribute('data-busy-points'));
    const podsBefore = await podNames(page);

    await page.getByRole('button', { name: 'Test Pipeline' }).click();
    await tokenDialog().waitFor();
    await enterToken(token);
    await page.getByText(/Test pipeline: \d+ sample videos uploaded/).waitFor();

    await page.waitForFunction(
      (before) =>
        Number(document.querySelector('[data-testid=queue-chart]')?.getAttribute('data-busy-points')) >
        before,
      busyBefore,
      { timeout: TIMEOUT },
    );
    await page.waitForFunction(
      (before) =>
        [...document.querySelectorAll('[data-testid=pod-card]')].some(
          (card) =>
            card.getAttribute('data-pod')?.includes('worker') &&
            !before.includes(card.getAttribute('data-pod')!),
        ),
      podsBefore,
      { timeout: TIMEOUT },
    );
    await waitForAllJobsDone(page, 7);
  }, 240_000);

  it('uploads a video through the drop zone, showing its progress and then its three thumbnails', async () => {
    const video = makeVideo(join(test.dataDir, 'upload'), 'dropped clip.mp4');
    await recordUploadStages(page);
    await dropFiles(page, [{ name: 'notes.txt', type: 'text/plain', bytes: Buffer.from('not a video') }]);
    await page.getByText(/Not a video file\. Accepted: \.mp4/).waitFor();

    await dropFiles(page, [{ name: 'dropped clip.mp4', type: 'video/mp4', bytes: readFileSync(video) }]);
    const item = page.locator('[data-testid=upload-item]', { hasText: 'dropped clip.mp4' });
    await item.locator('[data-testid=upload-thumb]').nth(2).waitFor({ timeout: TIMEOUT });
    await expectAttribute(item, 'data-stage', 'done');
    const key = await item.getAttribute('data-key');
    expect(key).toMatch(/^uploads\/(.*\/)?dropped clip.*\.mp4$/);

    const seen = await page.evaluate(() => (window as unknown as { seen: string[] }).seen);
    expect(seen).toContain('progress:100');
    expect(seen.indexOf('stage:uploading')).toBeGreaterThanOrEqual(0);
    expect(seen.indexOf('stage:done')).toBeGreaterThan(seen.indexOf('stage:uploading'));

    const card = page.locator(`[data-testid=gallery-video][data-source="${key}"]`);
    await expect.poll(() => card.locator('[data-testid=thumb]').count(), { timeout: TIMEOUT }).toBe(3);
    expect(
      await card
        .locator('[data-testid=thumb]')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-frame'))),
    ).toEqual(['10%', '50%', '95%']);
    const loaded = await card
      .locator('img')
      .evaluateAll((imgs) => (imgs as HTMLImageElement[]).map((img) => img.complete && img.naturalWidth > 0));
    expect(loaded).toEqual([true, true, true]);
  });

  it("shows the API's throughput history after a reload, over 5 min, 1 h and 24 h", async () => {
    await page.reload();
    await expectText(badge(), 'LIVE');
    const chart = page.getByTestId('performance-chart');
    for (const range of ['5m', '1h', '24h']) {
      await page.getByTestId('performance').getByTestId(`range-${range}`).click();
      await expectAttribute(
        page.getByTestId('performance').getByTestId(`range-${range}`),
        'aria-pressed',
        'true',
      );
      // The videos finished before the reload are on the chart: the history is the server's, not the page's.
      await expect
        .poll(async () => Number(await chart.getAttribute('data-active-points')))
        .toBeGreaterThan(0);
    }
    await page.getByTestId('performance').getByTestId('range-5m').click();
    expect(await page.getByTestId('backfill-summary').innerText()).toMatch(/backfill sweep|Last sweep/);
  });

  it('filters the gallery by frame position and opens a larger view', async () => {
    const videos = await page.locator('[data-testid=gallery-video]').count();
    expect(videos).toBeGreaterThanOrEqual(8);
    for (const frame of ['10%', '50%', '95%']) {
      await page.getByTestId(`frame-filter-${frame}`).click();
      await expect.poll(() => framesShown(page)).toEqual(Array(videos).fill(frame));
    }
    await page.getByTestId('frame-filter-all').click();
    await expect.poll(async () => (await framesShown(page)).length).toBe(videos * 3);

    await page.locator('[data-testid=thumb][data-frame="50%"]').first().click();
    const lightbox = page.getByTestId('lightbox');
    await lightbox.waitFor();
    expect(await lightbox.locator('figcaption').innerText()).toContain('50% of the duration');
    await page.keyboard.press('ArrowRight');
    await lightbox.getByText('95% of the duration').waitFor();
    await page.keyboard.press('Escape');
    await lightbox.waitFor({ state: 'detached' });
  });

  it('takes the desktop and phone screenshots while the pipeline works', async () => {
    mkdirSync(docsDir, { recursive: true });
    // Run the samples again so that the pictures show a working pipeline, not an idle one.
    await page.getByRole('button', { name: 'Test Pipeline' }).click();
    await page
      .getByText(/Test pipeline: \d+ sample videos uploaded/)
      .last()
      .waitFor();
    await page.locator('[data-testid=pod-card][data-pod*=worker]').first().waitFor();
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.locator('.scene-box[data-active=true]').waitFor();
    // Toasts dismiss themselves after a few seconds; close the ones still up so they do not cover the charts.
    await page.evaluate(() =>
      document.querySelectorAll<HTMLButtonElement>('.toast-close').forEach((b) => b.click()),
    );
    await fullPageShot(page, join(docsDir, 'dashboard-desktop.png'));

    const phone = await browser.newPage({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
    });
    // The sign-in link that `npm start` prints: the token is kept for the session and leaves the address bar.
    await phone.goto(`${test.stack.urls.web!}/#token=${token}`);
    await expectText(phone.getByTestId('live-badge'), 'LIVE');
    expect(await phone.evaluate(() => window.location.hash)).toBe('');
    expect(await phone.evaluate(() => sessionStorage.getItem('thumbs.adminToken'))).toBe(token);
    await phone.locator('[data-testid=gallery-video]').first().waitFor();
    expect(await phone.locator('.scene-box').getAttribute('data-renderer')).toBe('2d');
    // Single column: every panel starts at the same x.
    const lefts = await phone
      .locator('main > section')
      .evaluateAll((els) => [...new Set(els.map((e) => Math.round(e.getBoundingClientRect().left)))]);
    expect(lefts).toHaveLength(1);
    await fullPageShot(phone, join(docsDir, 'dashboard-phone.png'));
    await phone.close();

    await waitForAllJobsDone(page, 8);
  }, 240_000);

  it('asks for the admin token when Purge has none, refuses a wrong one, and with the right one empties the gallery', async () => {
    await page.getByRole('button', { name: 'Forget the admin token' }).click();
    await page.getByRole('button', { name: 'Purge' }).click();
    const confirm = page.getByRole('dialog', { name: 'Purge everything?' });
    await confirm.getByRole('button', { name: 'Purge' }).click();

    await tokenDialog().waitFor();
    expect(await page.locator('[data-testid=gallery-video]').count()).toBeGreaterThan(0);
    await enterToken('not-the-token');
    await tokenDialog().getByText('The API refused that token').waitFor();
    expect(await page.locator('[data-testid=gallery-video]').count()).toBeGreaterThan(0);
    await enterToken(token);

    await page.getByText(/Purged \d+ objects/).waitFor();
    await page.getByTestId('gallery').getByText('No thumbnails yet.').waitFor();
    expect(await page.locator('[data-testid=gallery-video]').count()).toBe(0);
  });

  it('has 1,200 more thumbnails put straight into the bucket (the restarted API will list them)', async () => {
    const sources = await seedThumbnails(test.stack, join(test.dataDir, 'seed'), BULK_VIDEOS);
    expect(sources).toHaveLength(BULK_VIDEOS);
  }, 180_000);

  it('turns DOWN when the API stops, keeps the last state marked stale, and comes back LIVE without a reload', async () => {
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
    // The local stack restarts the API process after it exits, as Kubernetes would restart the container.
    process.kill(apiPid(), 'SIGKILL');
    await expectText(badge(), 'DOWN');
    await page.getByRole('alert').getByText('Connection to the API lost').waitFor();
    expect(await page.locator('main.is-stale').count()).toBe(1);
    await page.getByTestId('stat-thumbnails').waitFor();

    await expectText(badge(), 'LIVE', 120_000);
    expect(await page.locator('main.is-stale').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
  }, 180_000);

  it('stays light with thousands of thumbnails: virtualized rows, older pages fetched as the gallery scrolls', async () => {
    const subtitle = page.getByTestId('gallery').locator('.panel-sub');
    await expect
      .poll(() => subtitle.innerText(), { timeout: TIMEOUT })
      .toMatch(/^1,200 thumbnails · \d+ videos · newest/);
    const cards = page.locator('[data-testid=gallery-video]');
    expect(await cards.count()).toBeLessThan(60);

    await page.evaluate(() => {
      const w = window as unknown as { longestTask: number };
      w.longestTask = 0;
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) w.longestTask = Math.max(w.longestTask, entry.duration);
      }).observe({ type: 'longtask' });
    });
    const scroller = page.getByTestId('gallery-scroll');
    await expect
      .poll(
        async () => {
          await scroller.evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
          return subtitle.innerText();
        },
        { timeout: TIMEOUT, interval: 400 },
      )
      .toBe(`1,200 thumbnails · ${BULK_VIDEOS} videos`);
    expect(await cards.count()).toBeLessThan(60);
    expect(await cards.last().getAttribute('data-source')).toMatch(/^uploads\/bulk\/video-\d{4}\.mp4$/);
    const longest = await page.evaluate(() => (window as unknown as { longestTask: number }).longestTask);
    console.log(
      `longest main-thread task while paging and scrolling 1,200 thumbnails: ${Math.round(longest)} ms`,
    );
    expect(longest).toBeLessThan(1500);
  });
});

async function expectText(locator: ReturnType<Page['getByTestId']>, text: string, timeout = TIMEOUT) {
  await expect.poll(() => locator.innerText(), { timeout, interval: 100 }).toBe(text);
}

async function expectAttribute(locator: ReturnType<Page['locator']>, name: string, value: string) {
  await expect.poll(() => locator.getAttribute(name), { timeout: TIMEOUT }).toBe(value);
}

/**
 * A full-page screenshot with every image loaded: the viewport grows to the page's height for a moment, so that
 * the lazy thumbnails below the fold are fetched (the picture still shows placeholders for any that are slow).
 */
async function fullPageShot(page: Page, path: string) {
  const viewport = page.viewportSize()!;
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  await page.setViewportSize({ width: viewport.width, height });
  await page
    .waitForFunction(() => [...document.images].every((img) => img.complete), undefined, { timeout: 8_000 })
    .catch(() => undefined);
  await page.setViewportSize(viewport);
  await page.waitForTimeout(1000);
  await page.screenshot({ path, fullPage: true });
}

/** Waits until at least `count` jobs are listed, all done, and the queue is empty. */
async function waitForAllJobsDone(page: Page, count: number) {
  await page.waitForFunction(
    (n) => {
      const rows = [...document.querySelectorAll('[data-testid=job-row]')];
      const value = (id: string) =>
        document.querySelector(`[data-testid=stat-${id}] .stat-value`)?.textContent;
      return (
        rows.length >= n &&
        rows.every((row) => row.getAttribute('data-status') === 'done') &&
        value('depth') === '0' &&
        value('inflight') === '0'
      );
    },
    count,
    { timeout: 150_000 },
  );
}

async function podNames(page: Page): Promise<string[]> {
  return page
    .locator('[data-testid=pod-card]')
    .evaluateAll((cards) => cards.map((c) => c.getAttribute('data-pod')!));
}

async function framesShown(page: Page): Promise<string[]> {
  return page
    .locator('[data-testid=thumb]')
    .evaluateAll((els) => els.map((e) => e.getAttribute('data-frame')!));
}

/** Drops files on the drop zone the way a browser does: dragover, then drop with a DataTransfer. */
async function dropFiles(page: Page, files: { name: string; type: string; bytes: Buffer }[]) {
  const payload = files.map((f) => ({ name: f.name, type: f.type, base64: f.bytes.toString('base64') }));
  await page.evaluate((items) => {
    const transfer = new DataTransfer();
    for (const item of items) {
      const bytes = Uint8Array.from(atob(item.base64), (c) => c.charCodeAt(0));
      transfer.items.add(new File([bytes], item.name, { type: item.type }));
    }
    const zone = document.querySelector('[data-testid=dropzone]')!;
    for (const type of ['dragenter', 'dragover', 'drop']) {
      zone.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }));
    }
  }, payload);
}

/** Records, in window.seen, every stage and progress value an upload item shows, however briefly. */
async function recordUploadStages(page: Page) {
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { seen: string[] }).seen = seen;
    const note = (value: string) => seen.at(-1) !== value && seen.push(value);
    const scan = () => {
      for (const item of document.querySelectorAll('[data-testid=upload-item]')) {
        note(`stage:${item.getAttribute('data-stage')}`);
        const bar = item.querySelector('[role=progressbar]');
        if (bar) note(`progress:${bar.getAttribute('aria-valuenow')}`);
      }
    };
    new MutationObserver(scan).observe(document.body, { subtree: true, childList: true, attributes: true });
  });
}
