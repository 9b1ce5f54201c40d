import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { HeadObjectCommand, ListMultipartUploadsCommand, type S3Client } from '@aws-sdk/client-s3';
import { ffmpegPath } from '@thumbs/runtime';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apiPid,
  launchBrowser,
  openSignedIn,
  operatorS3,
  startTestStack,
  type TestStack,
} from './harness.ts';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const TIMEOUT = 240_000;

/**
 * A real video padded to `size` bytes, cheaply: a short MP4 with its index (moov) first, then one `free` box
 * of zeros (a sparse file). ffmpeg reads the index and the frames it points at and never the padding, so the
 * worker still makes three thumbnails, while the upload moves every byte.
 */
function paddedVideo(dir: string, name: string, size: number): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  execFileSync(ffmpegPath(), [
    ...['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=duration=4:size=320x180:rate=15'],
    ...['-pix_fmt', 'yuv420p', '-movflags', '+faststart', path],
  ]);
  const padding = size - statSync(path).size;
  const header = Buffer.alloc(8);
  header.writeUInt32BE(padding, 0);
  header.write('free', 4, 'latin1');
  appendFileSync(path, header);
  truncateSync(path, size);
  return path;
}

describe('resumable uploads from the dashboard, against the real local stack', () => {
  let test: TestStack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let s3: S3Client;

  beforeAll(async () => {
    [test, browser] = await Promise.all([startTestStack(), launchBrowser()]);
    context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(TIMEOUT);
    s3 = operatorS3(test.stack);
    await openSignedIn(page, test.stack);
  });

  afterAll(async () => {
    s3?.destroy();
    await browser?.close();
    await test?.stop();
  });

  const item = (name: string) => page.locator('[data-testid=upload-item]', { hasText: name });
  const progressOf = async (row: Locator) =>
    Number(await row.getByTestId('upload-progress').getAttribute('aria-valuenow'));
  async function progressAbove(name: string, percent: number) {
    await page.waitForFunction(
      ([wanted, min]) =>
        [...document.querySelectorAll('[data-testid=upload-item]')].some(
          (row) =>
            row.textContent?.includes(wanted) &&
            Number(row.querySelector('[role=progressbar]')?.getAttribute('aria-valuenow')) > min,
        ),
      [name, percent] as const,
      { timeout: TIMEOUT, polling: 100 },
    );
  }
  async function incompleteUploads(): Promise<string[]> {
    const listed = await s3.send(new ListMultipartUploadsCommand({ Bucket: test.stack.config.bucket }));
    return (listed.Uploads ?? []).map((u) => u.Key ?? '');
  }

  it('uploads 1 GiB through an API restart, a network drop and a page reload, then gets its thumbnails', async () => {
    const name = 'long take.mp4';
    const video = paddedVideo(join(test.dataDir, 'big'), name, GiB);
    await page.getByTestId('file-input').setInputFiles(video);
    const row = item(name);

    // The API dies and is restarted (as Kubernetes restarts a container): parts keep going to S3 with the URLs
    // they have, and signing more waits for the API to come back.
    await progressAbove(name, 10);
    const before = apiPid();
    process.kill(before, 'SIGKILL');
    await progressAbove(name, 35);

    // The network drops: the parts in flight fail, the upload waits for the network, then carries on.
    await context.setOffline(true);
    await row.getByTestId('upload-status').getByText('offline: waiting for the network').waitFor();
    const offlineAt = await progressOf(row);
    await page.waitForTimeout(2000);
    await context.setOffline(false);
    await progressAbove(name, Math.max(offlineAt, 55));
    expect(apiPid()).not.toBe(before);

    // A reload loses the page; the same file dropped again resumes from the parts S3 holds.
    const reachedBeforeReload = await progressOf(row);
    const keyBeforeReload = await row.getAttribute('data-key');
    await page.reload();
    await row.getByText('Interrupted: drop the same file again to resume').waitFor();
    await page.getByTestId('file-input').setInputFiles(video);
    await progressAbove(name, reachedBeforeReload - 10);

    await row.locator('[data-testid=upload-thumb]').nth(2).waitFor({ timeout: TIMEOUT });
    const key = await row.getAttribute('data-key');
    // The same upload went on (a new one would have had a new key, and left the old one incomplete).
    expect(key).toBe(keyBeforeReload);
    expect(key).toMatch(/^uploads\/long take-[0-9a-f]{8}\.mp4$/);
    const head = await s3.send(new HeadObjectCommand({ Bucket: test.stack.config.bucket, Key: key! }));
    expect(head.ContentLength).toBe(GiB);
    expect(head.ETag).toMatch(/-128"$/);
    expect(await incompleteUploads()).toEqual([]);
  }, 900_000);

  it('cancels an upload: the multipart upload is aborted and nothing incomplete is left behind', async () => {
    const name = 'cancelled clip.mp4';
    const video = paddedVideo(join(test.dataDir, 'cancel'), name, 400 * MiB);
    // Slow storage down so that the upload is surely in the middle when it is cancelled.
    await context.route(`${test.stack.urls.aws}/**`, async (route) => {
      await new Promise((resolve) => setTimeout(resolve, 500));
      await route.continue();
    });
    await page.getByTestId('file-input').setInputFiles(video);
    await progressAbove(name, 1);
    expect(await incompleteUploads()).toHaveLength(1);
    await item(name)
      .getByRole('button', { name: `Cancel the upload of ${name}` })
      .click();
    await item(name).getByText('Cancelled', { exact: true }).waitFor();
    await context.unroute(`${test.stack.urls.aws}/**`);
    expect(await incompleteUploads()).toEqual([]);
    expect(await page.evaluate(() => localStorage.getItem('thumbs.multipart-uploads'))).toBeNull();
  }, 300_000);
});
