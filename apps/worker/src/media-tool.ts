import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { VIDEO_DEMUXERS, type FailureKind } from '@thumbs/model';
import { ffmpegPath, ffprobePath } from '@thumbs/runtime';
import { jobError } from './failure.ts';

/** Which ffmpeg/ffprobe binaries to run (the worker's resolved ones unless a test picks a build). */
export interface MediaTools {
  ffmpeg: string;
  ffprobe: string;
}

export interface MediaLimits {
  /** Largest width × height decoded; larger videos are refused from their header, before decoding. */
  maxPixels: number;
  /** Data memory (RLIMIT_DATA) of each ffmpeg/ffprobe process. */
  maxMemoryBytes: number;
  /**
   * Most frames of a video the job goes through: packets read by a scan of the whole stream (a duration
   * the header lacks), and frames decoded to reach the points (each point its share): bounds never-ending
   * inputs, GOPs of hours and streams of tiny frames.
   */
  maxFrames: number;
}

export const DEFAULT_LIMITS: MediaLimits = {
  maxPixels: 8192 * 4320,
  maxMemoryBytes: 1536 * 1024 * 1024,
  maxFrames: 500_000,
};

export interface MediaOptions {
  /** The name used in error messages instead of the (presigned, secret-bearing) input URL. */
  name: string;
  signal?: AbortSignal;
  /** Wall time for all of the job's media work; each process gets what is left of it. */
  timeoutMs: number;
  /** When the job's media work must be over (epoch ms); defaults to timeoutMs from each process start. */
  deadline?: number;
  limits?: Partial<MediaLimits>;
  tools?: MediaTools;
}

export function limitsOf(options: MediaOptions): MediaLimits {
  return { ...DEFAULT_LIMITS, ...options.limits };
}

export function toolsOf(options: MediaOptions): MediaTools {
  return options.tools ?? { ffmpeg: ffmpegPath(), ffprobe: ffprobePath() };
}

const PRLIMIT = ['/usr/bin/prlimit', '/bin/prlimit'].find((path) => existsSync(path));

/**
 * Input options that contain what a file can make ffmpeg open: only the demuxers of the supported
 * containers (never a playlist, concat list or image sequence, which open further URLs or files), and
 * only the protocols needed to read this one input: loopback HTTP from the range relay, or a local file.
 * Over HTTP, a response that ends before the end of the file (the relay answers in bounded windows) is
 * asked again from the current offset instead of being taken as the end.
 */
export function inputOptions(input: string): string[] {
  const http = /^https?:\/\//i.test(input);
  return [
    ...['-protocol_whitelist', http ? 'http,tcp' : 'file'],
    ...['-format_whitelist', VIDEO_DEMUXERS.join(',')],
    ...(http ? ['-reconnect', '1'] : []),
  ];
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

/** What ffmpeg's complaint says about the file, most specific first. */
const STDERR_KINDS: [RegExp, FailureKind][] = [
  [/not on whitelist/i, 'not-a-video'],
  [/Server returned|Connection refused|Connection reset|HTTP error|Input\/output error/i, 'storage'],
  // Failed allocations (frame buffers, decoder threads) under the memory cap.
  [
    /Cannot allocate memory|out of memory|get_buffer\(\) failed|Resource temporarily unavailable/i,
    'too-large',
  ],
  [
    /Decoder \(codec \S+\) not found|Unsupported codec|no decoder|Could not find codec parameters/i,
    'unsupported-codec',
  ],
  [
    /Invalid data found when processing input|EBML header parsing failed|Unknown input format/i,
    'not-a-video',
  ],
];

function kindOf(stderr: string, fallback: FailureKind): FailureKind {
  return STDERR_KINDS.find(([pattern]) => pattern.test(stderr))?.[1] ?? fallback;
}

export interface RunOptions extends MediaOptions {
  /** Used in error messages (`ffprobe could not read …`). */
  what: string;
  /** The input, replaced by the name in error messages. */
  input: string;
  /** The kind of an error that stderr does not explain. */
  fallbackKind: FailureKind;
}

/**
 * Runs ffmpeg or ffprobe with the job's limits: killed at the deadline, its data memory capped (through
 * prlimit), stdout bounded. Resolves with stdout; rejects with a classified JobError.
 */
export function runTool(binary: string, args: string[], options: RunOptions): Promise<string> {
  const limits = limitsOf(options);
  const remaining = (options.deadline ?? Date.now() + options.timeoutMs) - Date.now();
  const [command, argv] = PRLIMIT
    ? [PRLIMIT, [`--data=${limits.maxMemoryBytes}`, '--', binary, ...args]]
    : [binary, args];
  return new Promise((resolve, reject) => {
    if (remaining <= 0) return reject(timedOut(options));
    options.signal?.throwIfAborted();
    // The statically linked npm ffprobe crashes loading the system's iconv modules when it reads MPEG-TS
    // service names; without GCONV_PATH it skips the conversion. Harmless for a system build.
    const child = spawn(command, argv, {
      env: { ...process.env, GCONV_PATH: '/nonexistent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stderr = '';
    let overrun = false;
    let expired = false;
    // A grandchild (a wrapper's, a shell's) could keep the pipes open, and 'close' waits for them: stop reading.
    const kill = () => {
      child.kill('SIGKILL');
      child.stdout.destroy();
      child.stderr.destroy();
    };
    const timer = setTimeout(() => {
      expired = true;
      kill();
    }, remaining);
    options.signal?.addEventListener('abort', kill, { once: true });
    child.stdout.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > 64 * 1024 * 1024) {
        overrun = true;
        kill();
      } else stdout.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-16_384);
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(jobError('unknown', `could not start ${binary}: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', kill);
      if (options.signal?.aborted) return reject(options.signal.reason);
      if (expired) return reject(timedOut(options));
      if (overrun) return reject(jobError('too-large', `${options.what} ${options.name}: too much output`));
      if (code === 0) return resolve(Buffer.concat(stdout).toString());
      const detail = lastLine(stderr, options.input, options.name);
      // Killed by the kernel or crashed on a failed allocation under the memory cap.
      const starved = signal !== null || code === 134 || code === 137;
      const kind = kindOf(stderr, starved ? 'too-large' : options.fallbackKind);
      const message =
        kind === 'too-large' && !/allocate|memory/i.test(detail)
          ? `${options.what} ${options.name}: exceeded the memory limit of ${mib(limits.maxMemoryBytes)} (${detail})`
          : `${options.what} ${options.name}: ${detail}`;
      reject(jobError(kind, message));
    });
  });
}

function mib(bytes: number): string {
  return `${Math.round(bytes / 1024 / 1024)} MiB`;
}

function timedOut(options: RunOptions): Error {
  return jobError('timed-out', `${options.what} ${options.name}: ran out of its time limit`);
}
