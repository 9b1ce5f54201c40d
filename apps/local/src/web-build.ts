/** Whether the dashboard's production build is missing or older than its sources. */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

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

/** `sources` are the web app and the packages it bundles. */
export function webBuildIsStale(webDir: string, sources: string[]): boolean {
  const built = statSync(join(webDir, '.next', 'BUILD_ID'), { throwIfNoEntry: false });
  if (!built) return true;
  return sources.some((source) => newestMtime(source) > built.mtimeMs);
}
