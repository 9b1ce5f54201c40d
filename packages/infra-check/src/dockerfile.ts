import { existsSync } from 'node:fs';
import { listFiles, repoPath } from './repo.ts';

export interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

/** Dockerfile instructions, with continuation lines joined and comments dropped. */
export function parseDockerfile(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let pending = '';
  let start = 0;
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) return;
    if (pending === '') start = index + 1;
    pending += line.endsWith('\\') ? `${line.slice(0, -1)} ` : line;
    if (line.endsWith('\\')) return;
    const [keyword = '', ...rest] = pending.split(/\s+/);
    instructions.push({ keyword: keyword.toUpperCase(), args: rest.join(' '), line: start });
    pending = '';
  });
  return instructions;
}

/** Workspace manifests that `npm ci` needs to see (every workspace that has a package.json). */
export function workspaceManifests(): string[] {
  return [
    ...listFiles('apps', (n) => n === 'package.json'),
    ...listFiles('packages', (n) => n === 'package.json'),
  ].filter((file) => file.split('/').length === 3);
}

/** Problems of one app's Dockerfile against what the image must be. */
export function dockerfileProblems(text: string, app: 'api' | 'worker' | 'web'): string[] {
  const problems: string[] = [];
  const instructions = parseDockerfile(text);
  const stages = instructions.filter((i) => i.keyword === 'FROM');
  if (stages.length < 2) problems.push('not a multi-stage build');
  const lastFrom = instructions.lastIndexOf(stages[stages.length - 1]!);
  const runtime = instructions.slice(lastFrom);
  const base = stages[stages.length - 1]?.args.split(/\s+/)[0] ?? '';
  if (!/^node:24[.\d]*-(bookworm|trixie)-slim$/.test(base))
    problems.push(`runtime base ${base} is not a Node 24 slim image`);

  const users = runtime.filter((i) => i.keyword === 'USER').map((i) => i.args);
  const user = users[users.length - 1];
  if (!user || user === 'root' || user === '0') problems.push('runtime stage runs as root');
  if (!runtime.some((i) => i.keyword === 'HEALTHCHECK' && !/^NONE\b/i.test(i.args)))
    problems.push('no HEALTHCHECK');
  const cmd = runtime.find((i) => i.keyword === 'CMD');
  if (!cmd) problems.push('no CMD');

  const copied = new Set(
    instructions
      .filter((i) => i.keyword === 'COPY' && !i.args.includes('--from'))
      .flatMap((i) =>
        i.args
          .split(/\s+/)
          .filter((a) => !a.startsWith('--'))
          .slice(0, -1),
      ),
  );
  for (const source of copied)
    if (!existsSync(repoPath(source))) problems.push(`COPY ${source}: no such path`);
  for (const manifest of workspaceManifests()) {
    if (!copied.has(manifest)) problems.push(`${manifest} is not copied before npm ci`);
  }

  const workdirs = runtime.filter((i) => i.keyword === 'WORKDIR').map((i) => i.args);
  const workdir = workdirs[workdirs.length - 1] ?? '/';
  if (app === 'web') {
    if (!cmd?.args.includes('apps/web/server.js')) problems.push('web does not start the standalone server');
  } else {
    if (cmd?.args !== '["node", "src/main.ts"]')
      problems.push(`CMD is ${cmd?.args}, expected ["node", "src/main.ts"]`);
    if (workdir !== `/app/apps/${app}`) problems.push(`WORKDIR is ${workdir}, expected /app/apps/${app}`);
    if (!existsSync(repoPath('apps', app, 'src/main.ts')))
      problems.push(`apps/${app}/src/main.ts does not exist`);
    if (
      !instructions.some(
        (i) => i.keyword === 'RUN' && i.args.includes(`--omit=dev`) && i.args.includes(`@thumbs/${app}`),
      )
    ) {
      problems.push(`no production-only npm ci of @thumbs/${app}`);
    }
  }
  // @thumbs/runtime falls back to the npm installers' ffmpeg for development machines; an image has no use
  // for their ~140 MB of GPL binaries (the worker runs Debian's ffmpeg, the API runs none).
  const dropsNpmFfmpeg = instructions.some(
    (i) =>
      i.keyword === 'RUN' &&
      /\brm -rf\b[^&;]*node_modules\/@ffmpeg-installer\b/.test(i.args) &&
      /\brm -rf\b[^&;]*node_modules\/@ffprobe-installer\b/.test(i.args),
  );
  if (app !== 'web' && !dropsNpmFfmpeg)
    problems.push(`the ${app} image ships the npm ffmpeg/ffprobe installer binaries`);
  const installsFfmpeg = runtime.some(
    (i) => i.keyword === 'RUN' && /apt-get install .*\bffmpeg\b/.test(i.args),
  );
  if (app === 'worker' && !installsFfmpeg) problems.push('the worker image does not install ffmpeg');
  if (app !== 'worker' && installsFfmpeg) problems.push(`the ${app} image installs ffmpeg it does not use`);
  return problems;
}
