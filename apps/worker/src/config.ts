import { hostname } from 'node:os';
import { env, loadConfig, pipelineSpec, type ConfigOf } from '@thumbs/runtime';
import { DEFAULT_LIMITS } from './media-tool.ts';
import { DEFAULT_CACHE_BYTES, DEFAULT_MAX_WINDOW, DEFAULT_MIN_WINDOW } from './range-relay.ts';

/** What the worker reads from the environment: the shared pipeline settings plus its own knobs. */
export const workerSpec = {
  /** Includes SQS_DLQ_URL: where the worker moves a message no retry can fix. */
  ...pipelineSpec,
  workerName: env.string('WORKER_NAME', hostname()),
  waitSeconds: env.int('WORKER_WAIT_SECONDS', 20, { min: 0, max: 20 }),
  visibilityTimeoutSeconds: env.int('WORKER_VISIBILITY_TIMEOUT', 60, { min: 3, max: 43_200 }),
  shutdownGraceMs: env.int('WORKER_SHUTDOWN_GRACE_MS', 25_000, { min: 0, max: 3_600_000 }),
  failureBackoffSeconds: env.int('FAILURE_BACKOFF_SECONDS', 10, { min: 0, max: 43_200 }),
  thumbnailMaxWidth: env.int('THUMBNAIL_MAX_WIDTH', 640, { min: 16, max: 4096 }),
  jpegQuality: env.int('THUMBNAIL_JPEG_QUALITY', 3, { min: 2, max: 31 }),
  /** Wall time of all of one job's ffmpeg/ffprobe work. */
  ffmpegTimeoutSeconds: env.int('FFMPEG_TIMEOUT_SECONDS', 600, { min: 5, max: 43_200 }),
  /** Videos larger than this (width × height, from the header) are refused before any decoding. */
  maxVideoPixels: env.int('MAX_VIDEO_PIXELS', DEFAULT_LIMITS.maxPixels, { min: 1, max: 1 << 30 }),
  /** Data memory of each ffmpeg/ffprobe process. */
  ffmpegMaxMemoryMiB: env.int('FFMPEG_MAX_MEMORY_MIB', DEFAULT_LIMITS.maxMemoryBytes / 1024 / 1024, {
    min: 64,
    max: 65_536,
  }),
  /** Most frames a job reads or decodes: a packet scan of a stream without a duration, decoding to the points. */
  maxVideoFrames: env.int('MAX_VIDEO_FRAMES', DEFAULT_LIMITS.maxFrames, { min: 1, max: 100_000_000 }),
  /** Read the source through the loopback range relay (bounded windows) rather than the presigned URL. */
  rangeRelay: env.bool('RANGE_RELAY', true),
  rangeWindowMinBytes: env.int('RANGE_WINDOW_MIN_BYTES', DEFAULT_MIN_WINDOW, { min: 4096, max: 1 << 30 }),
  rangeWindowMaxBytes: env.int('RANGE_WINDOW_MAX_BYTES', DEFAULT_MAX_WINDOW, { min: 4096, max: 1 << 30 }),
  /** Per job: windows kept so that ffprobe and the three ffmpeg inputs fetch the header and index once. */
  rangeCacheBytes: env.int('RANGE_CACHE_BYTES', DEFAULT_CACHE_BYTES, { min: 0, max: 1 << 30 }),
};

export type WorkerConfig = ConfigOf<typeof workerSpec>;

export function loadWorkerConfig(source: Record<string, string | undefined> = process.env): WorkerConfig {
  return loadConfig(workerSpec, source);
}
