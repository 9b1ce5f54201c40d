import { stat } from 'node:fs/promises';
import { jobError } from './failure.ts';
import { inputOptions, limitsOf, runTool, toolsOf, type MediaOptions } from './media-tool.ts';

export { inputOptions, type MediaOptions } from './media-tool.ts';

export interface VideoProbe {
  /** The chosen video stream's index in the file (what `-map 0:N` and `-select_streams N` name). */
  streamIndex: number;
  /** The file's start timestamp in seconds: what `-ss 0` means, and what packet timestamps count from. */
  formatStart: number;
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
  /** Frames not evenly spaced (the average rate differs from the base rate): seek by frame timestamps. */
  variableRate: boolean;
  /** HDR transfer (PQ or HLG): tone-mapped to SDR for the thumbnail. */
  hdr: boolean;
  /** False for containers without a seek index (MPEG-TS/PS), where an input seek lands on any packet. */
  indexed: boolean;
}

interface ProbeStream {
  index: number;
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  start_time?: string;
  duration?: string;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  color_transfer?: string;
  disposition?: { attached_pic?: number; default?: number };
  tags?: Record<string, string>;
}

interface ProbeOutput {
  streams?: ProbeStream[];
  format?: { start_time?: string; duration?: string; format_name?: string };
}

function seconds(value: string | undefined): number | undefined {
  const parsed = value === undefined ? NaN : Number(value);
  return Number.isFinite(parsed) ? parsed : undefined;
}

/** Matroska's per-stream `DURATION` tag (`HH:MM:SS.nnnnnnnnn`), which ffmpeg writes instead of a duration. */
function tagSeconds(value: string | undefined): number | undefined {
  const match = /^(\d+):(\d+):(\d+(?:\.\d+)?)$/.exec(value ?? '');
  return match ? Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3]) : undefined;
}

function frameRate(value: string | undefined): number | undefined {
  const [num, den] = (value ?? '').split('/').map(Number);
  return num && den ? num / den : undefined;
}

/** The real video: not cover art; the default stream if one is marked, else the largest picture. */
function chooseVideo(streams: ProbeStream[]): ProbeStream | undefined {
  const videos = streams.filter((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  const area = (s: ProbeStream) => (s.width ?? 0) * (s.height ?? 0);
  const byDefaultThenSize = (a: ProbeStream, b: ProbeStream) =>
    (b.disposition?.default ?? 0) - (a.disposition?.default ?? 0) || area(b) - area(a);
  return videos.sort(byDefaultThenSize)[0];
}

function probeTool(input: string, options: MediaOptions, args: string[]): Promise<string> {
  return runTool(toolsOf(options).ffprobe, ['-v', 'error', ...inputOptions(input), ...args, input], {
    ...options,
    what: 'ffprobe could not read',
    input,
    fallbackKind: 'corrupt',
  });
}

/** Timestamps (file time, seconds) and keyframe flags of a stream's packets, as ffprobe lists them. */
async function listPackets(
  input: string,
  stream: number,
  options: MediaOptions,
  interval: string,
): Promise<{ time: number; end: number; key: boolean }[]> {
  const csv = await probeTool(input, options, [
    ...['-select_streams', String(stream), '-read_intervals', interval],
    ...['-show_entries', 'packet=pts_time,dts_time,duration_time,flags', '-of', 'csv=p=0'],
  ]);
  return csv
    .split('\n')
    .map((line) => line.split(','))
    .flatMap(([pts, dts, duration, flags]) => {
      const time = seconds(pts) ?? seconds(dts);
      return time === undefined
        ? []
        : [{ time, end: time + (seconds(duration) ?? 0), key: !!flags?.includes('K') }];
    });
}

/**
 * The duration when the header has none (live-recorded WebM/Matroska as browsers write it): from the
 * stream's own last packet. Reads packets without decoding them, at most `maxFrames` of them.
 */
async function scanDuration(
  input: string,
  stream: number,
  options: MediaOptions,
): Promise<{ end: number; packets: number }> {
  const { maxFrames } = limitsOf(options);
  const packets = await listPackets(input, stream, options, `%+#${maxFrames + 1}`);
  if (packets.length > maxFrames)
    throw jobError('too-large', `${options.name} has more than ${maxFrames} frames (the limit per video)`);
  return { end: Math.max(...packets.map((p) => p.end)), packets: packets.length };
}

/** Reads the video's streams and durations (ffprobe JSON). Only the container header and index are fetched. */
export async function probeVideo(input: string, options: MediaOptions): Promise<VideoProbe> {
  const output = await probeTool(input, options, ['-print_format', 'json', '-show_format', '-show_streams']);
  const parsed = JSON.parse(output) as ProbeOutput;
  const video = chooseVideo(parsed.streams ?? []);
  if (!video) throw jobError('no-video-stream', `no video stream in ${options.name}`);
  if (!video.codec_name || video.codec_name === 'none')
    throw jobError('unsupported-codec', `the video codec of ${options.name} is not one ffmpeg knows`);
  const width = video.width ?? 0;
  const height = video.height ?? 0;
  const { maxPixels } = limitsOf(options);
  if (width * height > maxPixels) {
    throw jobError(
      'too-large',
      `${options.name} is ${width}×${height}, over the limit of ${(maxPixels / 1e6).toFixed(1)} megapixels`,
    );
  }
  const formatStart = seconds(parsed.format?.start_time) ?? 0;
  const streamStart = seconds(video.start_time) ?? formatStart;
  const videoStart = Math.max(0, streamStart - formatStart);
  let rate = frameRate(video.avg_frame_rate) ?? frameRate(video.r_frame_rate);
  let duration =
    seconds(video.duration) ??
    tagSeconds(video.tags?.DURATION) ??
    (seconds(parsed.format?.duration) ?? NaN) - videoStart;
  if (!Number.isFinite(duration) || duration <= 0) {
    const scan = await scanDuration(input, video.index, options);
    duration = scan.end - streamStart;
    // Recorders often declare only a millisecond time base: count the frames instead.
    if (!frameRate(video.avg_frame_rate) && duration > 0) rate = scan.packets / duration;
  }
  if (!Number.isFinite(duration) || duration <= 0) {
    throw jobError('corrupt', `could not determine the duration of ${options.name}`);
  }
  const frameDuration = 1 / (rate ?? 25);
  return {
    streamIndex: video.index,
    formatStart,
    videoStart,
    duration,
    lastFrameTime: videoStart + Math.max(0, duration - frameDuration),
    frameDuration,
    width,
    height,
    codec: video.codec_name,
    variableRate: frameRate(video.avg_frame_rate) !== frameRate(video.r_frame_rate),
    hdr: /^(smpte2084|arib-std-b67)$/.test(video.color_transfer ?? ''),
    indexed: !/^mpeg(ts)?$/.test(parsed.format?.format_name ?? ''),
  };
}

/**
 * Where to seek for each fraction of the duration: to the timestamp of the frame on screen at that moment,
 * never past the last frame. Exactly there, not a little before: ffmpeg rounds the seek point to the
 * nearest tick of the stream, then starts decoding at the last keyframe not after it and outputs the first
 * frame not before it; aiming early would start a whole GOP earlier whenever the frame is a keyframe.
 */
export function seekTimes(probe: VideoProbe, fractions: readonly number[]): number[] {
  const { videoStart, duration, lastFrameTime, frameDuration } = probe;
  return fractions.map((fraction) => {
    const time = Math.min(videoStart + fraction * duration, lastFrameTime);
    const onScreen = videoStart + Math.floor((time - videoStart) / frameDuration + 1e-6) * frameDuration;
    return Math.max(0, Math.min(onScreen, lastFrameTime));
  });
}

/**
 * seekTimes, exact for variable frame rates too: there the frame on screen at each moment is the last one
 * whose timestamp is not after it, read from the packets around it (no decoding), and the seek aims at
 * that frame's timestamp.
 */
export async function frameSeekTimes(
  input: string,
  probe: VideoProbe,
  fractions: readonly number[],
  options: MediaOptions,
): Promise<number[]> {
  if (!probe.variableRate) return seekTimes(probe, fractions);
  const { videoStart, duration, formatStart } = probe;
  return Promise.all(
    fractions.map(async (fraction, index) => {
      const target = formatStart + videoStart + fraction * duration;
      // B-frames arrive out of order: read a little past the target so that every earlier frame is seen.
      const packets = await listPackets(input, probe.streamIndex, options, `${target - 1}%${target + 0.5}`);
      const shown = packets.map((p) => p.time).filter((time) => time <= target + 1e-6);
      const fallback = seekTimes(probe, fractions)[index] ?? 0;
      return shown.length ? Math.max(0, Math.max(...shown) - formatStart) : fallback;
    }),
  );
}

/** How far before a target the first keyframe search in an unindexed container starts (doubling after). */
const FIRST_KEYFRAME_WINDOW = 2;

/**
 * The last keyframe at or before `time` (seconds from the file start) in a container without an index.
 * Lists packets (no decoding) of a window before the target, doubling it back until a keyframe is in it,
 * so a short GOP costs a short read and any GOP is found.
 */
async function keyframeBefore(
  input: string,
  probe: VideoProbe,
  time: number,
  options: MediaOptions,
): Promise<number> {
  const target = probe.formatStart + time;
  for (let window = FIRST_KEYFRAME_WINDOW; ; window *= 2) {
    const start = Math.max(probe.formatStart, target - window);
    const packets = await listPackets(input, probe.streamIndex, options, `${start}%${target + 1e-3}`);
    const keys = packets.filter((p) => p.key && p.time <= target + 1e-3).map((p) => p.time);
    if (keys.length) return Math.max(...keys) - probe.formatStart;
    if (start <= probe.formatStart) return 0;
  }
}

export interface ExtractOptions extends MediaOptions {
  maxWidth: number;
  /** ffmpeg's JPEG quality scale: 2 (best) … 31. */
  quality: number;
  /** The probe's answers that shape the decoding; without it, the first video stream of an indexed file. */
  probe?: Pick<VideoProbe, 'streamIndex' | 'formatStart' | 'frameDuration' | 'hdr' | 'indexed'>;
}

/** PQ/HLG to BT.709 SDR: linearise, tone-map the highlights (Hable), then back to BT.709 limited range. */
const TONEMAP =
  'zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,tonemap=hable:desat=0,' +
  'zscale=t=bt709:m=bt709:r=tv,format=yuv420p';

/** Upright (ffmpeg autorotates), square pixels, at most maxWidth wide, even dimensions, SDR. */
function thumbnailFilter(maxWidth: number, hdr: boolean): string {
  const scale = `scale=w='min(${maxWidth},trunc(iw*sar/2)*2)':h='trunc(ow/dar/2)*2',setsar=1`;
  return hdr ? `${TONEMAP},${scale}` : scale;
}

async function hasImage(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.size > 0,
    () => false,
  );
}

function ffmpegTool(input: string, args: string[], options: MediaOptions): Promise<string> {
  return runTool(toolsOf(options).ffmpeg, ['-v', 'error', '-nostdin', '-y', ...args], {
    ...options,
    what: 'ffmpeg could not extract frames from',
    input,
    fallbackKind: 'corrupt',
  });
}

/**
 * Writes one JPEG per seek time, with one ffmpeg process per seek point, all at once (`-ss T -i input`): over
 * HTTP each fetches only the index and the bytes from the keyframe before its point, and input seeking
 * decodes up to the exact frame. Separate processes decode in parallel with all their threads; one process
 * with an input per point either reads ahead far past each point or, held to one packet ahead, decodes
 * on a single core (measured: 1.5× slower on a long GOP).
 */
export async function extractFrames(
  input: string,
  times: readonly number[],
  outputs: readonly string[],
  options: ExtractOptions,
): Promise<void> {
  const probe = options.probe ?? {
    streamIndex: -1,
    formatStart: 0,
    frameDuration: 0,
    hdr: false,
    indexed: true,
  };
  // Without an index, an input seek lands on whatever packet is near the target and decoding starts at
  // the next keyframe, which may be past it: seek to just before the keyframe before the target instead,
  // then decode the rest of the way (output seek).
  const inputSeeks = probe.indexed
    ? [...times]
    : await Promise.all(
        times.map(async (time) =>
          Math.max(
            0,
            (await keyframeBefore(input, probe as VideoProbe, time, options)) - probe.frameDuration / 2,
          ),
        ),
      );
  const stream = probe.streamIndex >= 0 ? String(probe.streamIndex) : 'v:0';
  await Promise.all(
    outputs.map((output, index) => {
      const seek = inputSeeks[index] ?? 0;
      const decodeOn = (times[index] ?? 0) - seek;
      return ffmpegTool(
        input,
        [
          ...[...inputOptions(input), '-ss', seek.toFixed(6), '-i', input],
          ...(decodeOn > 0 ? ['-ss', decodeOn.toFixed(6)] : []),
          ...['-map', `0:${stream}`, '-frames:v', '1', '-vf', thumbnailFilter(options.maxWidth, probe.hdr)],
          ...['-q:v', String(options.quality), '-f', 'image2', output],
        ],
        options,
      );
    }),
  );
  for (const output of outputs) {
    if (!(await hasImage(output))) await extractLastFrame(input, output, stream, options, probe.hdr);
  }
}

/**
 * Fallback when a seek point yields no frame because it lies past the last decodable frame (headers can
 * overstate durations): decode the last seconds of the file and keep its last frame.
 */
async function extractLastFrame(
  input: string,
  output: string,
  stream: string,
  options: ExtractOptions,
  hdr: boolean,
): Promise<void> {
  await ffmpegTool(
    input,
    [
      ...[...inputOptions(input), '-sseof', '-3', '-i', input],
      ...['-map', `0:${stream}`, '-vf', thumbnailFilter(options.maxWidth, hdr)],
      ...['-q:v', String(options.quality), '-f', 'image2', '-update', '1', output],
    ],
    options,
  );
  if (!(await hasImage(output)))
    throw jobError('corrupt', `ffmpeg found no frame to extract in ${options.name}`);
}
