/** Builds the dashboard when its production build is missing or older than its sources. */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { repoRoot } from './local-config.ts';
import type { Log } from './log.ts';
import { WEB_DIR, webBuildIsStale } from './web-build.ts';

/** The `next` CLI of the web app, when its dependencies are installed. */
export function nextBin(): string | undefined {
  try {
    return createRequire(join(WEB_DIR, 'package.json')).resolve('next/dist/bin/next');
  } catch {
    return undefined;
  }
}

/** Resolves true when a current build is there (built now or before), false when the build failed. */
export async function ensureDashboardBuilt(options: {
  env: NodeJS.ProcessEnv;
  logDir: string;
  log: Log;
  signal?: AbortSignal;
}): Promise<boolean> {
  if (!webBuildIsStale()) return true;
  const { log } = options;
  log(
    'info',
    'building the dashboard (npm run build -w @thumbs/web) — the first time takes a minute or two …',
  );
  const started = Date.now();
  const logFile = join(options.logDir, 'web-build.log');
  const code = await runLogged('npm', ['run', 'build', '-w', '@thumbs/web'], {
    cwd: repoRoot,
    env: options.env,
    logFile,
    signal: options.signal,
  });
  if (code === 0) log('info', `dashboard built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  else log('error', `dashboard build failed (exit ${code}); see ${logFile}`);
  return code === 0;
}

/**
 * Runs a command to completion with its output in `logFile`; resolves with the exit code. In its own process
 * group, so that aborting stops the whole tree (npm → sh → next build → tsc).
 */
function runLogged(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; logFile: string; signal?: AbortSignal },
) {
  return new Promise<number>((resolve) => {
    const out = openSync(options.logFile, 'w');
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', out, out],
      detached: true,
    });
    closeSync(out);
    const abort = (): void => {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
    };
    options.signal?.addEventListener('abort', abort, { once: true });
    child.on('error', () => resolve(127));
    child.on('close', (code) => {
      options.signal?.removeEventListener('abort', abort);
      resolve(code ?? 1);
    });
  });
}
