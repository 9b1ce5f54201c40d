import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  docsDir,
  launchBrowser,
  makeVideo,
  openSignedIn,
  operatorS3,
  startTestStack,
  type TestStack,
} from './harness.ts';

const TIMEOUT = 90_000;
const CLIP = 'uploads/detail/clip one.mp4';
const BROKEN = 'uploads/detail/broken.mp4';

describe('video detail against the real local stack', () => {
  let test: TestStack;
  let browser: Browser;
  let page: Page;
  let s3: S3Client;

  beforeAll(async () => {
    [test, browser] = await Promise.all([startTestStack(), launchBrowser()]);
    if (!test.stack.urls.web) throw new Error('the local stack did not start the dashboard');
    s3 = operatorS3(test.stack);
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.setDefaultTimeout(TIMEOUT);
    await openSignedIn(page, test.stack);
  });

  afterAll(async () => {
    s3?.destroy();
    await browser?.close();
    await test?.stop();
  });

  const upload = (key: string, body: Buffer) =>
    s3.send(new PutObjectCommand({ Bucket: test.stack.config.bucket, Key: key, Body: body }));
  const detail = () => page.getByTestId('video-detail');
  const timelineEvents = () =>
    detail()
      .getByTestId('timeline-entry')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-event')));

  it("shows on a pod card the video its worker is on and the stage, then opens the video's detail from the gallery", async () => {
    await recordPodActivity(page);
    await upload(CLIP, readFileSync(makeVideo(join(test.dataDir, 'clips'), 'clip.mp4', 3)));
    const card = page.locator(`[data-testid=gallery-video][data-source="${CLIP}"]`);
    await expect.poll(() => card.getByTestId('thumb').count(), { timeout: TIMEOUT }).toBe(3);

    const activity = await page.evaluate(() => (window as unknown as { activity: string[] }).activity);
    expect(activity.filter((seen) => seen.startsWith(`${CLIP} `)).length).toBeGreaterThan(0);
    for (const seen of activity) expect(seen).toMatch(/ (probing|extracting|storing)$/);

    await card.getByRole('link', { name: 'Details of clip one.mp4' }).click();
    await detail().waitFor();
    expect(new URL(page.url()).searchParams.get('video')).toBe(CLIP);
    await expectFramesLoaded(detail());
    const facts = detail().getByTestId('detail-facts');
    await facts.getByText('320 × 180').waitFor();
    for (const text of ['h264', '0°', 'Read by the worker']) await facts.getByText(text).first().waitFor();
    await expect.poll(timelineEvents).toEqual(['received', 'started', 'done']);
    expect(await detail().getByTestId('timeline').innerText()).toMatch(/by\s+\S*worker/);
    await expect
      .poll(() =>
        detail()
          .getByRole('link', { name: /^Download/ })
          .count(),
      )
      .toBe(3);

    mkdirSync(docsDir, { recursive: true });
    await drawerShot(page, join(docsDir, 'detail-desktop.png'));

    await page.keyboard.press('Escape');
    await detail().waitFor({ state: 'detached' });
    expect(new URL(page.url()).searchParams.get('video')).toBeNull();
  });

  it('opens from the jobs table, and from a deep link on a phone', async () => {
    await page.locator(`[data-testid=job-row][data-source="${CLIP}"]`).getByTestId('video-link').click();
    await detail().waitFor();
    expect(await detail().getAttribute('data-source')).toBe(CLIP);
    // Back closes it, as it would a page.
    await page.goBack();
    await detail().waitFor({ state: 'detached' });

    const phone = await browser.newPage({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
    });
    try {
      await phone.goto(`${test.stack.urls.web}/?video=${encodeURIComponent(CLIP)}`);
      const drawer = phone.getByTestId('video-detail');
      await drawer.waitFor();
      await expectFramesLoaded(drawer);
      await drawer.getByTestId('timeline-entry').nth(2).waitFor();
      const box = (await drawer.boundingBox())!;
      expect(box.width).toBeLessThanOrEqual(390);
      await drawerShot(phone, join(docsDir, 'detail-phone.png'));
    } finally {
      await phone.close();
    }
  });

  it('links a failure notification to the detail, with the kind and the full message', async () => {
    await upload(BROKEN, Buffer.from('definitely not a video '.repeat(100)));
    const toast = page.getByTestId('toast').filter({ hasText: 'broken.mp4 failed' });
    await toast.getByRole('link', { name: 'Details' }).click({ timeout: TIMEOUT });
    await detail().waitFor();
    expect(await detail().getAttribute('data-source')).toBe(BROKEN);
    const failed = detail().locator('[data-testid=timeline-entry][data-event=failed]');
    await failed.waitFor();
    expect(await failed.getByTestId('failure-kind').innerText()).toBe('not-a-video');
    expect(await failed.innerText()).toMatch(/ffprobe could not read uploads\/detail\/broken\.mp4: /);
    expect(await failed.innerText()).toContain('to the dead-letter queue');
    await page.keyboard.press('Escape');
    await detail().waitFor({ state: 'detached' });
  });

  it('reprocesses a video from its detail: a new attempt follows', async () => {
    await page.goto(`${test.stack.urls.web}/?video=${encodeURIComponent(CLIP)}`);
    await detail().waitFor();
    await expect.poll(timelineEvents).toEqual(['received', 'started', 'done']);
    await detail().getByRole('button', { name: 'Reprocess' }).click();
    await page.getByTestId('toast').filter({ hasText: 'clip one.mp4 queued again' }).waitFor();
    await expect
      .poll(timelineEvents, { timeout: TIMEOUT })
      .toEqual(['received', 'started', 'done', 'queued', 'received', 'started', 'done']);
  });

  it('deletes a video and its thumbnails from its detail', async () => {
    await detail().getByRole('button', { name: 'Delete' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete clip one.mp4?' });
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await detail().waitFor({ state: 'detached' });
    await page.locator(`[data-testid=gallery-video][data-source="${CLIP}"]`).waitFor({ state: 'detached' });
    await page.locator(`[data-testid=job-row][data-source="${CLIP}"]`).waitFor({ state: 'detached' });
    const api = test.stack.urls.api;
    const response = await page.request.get(`${api}/api/video?source=${encodeURIComponent(CLIP)}`);
    expect(response.status()).toBe(404);
  });
});

/** Records every video and stage a pod card shows (they last a second or so: too short to poll for). */
async function recordPodActivity(page: Page) {
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { activity: string[] }).activity = seen;
    const record = () => {
      for (const el of document.querySelectorAll('[data-testid=pod-activity]')) {
        const entry = `${el.getAttribute('data-source')} ${el.getAttribute('data-stage')}`;
        if (!seen.includes(entry)) seen.push(entry);
      }
    };
    new MutationObserver(record).observe(document.body, { subtree: true, childList: true, attributes: true });
  });
}

async function expectFramesLoaded(drawer: Locator) {
  await expect
    .poll(() =>
      drawer
        .getByTestId('detail-frame')
        .locator('img')
        .evaluateAll((imgs) =>
          (imgs as HTMLImageElement[]).map((img) => img.complete && img.naturalWidth > 0),
        ),
    )
    .toEqual([true, true, true]);
}

/** The whole drawer: the viewport grows to its content's height for the picture, then shrinks back. */
async function drawerShot(page: Page, path: string) {
  const viewport = page.viewportSize()!;
  const height = await page.getByTestId('video-detail').evaluate((el) => el.scrollHeight);
  await page.setViewportSize({ width: viewport.width, height: Math.max(viewport.height, height) });
  await page.waitForTimeout(300);
  await page.screenshot({ path });
  await page.setViewportSize(viewport);
}
