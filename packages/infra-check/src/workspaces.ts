/**
 * The workspace graph as the code uses it: every import of a workspace's files is either its own file, a
 * Node built-in, or a package it declares (another workspace only through that workspace's `exports`).
 * The root package (the benchmarks, the configs) is the monorepo itself and may read any workspace.
 */
import { builtinModules } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';
import { listFiles, REPO_ROOT, repoPath } from './repo.ts';

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  exports?: Record<string, string>;
}

export interface Workspace {
  dir: string;
  manifest: Manifest;
}

const SOURCE = /\.(ts|tsx|mts|mjs|js)$/;
const SKIPPED_DIRS = ['/.next/', '/node_modules/', '/.turbo/', '/test-results/'];
const IMPORT =
  /(?:^|[^\w.])(?:import|export)\s*(?:type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"\s]+)['"]|import\(\s*['"]([^'"\s]+)['"]\s*\)/gm;

function readManifest(dir: string): Manifest {
  return JSON.parse(readFileSync(repoPath(dir, 'package.json'), 'utf8')) as Manifest;
}

/** The root package and every workspace under apps/ and packages/. */
export function workspaces(): Workspace[] {
  const dirs = [
    ...listFiles('apps', (n) => n === 'package.json'),
    ...listFiles('packages', (n) => n === 'package.json'),
  ]
    .filter((file) => file.split('/').length === 3)
    .map((file) => dirname(file));
  return [
    { dir: '', manifest: readManifest('') },
    ...dirs.map((dir) => ({ dir, manifest: readManifest(dir) })),
  ];
}

/** The import specifiers of one source file (static, re-exports and dynamic imports with a literal). */
export function importsOf(text: string): string[] {
  const withoutComments = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  return [...withoutComments.matchAll(IMPORT)].map((m) => m[1] ?? m[2] ?? '').filter(Boolean);
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

function ownerOf(file: string, all: Workspace[]): Workspace {
  const owners = all.filter((w) => w.dir === '' || file === w.dir || file.startsWith(`${w.dir}/`));
  return owners.reduce((a, b) => (b.dir.length > a.dir.length ? b : a));
}

/** Every import that crosses a workspace's boundary without a declared dependency, as readable lines. */
export function boundaryProblems(all: Workspace[] = workspaces()): string[] {
  const byName = new Map(all.map((w) => [w.manifest.name, w]));
  const root = all.find((w) => w.dir === '')!;
  const rootTools = new Set(Object.keys(root.manifest.devDependencies ?? {}));
  const builtins = new Set(builtinModules);
  const problems: string[] = [];
  const files = ['apps', 'packages']
    .flatMap((dir) => listFiles(dir, (n) => SOURCE.test(n)))
    .filter((file) => !SKIPPED_DIRS.some((skip) => `/${file}`.includes(skip)));
  for (const file of files) {
    const owner = ownerOf(file, all);
    if (owner === root) continue;
    const declared = {
      ...owner.manifest.dependencies,
      ...owner.manifest.devDependencies,
    };
    for (const specifier of importsOf(readFileSync(repoPath(file), 'utf8'))) {
      if (specifier.startsWith('.')) {
        const target = relative(REPO_ROOT, resolve(REPO_ROOT, dirname(file), specifier))
          .split(sep)
          .join('/');
        const targetOwner = ownerOf(target, all);
        if (targetOwner !== owner)
          problems.push(`${file}: imports ${specifier}, a file of ${targetOwner.manifest.name}`);
        continue;
      }
      if (specifier.startsWith('node:') || builtins.has(specifier)) continue;
      const name = packageName(specifier);
      const workspace = byName.get(name);
      if (workspace) {
        if (!(name in declared))
          problems.push(`${file}: imports ${name}, not declared in ${owner.manifest.name}`);
        const subpath = `.${specifier.slice(name.length)}`;
        if (!Object.hasOwn(workspace.manifest.exports ?? {}, subpath))
          problems.push(`${file}: imports ${specifier}, which ${name} does not export`);
        continue;
      }
      if (!(name in declared) && !rootTools.has(name))
        problems.push(`${file}: imports ${name}, declared neither in ${owner.manifest.name} nor at the root`);
    }
  }
  return problems;
}
