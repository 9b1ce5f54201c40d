/** What the browser tests share: the real local stack on random ports, Debian's Chromium, test videos. */
import { ffmpegPath } from '@thumbs/runtime';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { startLocalStack, type LocalStack } from '../../local/src/stack.ts';
import { webBuildIsStale } from '../../local/src/web-build.ts';

export const webDir = dirname(dirname(fileURLToPath(import.meta.url)));
export const repoRoot = join(webDir, '../..');
export const docsDir = join(repoRoot, 'docs');

export interface TestStack {
  stack: LocalStack;
  dataDir: string;
  stop(): Promise<void>;
}

/** The whole pipeline (emulator, worker fleet, API, dashboard) in a temporary DATA_DIR on free ports. */
export async function startTestStack(): Promise<TestStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'thumbs-web-e2e-'));
  const stack = await startLocalStack({
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
  if (!webBuildIsStale(webDir, [webDir, join(repoRoot, 'packages/model/src')])) return;
  execFileSync('npm', ['run', 'build', '-w', '@thumbs/web'], {
    cwd: repoRoot,
    stdio: 'inherit',
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
  });
}
