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
