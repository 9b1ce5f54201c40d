import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JobError, jobError } from './failure.ts';
import { headerAndTail } from './media-tail.ts';
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
  /** Degrees clockwise the picture is turned for display (phone video), 0 … 270. */
  rotation: number;
  /** The container, as ffprobe names it. */
  container: string | undefined;
  /** Bits per second of the whole file, when the header says. */
  bitRate: number | undefined;
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
  side_data_list?: { rotation?: number }[];
}

interface ProbeOutput {
  streams?: ProbeStream[];
  format?: {
    start_time?: string;
    duration?: string;
    format_name?: string;
    format_long_name?: string;
    bit_rate?: string;
  };
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

/**
 * Clockwise display rotation: the old `rotate` tag, else the display matrix (whose angle is counter-clockwise).
 */
function displayRotation(stream: ProbeStream): number {
  const matrix = stream.side_data_list?.find((d) => d.rotation !== undefined)?.rotation;
  const degrees = seconds(stream.tags?.rotate) ?? -(matrix ?? 0);
  return ((Math.round(degrees) % 360) + 360) % 360;
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
  stream: number | string,
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

type Packet = Awaited<ReturnType<typeof listPackets>>[number];

/**
 * For a listing that may fail without harm (a seek past the real end, a stand-in ffprobe cannot read):
 * `fallback` instead of the error, unless the error is the job's end (its time is up, or it was stopped).
 */
function unlessJobEnded<T>(fallback: T, options: MediaOptions): (error: unknown) => T {
  return (error) => {
    if (options.signal?.aborted || (error instanceof JobError && error.kind === 'timed-out')) throw error;
    return fallback;
  };
}

/** Every packet of the stream, at most `maxFrames` of them: what a container without boundaries to cut at costs. */
async function allPackets(input: string, stream: number, options: MediaOptions): Promise<Packet[]> {
  const { maxFrames } = limitsOf(options);
  const packets = await listPackets(input, stream, options, `%+#${maxFrames + 1}`);
  if (packets.length > maxFrames)
    throw jobError('too-large', `${options.name} has more than ${maxFrames} frames (the limit per video)`);
  return packets;
}

/** The packets of the stand-in made of the file's header and tail (headerAndTail); undefined without one. */
async function tailPackets(
  input: string,
  stream: number,
  options: MediaOptions,
): Promise<Packet[] | undefined> {
  const standIn = await headerAndTail(input, options.signal).catch(unlessJobEnded(undefined, options));
  if (!standIn) return undefined;
  const dir = await mkdtemp(join(tmpdir(), 'thumbs-tail-'));
  try {
    const path = join(dir, 'header-and-tail');
    await writeFile(path, standIn);
    const packets = await allPackets(path, stream, options).catch(unlessJobEnded([], options));
    return packets.length ? packets : undefined;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The duration when the header has none (WebM/Matroska as browsers and streamers write it): from the
 * stream's own last packet, read from the file's header and tail where the container allows it, else from
 * every packet; no decoding. Also the frame rate the packets show.
 */
async function scanDuration(
  input: string,
  stream: number,
  options: MediaOptions,
): Promise<{ end: number; rate: number | undefined }> {
  const packets = (await tailPackets(input, stream, options)) ?? (await allPackets(input, stream, options));
  const times = packets.map((p) => p.time).sort((a, b) => a - b);
  const span = (times.at(-1) ?? 0) - (times[0] ?? 0);
  return {
    end: Math.max(...packets.map((p) => p.end)),
    rate: times.length > 1 && span > 0 ? (times.length - 1) / span : undefined,
  };
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
    if (!frameRate(video.avg_frame_rate) && scan.rate) rate = scan.rate;
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
    rotation: displayRotation(video),
    container: parsed.format?.format_long_name ?? parsed.format?.format_name,
    bitRate: seconds(parsed.format?.bit_rate),
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
  probe: Pick<VideoProbe, 'streamIndex' | 'formatStart'>,
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
  probe?: ExtractProbe;
}

type ExtractProbe = Pick<VideoProbe, 'streamIndex' | 'formatStart' | 'frameDuration' | 'hdr' | 'indexed'>;

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

/** What a point decodes: input seek to `seek`, then on to `time` (seconds from the file start). */
interface Point {
  seek: number;
  time: number;
}

/**
 * The point for `time`. Without an index, an input seek lands on whatever packet is near the target and
 * decoding starts at the next keyframe, which may be past it: seek to just before the keyframe before the
 * target instead, then decode the rest of the way (output seek).
 */
async function pointAt(
  input: string,
  probe: ExtractProbe,
  time: number,
  options: MediaOptions,
): Promise<Point> {
  if (probe.indexed) return { seek: time, time };
  const keyframe = await keyframeBefore(input, probe, time, options);
  return { seek: Math.max(0, keyframe - probe.frameDuration / 2), time };
}

/**
 * Decodes one point into `output`, at most `maxDecoded` frames. `trim=start=0` after `-noaccurate_seek`
 * is what an accurate input seek does (ffmpeg inserts that same trim), placed where `end_frame` also
 * counts every decoded frame: past the cap the stream ends there, with no frame written.
 */
function extractPoint(
  input: string,
  point: Point,
  output: string,
  maxDecoded: number,
  options: ExtractOptions & { probe: ExtractProbe },
): Promise<string> {
  const { probe } = options;
  const decodeOn = point.time - point.seek;
  const filter = `trim=start=0:end_frame=${maxDecoded},${thumbnailFilter(options.maxWidth, probe.hdr)}`;
  return ffmpegTool(
    input,
    [
      ...[...inputOptions(input), '-noaccurate_seek', '-ss', point.seek.toFixed(6), '-i', input],
      ...(decodeOn > 0 ? ['-ss', decodeOn.toFixed(6)] : []),
      ...['-map', `0:${streamSpec(probe)}`, '-frames:v', '1', '-vf', filter],
      ...['-q:v', String(options.quality), '-f', 'image2', output],
    ],
    options,
  );
}

function streamSpec(probe: ExtractProbe): string {
  return probe.streamIndex >= 0 ? String(probe.streamIndex) : 'v:0';
}

/**
 * Writes one JPEG per seek time, with one ffmpeg process per seek point, all at once (`-ss T -i input`): over
 * HTTP each fetches only the index and the bytes from the keyframe before its point, and input seeking
 * decodes up to the exact frame. Separate processes decode in parallel with all their threads; one process
 * with an input per point either reads ahead far past each point or, held to one packet ahead, decodes
 * on a single core (measured: 1.5× slower on a long GOP). Each point may decode its share of the job's
 * frame limit (`maxFrames`), so a GOP of hours or a stream of tiny frames cannot hold the worker.
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
  const job = { ...options, probe };
  const maxDecoded = Math.max(1, Math.floor(limitsOf(options).maxFrames / Math.max(1, times.length)));
  const points = await Promise.all(times.map((time) => pointAt(input, probe, time, options)));
  await Promise.all(
    outputs.map((output, index) =>
      extractPoint(input, points[index] ?? { seek: 0, time: 0 }, output, maxDecoded, job),
    ),
  );
  for (const [index, output] of outputs.entries()) {
    if (!(await hasImage(output))) await extractLastFrame(input, times[index] ?? 0, output, maxDecoded, job);
  }
}

/**
 * The timestamp (seconds from the file start) of the stream's last frame, listing packets (no decoding)
 * from a window before `time` to the end of the file, doubling it back until a packet is in it: a long
 * GOP, sparse frames or a seek that fails past the real end still find it.
 */
async function lastFrameFrom(
  input: string,
  probe: ExtractProbe,
  time: number,
  options: MediaOptions,
): Promise<number | undefined> {
  for (let window = FIRST_KEYFRAME_WINDOW; ; window *= 2) {
    const start = Math.max(0, time - window);
    const packets = await listPackets(
      input,
      streamSpec(probe),
      options,
      `${probe.formatStart + start}%`,
    ).catch(unlessJobEnded([], options));
    if (packets.length) return Math.max(...packets.map((p) => p.time)) - probe.formatStart;
    if (start === 0) return undefined;
  }
}

/**
 * Fallback when a point yields no frame. Either it lies past the last decodable frame (headers can
 * overstate durations, files can be cut short): then the thumbnail is the last frame. Or the stream goes
 * on past it and the point took more decoded frames than it may.
 */
async function extractLastFrame(
  input: string,
  time: number,
  output: string,
  maxDecoded: number,
  options: ExtractOptions & { probe: ExtractProbe },
): Promise<void> {
  const { probe } = options;
  const last = await lastFrameFrom(input, probe, time, options);
  if (last === undefined) throw jobError('corrupt', `ffmpeg found no frame to extract in ${options.name}`);
  if (last >= time - probe.frameDuration / 2) {
    throw jobError(
      'too-large',
      `${options.name}: no frame at ${time.toFixed(3)} s within ${maxDecoded} decoded frames ` +
        `(the limit is ${limitsOf(options).maxFrames} frames per video)`,
    );
  }
  await extractPoint(input, await pointAt(input, probe, last, options), output, maxDecoded, options);
  if (!(await hasImage(output)))
    throw jobError('corrupt', `ffmpeg found no frame to extract in ${options.name}`);
}
