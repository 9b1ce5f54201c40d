import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is packages/infra-check/src/repo.ts). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export function repoPath(...parts: string[]): string {
  return join(REPO_ROOT, ...parts);
}

/** Files under a directory of the repository whose names pass the filter, as repository-relative paths. */
export function listFiles(dir: string, accept: (name: string) => boolean): string[] {
  const root = repoPath(dir);
  if (!existsSync(root)) return [];
  const found: string[] = [];
  const walk = (current: string): void => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const full = join(current, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== '.terraform' && entry.name !== 'node_modules') walk(full);
      } else if (accept(entry.name)) {
        found.push(relative(REPO_ROOT, full));
      }
    }
  };
  walk(root);
  return found.sort();
}
