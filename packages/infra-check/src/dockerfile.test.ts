import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dockerfileProblems, workspaceManifests } from './dockerfile.ts';
import { repoPath } from './repo.ts';

const APPS = ['api', 'worker', 'web'] as const;
const dockerfile = (app: string) => readFileSync(repoPath('apps', app, 'Dockerfile'), 'utf8');

describe('Dockerfiles', () => {
  it.each(APPS)('apps/%s/Dockerfile: multi-stage, Node 24 slim, non-root, health check', (app) => {
    expect(dockerfileProblems(dockerfile(app), app)).toEqual([]);
  });

  it('knows the workspaces', () => {
    expect(workspaceManifests()).toEqual(
      expect.arrayContaining(['apps/api/package.json', 'packages/model/package.json']),
    );
  });

  it('catches an image that runs as root, has no health check, or misses a workspace', () => {
    const broken = dockerfile('api')
      .replace(/^USER node\n/m, '')
      .replace(/^HEALTHCHECK[^\n]*\\\n[^\n]*\n/m, '')
      .replace(/^COPY packages\/model\/package.json[^\n]*\n/m, '');
    expect(dockerfileProblems(broken, 'api')).toEqual([
      'runtime stage runs as root',
      'no HEALTHCHECK',
      'packages/model/package.json is not copied before npm ci',
    ]);
  });

  it('catches a worker without ffmpeg and a wrong entry point', () => {
    const broken = dockerfile('worker')
      .replace(/apt-get install -y --no-install-recommends [^\n]*ffmpeg[^\n]*/, 'apt-get install -y curl')
      .replace('CMD ["node", "src/main.ts"]', 'CMD ["node", "src/index.ts"]');
    expect(dockerfileProblems(broken, 'worker')).toEqual([
      'CMD is ["node", "src/index.ts"], expected ["node", "src/main.ts"]',
      'the worker image does not install ffmpeg',
    ]);
  });

  it('catches an image that keeps the npm ffmpeg binaries', () => {
    const broken = dockerfile('api').replace(
      / \\\n {2}&& rm -rf node_modules\/@ffmpeg-installer node_modules\/@ffprobe-installer/,
      '',
    );
    expect(dockerfileProblems(broken, 'api')).toEqual([
      'the api image ships the npm ffmpeg/ffprobe installer binaries',
    ]);
  });

  it('web: Next.js standalone output is what the image runs', () => {
    expect(readFileSync(repoPath('apps/web/next.config.ts'), 'utf8')).toMatch(/output: 'standalone'/);
    expect(dockerfile('web')).toContain('/app/apps/web/.next/standalone');
  });

  it('.dockerignore keeps node_modules, git and tests out of the build context', () => {
    const ignored = readFileSync(repoPath('.dockerignore'), 'utf8').split('\n');
    expect(ignored).toEqual(
      expect.arrayContaining(['.git', '**/node_modules', '**/*.test.ts', '**/.next', '.data']),
    );
  });
});
