import { fileURLToPath } from 'node:url';
import type { NextConfig } from 'next';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

const config: NextConfig = {
  // The Docker image runs the traced standalone server (apps/web/Dockerfile).
  output: 'standalone',
  outputFileTracingRoot: repoRoot,
  turbopack: { root: repoRoot },
  // @thumbs/model ships TypeScript sources (imports with `.ts` extensions); the bundler compiles them.
  transpilePackages: ['@thumbs/model'],
  poweredByHeader: false,
  reactStrictMode: true,
};

export default config;
