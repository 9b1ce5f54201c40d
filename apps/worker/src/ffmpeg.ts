import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import ffmpeg from 'fluent-ffmpeg';
import { ffmpegPath, ffprobePath } from '@thumbs/runtime';

ffmpeg.setFfmpegPath(ffmpegPath());
ffmpeg.setFfprobePath(ffprobePath());

/** A problem with the video itself (unreadable, no video stream, no frames): retrying will not help. */
export class MediaError extends Error {
  override name = 'MediaError';
}

export interface VideoProbe {
  /** Seconds from the start of the file (what `-ss` counts from) to the first video frame. */
  videoStart: number;
  /** Duration of the video stream in seconds. */
  duration: number;
  /** Seconds from the start of the file to the last video frame. */
  lastFrameTime: number;
  /** Seconds per frame (from the average frame rate). */
  frameDuration: number;
  width: number;
  height: number;
  codec: string;
  /** False for containers without a seek index (MPEG-TS/PS), where an input seek can overshoot its target. */
  indexed: boolean;
}

interface ProbeStream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  start_time?: string;
  duration?: string;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  disposition?: { attached_pic?: number };
}

interface ProbeOutput {
  streams?: ProbeStream[];
  format?: { start_time?: string; duration?: string; format_name?: string };
}

export interface MediaOptions {
  /** The name used in error messages instead of the (presigned, secret-bearing) input URL. */
  name: string;
  signal?: AbortSignal;
  timeoutMs: number;
}

function seconds(value: string | undefined): number | undefined {
  const parsed = value === undefined ? NaN : Number(value);
  return Number.isFinite(parsed) ? parsed : undefined;
}

function frameRate(value: string | undefined): number | undefined {
  const [num, den] = (value ?? '').split('/').map(Number);
  return num && den ? num / den : undefined;
}

/** ffmpeg's notes on re-requesting the rest of a file over HTTP: routine with the range relay, never the cause. */
const RECONNECT_NOISE = /Will reconnect at|Stream ends prematurely/;

function lastLine(text: string, input: string, name: string): string {
  const lines = text
    .replaceAll(input, name)
    .split('\n')
    .filter((line) => line.trim() && !RECONNECT_NOISE.test(line));
  return lines.at(-1)?.trim() || 'no error output';
}

/**
 * Input options for reading over HTTP: when a response ends before the end of the file (the range relay
 * answers in bounded windows), ask again from the current offset at once instead of treating it as the end.
 */
export function networkInputOptions(input: string): string[] {
  return /^https?:\/\//i.test(input) ? ['-reconnect', '1'] : [];
}

/** Reads the video's streams and durations (ffprobe JSON). Only the container header and index are fetched. */
export async function probeVideo(input: string, options: MediaOptions): Promise<VideoProbe> {
  const args = [
    ...['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams'],
    ...networkInputOptions(input),
    input,
  ];
  const output = await new Promise<string>((resolve, reject) => {
    execFile(
      ffprobePath(),
      args,
      // The statically linked ffprobe shipped on npm crashes loading the system's iconv modules when it reads
      // MPEG-TS service names; without GCONV_PATH it skips the conversion. Harmless for a system ffprobe.
      {
        timeout: options.timeoutMs,
        maxBuffer: 16 * 1024 * 1024,
        signal: options.signal,
        env: { ...process.env, GCONV_PATH: '/nonexistent' },
      },
      (error, stdout, stderr) => {
        if (options.signal?.aborted) reject(options.signal.reason);
        else if (error)
          reject(
            new MediaError(
              `ffprobe could not read ${options.name}: ${lastLine(stderr, input, options.name)}`,
            ),
          );
        else resolve(stdout);
      },
    );
  });
  const parsed = JSON.parse(output) as ProbeOutput;
  const video = parsed.streams?.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  if (!video) throw new MediaError(`no video stream in ${options.name}`);
  const formatStart = seconds(parsed.format?.start_time) ?? 0;
  const videoStart = Math.max(0, (seconds(video.start_time) ?? formatStart) - formatStart);
  const duration = seconds(video.duration) ?? (seconds(parsed.format?.duration) ?? NaN) - videoStart;
  if (!Number.isFinite(duration) || duration <= 0) {
    throw new MediaError(`could not determine the duration of ${options.name}`);
  }
  const frameDuration = 1 / (frameRate(video.avg_frame_rate) ?? frameRate(video.r_frame_rate) ?? 25);
  return {
    videoStart,
    duration,
    lastFrameTime: videoStart + Math.max(0, duration - frameDuration),
    frameDuration,
    width: video.width ?? 0,
    height: video.height ?? 0,
    codec: video.codec_name ?? 'unknown',
    indexed: !/^mpeg(ts)?$/.test(parsed.format?.format_name ?? ''),
  };
}

/**
 * Where to seek for each fraction of the duration: to the frame on screen at that moment, never past the
 * last frame. Input seeking outputs the first frame at or after the seek point, so aim a quarter frame
 * early to be safe from rounding.
 */
export function seekTimes(probe: VideoProbe, fractions: readonly number[]): number[] {
  const { videoStart, duration, lastFrameTime, frameDuration } = probe;
  return fractions.map((fraction) => {
    const time = Math.min(videoStart + fraction * duration, lastFrameTime);
    const onScreen = videoStart + Math.floor((time - videoStart) / frameDuration + 1e-6) * frameDuration;
    return Math.max(0, onScreen - frameDuration / 4);
  });
}

export interface ExtractOptions extends MediaOptions {
  maxWidth: number;
  /** ffmpeg's JPEG quality scale: 2 (best) … 31. */
  quality: number;
  /** The container has no seek index (VideoProbe.indexed false). */
  unindexed?: boolean;
}

/** Seconds to seek short of the target in unindexed containers; keyframes are rarely further apart. */
const UNINDEXED_SEEK_MARGIN = 3;

/** Upright (ffmpeg autorotates), square pixels, at most maxWidth wide, even dimensions. */
function thumbnailFilter(maxWidth: number): string {
  return `scale=w='min(${maxWidth},trunc(iw*sar/2)*2)':h='trunc(ow/dar/2)*2',setsar=1`;
}

function run(command: ffmpeg.FfmpegCommand, input: string, options: MediaOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const abort = () => command.kill('SIGKILL');
    options.signal?.addEventListener('abort', abort, { once: true });
    command
      .on('error', (error: Error, _stdout: string | null, stderr: string | null) => {
        options.signal?.removeEventListener('abort', abort);
        if (options.signal?.aborted) return reject(options.signal.reason);
        const detail = stderr
          ? lastLine(stderr, input, options.name)
          : error.message.replaceAll(input, options.name);
        reject(new MediaError(`ffmpeg could not extract frames from ${options.name}: ${detail}`));
      })
      .on('end', () => {
        options.signal?.removeEventListener('abort', abort);
        resolve();
      })
      .run();
  });
}

async function hasImage(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.size > 0,
    () => false,
  );
}

/**
 * Writes one JPEG per seek time. One ffmpeg process opens the input once per seek point (`-ss T -i input`),
 * so over HTTP it fetches only the index and the bytes from the keyframe before each point; input seeking
 * decodes up to the exact frame.
 */
export async function extractFrames(
  input: string,
  times: readonly number[],
  outputs: readonly string[],
  options: ExtractOptions,
): Promise<void> {
  const command = ffmpeg({ timeout: options.timeoutMs / 1000 });
  // Without an index, ffmpeg's input seek may land on the keyframe after the target: seek earlier, then decode
  // the rest of the way (output seek).
  const inputSeeks = times.map((time) => Math.max(0, time - (options.unindexed ? UNINDEXED_SEEK_MARGIN : 0)));
  // ffmpeg reads each of several inputs on its own thread, by default 8 packets ahead of the decoder: at high
  // bitrates, megabytes fetched past the frame each input stops at. One packet ahead keeps the decoder fed.
  for (const seek of inputSeeks) {
    command
      .input(input)
      .inputOptions([...networkInputOptions(input), '-thread_queue_size', '1', '-ss', seek.toFixed(3)]);
  }
  outputs.forEach((output, index) => {
    const decodeOn = (times[index] ?? 0) - (inputSeeks[index] ?? 0);
    command
      .output(output)
      .outputOptions(decodeOn > 0 ? ['-ss', decodeOn.toFixed(3)] : [])
      .outputOptions(['-map', `${index}:v:0`, '-frames:v', '1', '-vf', thumbnailFilter(options.maxWidth)])
      .outputOptions(['-q:v', String(options.quality), '-f', 'image2', '-y']);
  });
  await run(command, input, options);
  for (const output of outputs) {
    if (!(await hasImage(output))) await extractLastFrame(input, output, options);
  }
}

/**
 * Fallback when a seek point yields no frame because it lies past the last decodable frame (headers can
 * overstate durations): decode the last seconds of the file and keep its last frame.
 */
async function extractLastFrame(input: string, output: string, options: ExtractOptions): Promise<void> {
  const command = ffmpeg({ timeout: options.timeoutMs / 1000 })
    .input(input)
    .inputOptions([...networkInputOptions(input), '-sseof', '-3'])
    .output(output)
    .outputOptions(['-map', '0:v:0', '-vf', thumbnailFilter(options.maxWidth)])
    .outputOptions(['-q:v', String(options.quality), '-f', 'image2', '-update', '1', '-y']);
  await run(command, input, options);
  if (!(await hasImage(output))) throw new MediaError(`ffmpeg found no frame to extract in ${options.name}`);
}
