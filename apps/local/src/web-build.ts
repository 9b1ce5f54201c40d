/** Whether the dashboard's production build is missing or older than its sources. */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './local-config.ts';

export const WEB_DIR = join(repoRoot, 'apps/web');
/** The web app and the workspace packages its bundle compiles (next.config.ts `transpilePackages`). */
const SOURCES = [
  WEB_DIR,
  ...['packages/model/src', 'packages/runtime/src'].map((dir) => join(repoRoot, dir)),
];
const SKIP = new Set(['node_modules', '.next', '.turbo', 'e2e', 'test-results']);

function newestMtime(path: string): number {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) {
    if (SKIP.has(entry)) continue;
    newest = Math.max(newest, newestMtime(join(path, entry)));
  }
  return newest;
}

export function webBuildIsStale(): boolean {
  const built = statSync(join(WEB_DIR, '.next', 'BUILD_ID'), { throwIfNoEntry: false });
  if (!built) return true;
  return SOURCES.some((source) => newestMtime(source) > built.mtimeMs);
}
