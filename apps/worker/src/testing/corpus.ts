import { execFile } from 'node:child_process';
import { rename, rm, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { ffmpegPath } from '@thumbs/runtime';

const run = promisify(execFile);

/** Bits of the frame index each frame shows (as bands across its width): clips stay under 256 frames. */
export const CODE_BITS = 8;

/**
 * One shape of video a user can upload: how to make it with ffmpeg, and what its timeline is. Every frame
 * shows its own index N as CODE_BITS vertical bands (band b white when bit b of N is set).
 */
export interface Shape {
  name: string;
  /** The file name's extension (one of the supported ones). */
  ext: string;
  seconds: number;
  fps: number;
  size?: string;
  /** Encoder and muxer arguments. */
  encode: string[];
  /** Filters after the frame code (pixel format, timestamps). */
  filter?: string;
  /** Written to a pipe, so the muxer cannot go back to write a duration or index (live recorders). */
  piped?: string;
  /** Display rotation written when remuxing, as phones do; the thumbnail is upright. */
  rotate?: 90 | 180 | 270;
  /** Extra streams muxed in: cover art, or a second (smaller) video. */
  extra?: 'cover-art' | 'small-second-video' | 'small-default-video';
  /** Frame timestamps other than N/fps (variable frame rate): seconds of frame N. */
  frameTime?: (n: number) => number;
  /** The thumbnail's expected width × height (640 wide at most). */
  thumbnailSize?: [number, number];
}

const x264 = (...more: string[]) => ['-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '18', ...more];

/** Every shape the worker must read, by the devices and tools that write them. */
export const SHAPES: Shape[] = [
  { name: 'mp4 h264 (index at the end)', ext: '.mp4', seconds: 4, fps: 10, encode: x264('-g', '10') },
  { name: 'mp4 h264 faststart', ext: '.mp4', seconds: 4, fps: 10, encode: x264('-movflags', '+faststart') },
  {
    name: 'mp4 h264 29.97 fps (NTSC)',
    ext: '.mp4',
    seconds: 4.004,
    fps: 30000 / 1001,
    encode: x264('-g', '15'),
  },
  {
    name: 'mov h264 with B-frames',
    ext: '.mov',
    seconds: 4,
    fps: 25,
    encode: x264('-preset', 'medium', '-bf', '3'),
  },
  { name: 'mkv h264', ext: '.mkv', seconds: 4, fps: 10, encode: x264() },
  {
    name: 'webm vp8',
    ext: '.webm',
    seconds: 4,
    fps: 10,
    encode: ['-c:v', 'libvpx', '-b:v', '1M', '-deadline', 'realtime'],
  },
  {
    name: 'webm vp9',
    ext: '.webm',
    seconds: 3,
    fps: 10,
    encode: ['-c:v', 'libvpx-vp9', '-b:v', '1M', '-deadline', 'realtime', '-cpu-used', '8'],
  },
  {
    name: 'webm vp8 as browsers record it (no duration, no cues)',
    ext: '.webm',
    seconds: 4,
    fps: 30,
    encode: ['-c:v', 'libvpx', '-b:v', '1M', '-deadline', 'realtime'],
    piped: 'webm',
  },
  {
    name: 'mkv h264 streamed (no duration, no cues)',
    ext: '.mkv',
    seconds: 4,
    fps: 10,
    encode: x264(),
    piped: 'matroska',
  },
  {
    name: 'fragmented mp4 (screen recorders, DASH)',
    ext: '.mp4',
    seconds: 4,
    fps: 10,
    encode: x264('-movflags', 'frag_keyframe+empty_moov+default_base_moof'),
    piped: 'mp4',
  },
  {
    name: 'mpeg-ts h264, x264 default GOP (250)',
    ext: '.ts',
    seconds: 8,
    fps: 25,
    encode: x264('-g', '250'),
  },
  { name: 'mpeg-ts h264, 1 s GOP', ext: '.ts', seconds: 4, fps: 10, encode: x264() },
  {
    name: 'mpeg-ts mpeg2 (broadcast)',
    ext: '.ts',
    seconds: 4,
    fps: 25,
    encode: ['-c:v', 'mpeg2video', '-q:v', '2', '-g', '12'],
  },
  {
    name: 'mpeg-ts starting at 10 s (broadcast timeline)',
    ext: '.ts',
    seconds: 4,
    fps: 25,
    encode: x264('-g', '50', '-output_ts_offset', '10'),
  },
  { name: 'mp4 starting at 5 s', ext: '.mp4', seconds: 4, fps: 10, encode: x264('-output_ts_offset', '5') },
  { name: 'avi mpeg4 (cameras)', ext: '.avi', seconds: 4, fps: 10, encode: ['-c:v', 'mpeg4', '-q:v', '2'] },
  { name: 'avi mjpeg (cameras)', ext: '.avi', seconds: 3, fps: 10, encode: ['-c:v', 'mjpeg', '-q:v', '3'] },
  { name: 'wmv (asf, wmv2)', ext: '.wmv', seconds: 4, fps: 10, encode: ['-c:v', 'wmv2', '-q:v', '2'] },
  { name: 'flv (sorenson)', ext: '.flv', seconds: 4, fps: 10, encode: ['-c:v', 'flv', '-q:v', '2'] },
  { name: 'flv h264', ext: '.flv', seconds: 4, fps: 10, encode: x264() },
  { name: '3gp h264 (old phones)', ext: '.3gp', seconds: 4, fps: 15, size: '176x144', encode: x264() },
  {
    name: 'm4v mpeg4 part 2',
    ext: '.m4v',
    seconds: 4,
    fps: 10,
    encode: ['-c:v', 'mpeg4', '-q:v', '2', '-f', 'mp4'],
  },
  {
    name: 'mp4 hevc (phones)',
    ext: '.mp4',
    seconds: 3,
    fps: 10,
    encode: ['-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'log-level=error', '-tag:v', 'hvc1'],
  },
  {
    name: 'mp4 av1',
    ext: '.mp4',
    seconds: 2,
    fps: 10,
    encode: ['-c:v', 'libaom-av1', '-cpu-used', '8', '-crf', '30', '-row-mt', '1'],
  },
  {
    name: 'mov prores (editors)',
    ext: '.mov',
    seconds: 2,
    fps: 10,
    encode: ['-c:v', 'prores_ks', '-profile:v', '0'],
  },
  { name: 'mkv ffv1 (archives)', ext: '.mkv', seconds: 2, fps: 10, encode: ['-c:v', 'ffv1'] },
  {
    name: 'mp4 h264 10-bit',
    ext: '.mp4',
    seconds: 3,
    fps: 10,
    filter: 'format=yuv420p10le',
    encode: x264('-profile:v', 'high10'),
  },
  {
    name: 'mp4 hevc 10-bit HDR10 (PQ, BT.2020)',
    ext: '.mp4',
    seconds: 3,
    fps: 10,
    filter: 'format=yuv420p10le',
    encode: [
      ...['-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'log-level=error', '-tag:v', 'hvc1'],
      ...['-color_primaries', 'bt2020', '-color_trc', 'smpte2084', '-colorspace', 'bt2020nc'],
    ],
  },
  {
    name: 'mp4 long GOP (8 s) with B-frames',
    ext: '.mp4',
    seconds: 8,
    fps: 25,
    encode: x264('-g', '200', '-bf', '2'),
  },
  {
    name: 'mp4 rotated 90°',
    ext: '.mp4',
    seconds: 2,
    fps: 10,
    encode: x264(),
    rotate: 90,
    thumbnailSize: [240, 320],
  },
  { name: 'mp4 rotated 180°', ext: '.mp4', seconds: 2, fps: 10, encode: x264(), rotate: 180 },
  {
    name: 'mov rotated 270°',
    ext: '.mov',
    seconds: 2,
    fps: 10,
    encode: x264(),
    rotate: 270,
    thumbnailSize: [240, 320],
  },
  {
    name: 'mp4 anamorphic (SAR 2:1)',
    ext: '.mp4',
    seconds: 2,
    fps: 10,
    filter: 'setsar=2/1',
    encode: x264(),
    thumbnailSize: [640, 240],
  },
  {
    name: 'mp4 variable frame rate (10 fps, then 5 fps)',
    ext: '.mp4',
    seconds: 3,
    fps: 10,
    filter: "settb=1/1000,setpts='if(lt(N,20),N/10,2+(N-20)/5)/TB'",
    encode: x264('-fps_mode', 'vfr', '-enc_time_base', '1/1000'),
    frameTime: (n) => (n < 20 ? n / 10 : 2 + (n - 20) / 5),
  },
  { name: 'mp4 with cover art', ext: '.mp4', seconds: 3, fps: 10, encode: x264(), extra: 'cover-art' },
  {
    name: 'mkv with a smaller second video',
    ext: '.mkv',
    seconds: 3,
    fps: 10,
    encode: x264(),
    extra: 'small-second-video',
  },
  {
    name: 'mkv whose smaller video is the default stream',
    ext: '.mkv',
    seconds: 3,
    fps: 10,
    encode: x264(),
    extra: 'small-default-video',
    thumbnailSize: [160, 120],
  },
  { name: 'mp4 0.3 s clip', ext: '.mp4', seconds: 0.3, fps: 10, encode: x264() },
];

function codeFilter(): string {
  const lum = `if(mod(floor(N/pow(2,floor(X*${CODE_BITS}/W))),2),235,16)`;
  return `geq=lum='${lum}':cb=128:cr=128`;
}

function source(shape: Shape, size = shape.size ?? '320x240'): string[] {
  const chain = [codeFilter(), 'format=yuv420p', ...(shape.filter ? [shape.filter] : [])].join(',');
  return ['-f', 'lavfi', '-i', `nullsrc=s=${size}:r=${shape.fps}:d=${shape.seconds},${chain}`];
}

async function ffmpeg(args: string[]): Promise<void> {
  await run(ffmpegPath(), ['-v', 'error', '-y', ...args], { maxBuffer: 64 * 1024 * 1024 });
}

/** Writes the shape's file at `path` (with the shape's extension) using the machine's preferred ffmpeg. */
export async function makeShape(shape: Shape, path: string): Promise<void> {
  const plain = `${path}.plain${shape.ext === '.ts' ? '.ts' : '.mkv'}`;
  if (shape.piped) {
    const { stdout } = await run(
      ffmpegPath(),
      ['-v', 'error', ...source(shape), ...shape.encode, '-f', shape.piped, 'pipe:1'],
      { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 },
    );
    await writeFile(path, stdout);
  } else if (shape.extra === 'cover-art') {
    await ffmpeg([...source(shape), ...shape.encode, plain]);
    const cover = `${path}.cover.png`;
    await ffmpeg(['-f', 'lavfi', '-i', 'color=red:s=600x600', '-frames:v', '1', cover]);
    await ffmpeg([
      ...['-i', cover, '-i', plain, '-map', '0', '-map', '1', '-c', 'copy', '-c:v:0', 'png'],
      ...['-disposition:v:0', 'attached_pic', '-disposition:v:1', 'default', path],
    ]);
    await rm(cover);
  } else if (shape.extra) {
    // The second video's frames carry their index too, so either stream's frames read alike: only the
    // thumbnail's size tells which stream was chosen.
    const small = `${path}.small.mkv`;
    await ffmpeg([...source(shape), ...shape.encode, plain]);
    await ffmpeg([...source(shape, '160x120'), ...shape.encode, small]);
    const smallDefault = shape.extra === 'small-default-video';
    await ffmpeg([
      ...['-i', small, '-i', plain, '-map', '0:v', '-map', '1:v', '-c', 'copy'],
      ...['-disposition:v:0', smallDefault ? 'default' : '0', '-disposition:v:1', '0', path],
    ]);
    await rm(small);
  } else if (shape.rotate !== undefined) {
    // This ffmpeg writes the rotation (a display matrix) only when remuxing, like a phone's recording.
    await ffmpeg([...source(shape), ...shape.encode, path]);
    await rename(path, plain);
    await ffmpeg(['-i', plain, '-c', 'copy', '-metadata:s:v:0', `rotate=${shape.rotate}`, path]);
  } else {
    await ffmpeg([...source(shape), ...shape.encode, path]);
  }
  await rm(plain, { force: true });
}

/**
 * The index of the frame on screen at each fraction of the shape's timeline (never past the last). How long
 * the last frame of a variable-rate stream lasts is the muxer's guess: pass the duration it declared.
 */
export function expectedFrames(shape: Shape, fractions: readonly number[], declared?: number): number[] {
  const count = Math.round(shape.seconds * shape.fps);
  const time = shape.frameTime ?? ((n: number) => n / shape.fps);
  const end = (shape.frameTime && declared) || count / shape.fps;
  return fractions.map((fraction) => {
    const at = fraction * end;
    let frame = 0;
    while (frame + 1 < count && time(frame + 1) <= at + 1e-9) frame++;
    return frame;
  });
}

/**
 * Reads the frame index from a thumbnail's gray pixels, along the bands as the shape's rotation left them:
 * ffmpeg's display matrix rotates counter-clockwise, so after 90° the first band lies at the bottom.
 */
export function readCode(
  { gray, width, height }: { gray: Buffer; width: number; height: number },
  rotate: Shape['rotate'],
): number {
  let n = 0;
  for (let bit = 0; bit < CODE_BITS; bit++) {
    const along = (bit + 0.5) / CODE_BITS;
    const [x, y] =
      rotate === 90
        ? [width / 2, (1 - along) * height]
        : rotate === 270
          ? [width / 2, along * height]
          : rotate === 180
            ? [(1 - along) * width, height / 2]
            : [along * width, height / 2];
    const value = gray[Math.floor(y) * width + Math.floor(x)] ?? 0;
    if (value > 128) n |= 1 << bit;
  }
  return n;
}

/**
 * The largest difference between colour channels over the picture's middle row: the corpus is gray
 * throughout, so anything above a few levels is a colour cast (the green or pink of a mishandled 10-bit
 * or HDR picture).
 */
export async function colourCast(path: string, width: number, height: number): Promise<number> {
  const { stdout } = await run(
    ffmpegPath(),
    ['-v', 'error', '-i', path, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
    { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 },
  );
  let cast = 0;
  const row = Math.floor(height / 2) * width * 3;
  for (let x = 0; x < width; x++) {
    const [r = 0, g = 0, b = 0] = stdout.subarray(row + x * 3, row + x * 3 + 3);
    cast = Math.max(cast, Math.abs(r - g), Math.abs(g - b), Math.abs(r - b));
  }
  return cast;
}
