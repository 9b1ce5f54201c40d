import { execFile } from 'node:child_process';
import { rename, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { ffmpegPath, ffprobePath } from '@thumbs/runtime';

const run = promisify(execFile);

const BITS = 8;

/**
 * A clip whose frames carry their own index: frame N shows N in binary as eight vertical bands
 * (band b is white when bit b of N is set), which survives lossy coding, scaling and JPEG.
 */
export async function makeNumberedClip(
  path: string,
  {
    seconds,
    fps = 10,
    size = '320x240',
    rotate,
    extra = [] as string[],
  }: { seconds: number; fps?: number; size?: string; rotate?: number; extra?: string[] },
): Promise<void> {
  const lum = `if(mod(floor(N/pow(2,floor(X*${BITS}/W))),2),235,16)`;
  await run(ffmpegPath(), [
    ...['-v', 'error', '-y', '-f', 'lavfi', '-i', `nullsrc=s=${size}:r=${fps}:d=${seconds}`],
    ...['-vf', `geq=lum='${lum}':cb=128:cr=128,format=yuv420p`],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '18', '-g', String(fps)],
    ...extra,
    path,
  ]);
  // This ffmpeg writes the rotation (a display matrix) only when remuxing, like a phone's recording.
  if (rotate !== undefined) {
    const plain = `${path}.plain.mp4`;
    await rename(path, plain);
    await run(ffmpegPath(), [
      '-v',
      'error',
      '-y',
      '-i',
      plain,
      '-c',
      'copy',
      '-metadata:s:v:0',
      `rotate=${rotate}`,
      path,
    ]);
    await rm(plain);
  }
}

/** Reads back the frame index (its low 8 bits) drawn by makeNumberedClip from a decoded gray image. */
export function readFrameNumber({
  gray,
  width,
  height,
}: {
  gray: Buffer;
  width: number;
  height: number;
}): number {
  let n = 0;
  for (let bit = 0; bit < BITS; bit++) {
    const x = Math.round(((bit + 0.5) * width) / BITS);
    const value = gray[Math.floor(height / 2) * width + x] ?? 0;
    if (value > 128) n |= 1 << bit;
  }
  return n;
}

/** Decodes an image (any format ffmpeg reads) to 8-bit gray pixels and its dimensions. */
export async function decodeGray(path: string): Promise<{ gray: Buffer; width: number; height: number }> {
  const { stdout: size } = await run(ffprobePath(), [
    ...[
      '-v',
      'error',
      '-select_streams',
      'v:0',
      '-show_entries',
      'stream=width,height',
      '-of',
      'csv=p=0',
      path,
    ],
  ]);
  const [width = 0, height = 0] = size.trim().split(',').map(Number);
  const { stdout } = await run(
    ffmpegPath(),
    ['-v', 'error', '-i', path, '-f', 'rawvideo', '-pix_fmt', 'gray', '-'],
    {
      encoding: 'buffer',
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  return { gray: stdout, width, height };
}

/** A generic test clip from lavfi `testsrc`, optionally filtered (`filter`), with extra output arguments. */
export async function makeTestClip(
  path: string,
  { seconds = 2, size = '320x240', fps = 10, filter = '', extra = [] as string[] } = {},
): Promise<void> {
  const source = `testsrc=s=${size}:r=${fps}:d=${seconds}${filter ? `,${filter}` : ''}`;
  await run(ffmpegPath(), [
    ...['-v', 'error', '-y', '-f', 'lavfi', '-i', source],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'],
    ...extra,
    path,
  ]);
}

/** An audio-only file: valid media, but no video stream. */
export async function makeAudioOnly(path: string): Promise<void> {
  await run(ffmpegPath(), ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'sine=d=1', '-c:a', 'aac', path]);
}

/**
 * A large video made fast: 10 s of noisy 640x360 at 25 fps (~2.3 MB/s, like phone video) encoded once,
 * then repeated `repeats` times without re-encoding. A keyframe every `gopSeconds` (1, 2, 5 or 10, so that
 * keyframes stay evenly spaced across the repeats); the index (moov) at the front unless `moovAtEnd`.
 */
export async function makeLargeClip(
  path: string,
  {
    repeats,
    gopSeconds = 1,
    moovAtEnd = false,
  }: { repeats: number; gopSeconds?: number; moovAtEnd?: boolean },
): Promise<void> {
  const segment = `${path}.segment.mp4`;
  await run(ffmpegPath(), [
    ...['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=s=640x360:r=25:d=10,noise=alls=30:allf=t'],
    ...['-c:v', 'mpeg4', '-q:v', '2', '-g', String(25 * gopSeconds), segment],
  ]);
  await run(ffmpegPath(), [
    ...['-v', 'error', '-y', '-stream_loop', String(repeats - 1), '-i', segment, '-c', 'copy'],
    ...(moovAtEnd ? [] : ['-movflags', '+faststart']),
    path,
  ]);
  await rm(segment);
}
