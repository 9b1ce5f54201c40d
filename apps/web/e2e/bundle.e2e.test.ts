import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureWebBuild, webDir } from './harness.ts';

// Strings that only three.js and recharts contain, minified or not.
const MARKERS = { three: 'WebGLRenderer', recharts: 'recharts-wrapper' };

interface RouteStats {
  route: string;
  firstLoadUncompressedJsBytes: number;
  firstLoadChunkPaths: string[];
}

describe('dashboard bundle', () => {
  let stats: RouteStats;
  beforeAll(() => {
    ensureWebBuild();
    const all = JSON.parse(
      readFileSync(join(webDir, '.next/diagnostics/route-bundle-stats.json'), 'utf8'),
    ) as RouteStats[];
    const page = all.find((r) => r.route === '/');
    if (!page) throw new Error('no bundle stats for /');
    stats = page;
  });

  it('keeps the 3D scene and the charts out of the first-load JavaScript of the page', () => {
    expect(stats.firstLoadChunkPaths.length).toBeGreaterThan(0);
    const firstLoad = stats.firstLoadChunkPaths.map((path) => readFileSync(join(webDir, path), 'utf8'));
    for (const marker of Object.values(MARKERS)) {
      expect(firstLoad.some((code) => code.includes(marker))).toBe(false);
    }
  });

  it('still ships them as chunks loaded on demand', () => {
    const dir = join(webDir, '.next/static/chunks');
    const lazy = readdirSync(dir)
      .filter((name) => name.endsWith('.js') && !stats.firstLoadChunkPaths.some((p) => p.endsWith(name)))
      .map((name) => readFileSync(join(dir, name), 'utf8'));
    for (const marker of Object.values(MARKERS)) {
      expect(lazy.some((code) => code.includes(marker))).toBe(true);
    }
  });

  it('keeps the first-load JavaScript under 600 KB uncompressed', () => {
    console.log(
      `first-load JS of /: ${(stats.firstLoadUncompressedJsBytes / 1024).toFixed(0)} KB uncompressed`,
    );
    expect(stats.firstLoadUncompressedJsBytes).toBeLessThan(600 * 1024);
  });
});
