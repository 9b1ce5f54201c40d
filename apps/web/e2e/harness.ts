/** What the browser tests share: the real local stack on random ports, Debian's Chromium, test videos. */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { FRAMES, thumbnailKey } from '@thumbs/model';
import { ffmpegPath } from '@thumbs/runtime';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { roleCredentials, startLocalStack, type LocalStack, webBuildIsStale } from '@thumbs/local/testing';

export const webDir = dirname(dirname(fileURLToPath(import.meta.url)));
export const repoRoot = join(webDir, '../..');
export const docsDir = join(repoRoot, 'docs');

export interface TestStack {
  stack: LocalStack;
  dataDir: string;
  /** Stops the stack and deletes DATA_DIR; then fails if the AWS endpoint denied any call, as AWS would have. */
  stop(): Promise<void>;
}

/** The whole pipeline (emulator, worker fleet, API, dashboard) in a temporary DATA_DIR on free ports. */
export async function startTestStack(): Promise<TestStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'thumbs-web-e2e-'));
  // The endpoint's 'AWS denied …' warnings: a component (or the dashboard) calling beyond its role.
  const denials: string[] = [];
  const stack = await startLocalStack({
    log: (_level, message) => {
      if (message.startsWith('AWS denied')) denials.push(message);
    },
    dataDir,
    awsPort: 0,
    kubePort: 0,
    apiPort: 0,
    webPort: 0,
    adminToken: 'e2e-admin-token',
    cooldownMs: 5_000,
    pollMs: 500,
  });
  return {
    stack,
    dataDir,
    stop: async () => {
      await stack.stop();
      rmSync(dataDir, { recursive: true, force: true });
      if (denials.length > 0)
        throw new Error(`the AWS endpoint denied ${denials.length} call(s):\n${denials.join('\n')}`);
    },
  };
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
}

/** S3 as an operator at the console uses it: the deploy role's credentials from the stack's endpoint. */
export function operatorS3(stack: LocalStack): S3Client {
  return new S3Client({
    endpoint: stack.urls.aws,
    region: stack.config.region,
    credentials: roleCredentials(stack.authority, 'deployer', 3600),
    forcePathStyle: true,
  });
}

/** Opens the dashboard signed in as `npm start`'s link does (admin actions need no prompt), once LIVE. */
export async function openSignedIn(page: Page, stack: LocalStack): Promise<void> {
  await page.goto(`${stack.urls.web}/#token=${stack.token}`);
  await page.getByTestId('live-badge').getByText('LIVE').waitFor();
}

/** A short generated test video (lavfi test pattern), small enough to process in a second or two. */
export function makeVideo(dir: string, name: string, seconds = 2): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  execFileSync(ffmpegPath(), [
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=duration=${seconds}:size=320x180:rate=15`,
    '-pix_fmt',
    'yuv420p',
    path,
  ]);
  return path;
}

/** The pid of the API process the local stack started (a child of this test process). */
export function apiPid(): number {
  const lines = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  const line = lines.split('\n').find((l) => l.includes('apps/api/src/main.ts'));
  if (!line) throw new Error(`no API process among the children of ${process.pid}:\n${lines}`);
  return Number(line.trim().split(/\s+/)[0]);
}

/** Builds the dashboard (next build) unless .next is newer than every source it is built from. */
export function ensureWebBuild(): void {
  if (!webBuildIsStale()) return;
  execFileSync('npm', ['run', 'build', '-w', '@thumbs/web'], {
    cwd: repoRoot,
    stdio: 'inherit',
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
  });
}

/**
 * Puts `videos` × 3 small JPEGs straight into the bucket under the thumbnail key scheme, as if that many
 * videos had been processed; the API sees them when it next lists the bucket (at start).
 */
export async function seedThumbnails(stack: LocalStack, dir: string, videos: number): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const jpeg = join(dir, 'seed.jpg');
  execFileSync(ffmpegPath(), [
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=320x180',
    '-frames:v',
    '1',
    jpeg,
  ]);
  const body = readFileSync(jpeg);
  const s3 = operatorS3(stack);
  const sources = Array.from(
    { length: videos },
    (_, i) => `uploads/bulk/video-${String(i).padStart(4, '0')}.mp4`,
  );
  const keys = sources.flatMap((source) =>
    FRAMES.map((frame) => thumbnailKey(source, frame, stack.config.thumbnailPrefix)),
  );
  try {
    const queue = [...keys];
    const put = async (): Promise<void> => {
      for (let key = queue.shift(); key !== undefined; key = queue.shift()) {
        await s3.send(
          new PutObjectCommand({
            Bucket: stack.config.bucket,
            Key: key,
            Body: body,
            ContentType: 'image/jpeg',
          }),
        );
      }
    };
    await Promise.all(Array.from({ length: 8 }, put));
  } finally {
    s3.destroy();
  }
  return sources;
}
