/**
 * The videos the bench runs on, generated with ffmpeg's synthetic (lavfi) sources the first time and cached
 * under .data/bench/. Large videos are a short noisy segment looped with stream copy: the same bytes an
 * hour of encoding would give for this purpose (even bitrate, chosen keyframe interval), in seconds.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ffmpegPath } from '@thumbs/runtime';

export interface Input {
  name: string;
  path: string;
  bytes: number;
  seconds: number;
  description: string;
}

type Say = (line: string) => void;

/** Runs ffmpeg, printing how far it is every few seconds (it can take minutes). */
function ffmpeg(args: string[], label: string, seconds: number, say: Say): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpegPath(), ['-v', 'error', '-y', '-progress', 'pipe:1', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let lastReport = Date.now();
    const started = Date.now();
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      const match = /out_time_ms=(\d+)/.exec(chunk.toString());
      if (!match || Date.now() - lastReport < 5000) return;
      lastReport = Date.now();
      const done = Number(match[1]) / 1e6 / seconds;
      say(
        `  ${label}: ${Math.min(100, done * 100).toFixed(0)} % (${((Date.now() - started) / 1000).toFixed(0)} s)`,
      );
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`ffmpeg failed for ${label}: ${stderr.trim().split('\n').at(-1)}`)),
    );
  });
}

/** Makes `path` with `make(partialPath)` unless it exists; a crash never leaves a truncated file behind. */
async function cached(path: string, say: Say, make: (partial: string) => Promise<void>): Promise<void> {
  if (existsSync(path)) return;
  const partial = join(path, '..', `.partial-${path.split('/').at(-1)}`);
  const started = Date.now();
  say(`generating ${path} …`);
  await make(partial);
  renameSync(partial, path);
  say(
    `  done: ${(statSync(path).size / 1e6).toFixed(0)} MB in ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
}

function input(path: string, seconds: number, description: string): Input {
  return { name: path.split('/').at(-1) ?? path, path, bytes: statSync(path).size, seconds, description };
}

const x264 = (gop: number) => [
  '-c:v',
  'libx264',
  '-pix_fmt',
  'yuv420p',
  '-g',
  String(gop),
  '-sc_threshold',
  '0',
];

/** 60 s of 1080p25 H.264 with a keyframe every 10 s, index (moov) at the front. */
export async function sixtySecondClip(dir: string, say: Say): Promise<Input> {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'clip-60s-1080p-gop10s.mp4');
  await cached(path, say, (partial) =>
    ffmpeg(
      [
        ...['-f', 'lavfi', '-i', 'testsrc2=s=1920x1080:r=25:d=60'],
        ...x264(250),
        ...['-preset', 'veryfast', '-crf', '23', '-movflags', '+faststart', '-f', 'mp4', partial],
      ],
      'clip 60 s 1080p',
      60,
      say,
    ),
  );
  return input(path, 60, '60 s 1080p25 H.264, 10 s GOP, moov first');
}

export interface LargeOptions {
  /** Keyframe interval in seconds. */
  gopSeconds: number;
  /** How many times the 10 s segment plays. */
  loops: number;
  /** Index (moov) at the front, as uploads made for streaming have; else at the end, as cameras write. */
  faststart: boolean;
}

/** 1080p25 H.264 at ~60 Mbit/s (noisy, so the bitrate is real): 10 s segments looped, ~80 MB per segment. */
export async function largeVideo(dir: string, options: LargeOptions, say: Say): Promise<Input> {
  mkdirSync(dir, { recursive: true });
  const { gopSeconds, loops, faststart } = options;
  const segment = join(dir, `segment-10s-1080p-60M-gop${gopSeconds}s.mp4`);
  await cached(segment, say, (partial) =>
    ffmpeg(
      [
        ...['-f', 'lavfi', '-i', 'testsrc2=s=1920x1080:r=25:d=10,noise=alls=12:allf=t'],
        ...x264(25 * gopSeconds),
        ...[
          '-preset',
          'ultrafast',
          '-b:v',
          '60M',
          '-maxrate',
          '60M',
          '-bufsize',
          '120M',
          '-f',
          'mp4',
          partial,
        ],
      ],
      `segment (${gopSeconds} s GOP)`,
      10,
      say,
    ),
  );
  const seconds = 10 * loops;
  const layout = faststart ? 'moov-first' : 'moov-last';
  const path = join(dir, `large-${seconds}s-1080p-60M-gop${gopSeconds}s-${layout}.mp4`);
  await cached(path, say, (partial) =>
    ffmpeg(
      [
        ...['-stream_loop', String(loops - 1), '-i', segment, '-c', 'copy'],
        ...(faststart ? ['-movflags', '+faststart'] : []),
        ...['-f', 'mp4', partial],
      ],
      `large video ${seconds} s`,
      seconds,
      say,
    ),
  );
  return input(
    path,
    seconds,
    `${seconds} s 1080p25 H.264 ~60 Mbit/s, ${gopSeconds} s GOP, moov ${faststart ? 'first' : 'last'}`,
  );
}

/** A short clip like the dashboard's uploads: 4 s of 640x360, one keyframe per second. */
export async function shortClip(dir: string, say: Say): Promise<Input> {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'short-4s-360p.mp4');
  await cached(path, say, (partial) =>
    ffmpeg(
      [
        ...['-f', 'lavfi', '-i', 'testsrc2=s=640x360:r=25:d=4'],
        ...x264(25),
        ...['-preset', 'veryfast', '-crf', '26', '-movflags', '+faststart', '-f', 'mp4', partial],
      ],
      'short clip',
      4,
      say,
    ),
  );
  return input(path, 4, '4 s 640x360 H.264, 1 s GOP');
}
