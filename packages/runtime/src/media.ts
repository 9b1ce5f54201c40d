import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';

const require = createRequire(import.meta.url);

function onPath(binary: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, binary);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

function bundled(pkg: string): string | undefined {
  try {
    return (require(pkg) as { path: string }).path;
  } catch {
    return undefined;
  }
}

function resolve(envName: string, binary: string, pkg: string): string {
  const found = process.env[envName] || onPath(binary) || bundled(pkg);
  if (!found)
    throw new Error(`${binary} not found: set ${envName}, install ${binary}, or npm install ${pkg}`);
  return found;
}

/** ffmpeg: FFMPEG_PATH, else the system binary on PATH, else the one shipped in @ffmpeg-installer/ffmpeg. */
export function ffmpegPath(): string {
  return resolve('FFMPEG_PATH', 'ffmpeg', '@ffmpeg-installer/ffmpeg');
}

/** ffprobe: FFPROBE_PATH, else the system binary on PATH, else the one shipped in @ffprobe-installer/ffprobe. */
export function ffprobePath(): string {
  return resolve('FFPROBE_PATH', 'ffprobe', '@ffprobe-installer/ffprobe');
}

export interface MediaBuild {
  /** `system` (ffmpeg on PATH, Debian's in the worker image) or `npm` (the @ffmpeg-installer binaries). */
  name: 'system' | 'npm';
  ffmpeg: string;
  ffprobe: string;
}

/** Every ffmpeg build the project supports that is installed here (tests run against each). */
export function mediaBuilds(): MediaBuild[] {
  const system = { ffmpeg: onPath('ffmpeg'), ffprobe: onPath('ffprobe') };
  const npm = { ffmpeg: bundled('@ffmpeg-installer/ffmpeg'), ffprobe: bundled('@ffprobe-installer/ffprobe') };
  const builds: MediaBuild[] = [];
  if (system.ffmpeg && system.ffprobe)
    builds.push({ name: 'system', ffmpeg: system.ffmpeg, ffprobe: system.ffprobe });
  if (npm.ffmpeg && npm.ffprobe) builds.push({ name: 'npm', ffmpeg: npm.ffmpeg, ffprobe: npm.ffprobe });
  return builds;
}
