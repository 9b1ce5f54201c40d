import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import {
  FRAMES,
  readVideoInfoMetadata,
  thumbnailKey,
  videoInfoMetadata,
  type FrameLabel,
  type JobStage,
  type SourceRead,
  type VideoInfo,
} from '@thumbs/model';
import { signingWindowSeconds } from '@thumbs/runtime';
import { extractFrames, frameSeekTimes, probeVideo, type VideoProbe } from './ffmpeg.ts';
import { JobError, jobError } from './failure.ts';
import type { MediaLimits } from './media-tool.ts';
import { openRangeRelay, type RangeRelayOptions, type RelayStats } from './range-relay.ts';

export interface ThumbnailRef {
  key: string;
  frame: FrameLabel;
  size: number;
}

/** Thumbnails stored for one source version, with what the probe learnt when they were made. */
export interface StoredThumbnails {
  refs: ThumbnailRef[];
  video: VideoInfo | undefined;
  sourceRead: SourceRead | undefined;
}

/** What makeThumbnails tells as it goes: each stage as it begins, the probe's findings, the bytes read. */
export interface JobProgress {
  stage?(stage: Exclude<JobStage, 'probing'>): Promise<void>;
  probed?(video: VideoInfo): void;
  /** Not called without the range relay (ffmpeg reading the URL itself is not counted). */
  sourceRead?(read: SourceRead): void;
}

export interface SourceObject {
  bucket: string;
  key: string;
  eTag: string;
  lastModified: Date | undefined;
  /** Bytes, when known. */
  size?: number;
}

export interface ThumbnailSettings {
  s3: S3Client;
  /** Where thumbnails go (the main bucket), whatever bucket the source is in. */
  bucket: string;
  thumbnailPrefix: string;
  maxWidth: number;
  quality: number;
  /** Wall time of all the media work of one job. */
  timeoutMs: number;
  limits?: Partial<MediaLimits>;
  /**
   * How ffmpeg reads the source: through a loopback relay that fetches bounded windows (the default), or
   * `false` to hand ffmpeg the presigned URL itself (its open-ended ranges fetch far past what it decodes).
   */
  rangeRelay?: RangeRelayOptions | false;
}

/**
 * The source was overwritten while this job worked on an older version. `written`: this job's thumbnails
 * were stored before it noticed, so they may cover the new version's and the message must be retried.
 */
export class SourceChangedError extends Error {
  override name = 'SourceChangedError';
  readonly written: boolean;
  constructor(source: SourceObject, written: boolean) {
    super(`s3://${source.bucket}/${source.key} changed while version ${source.eTag} was being processed`);
    this.written = written;
  }
}

/** Throws SourceChangedError unless the source is still the version that was processed. */
async function ensureCurrent(
  settings: ThumbnailSettings,
  source: SourceObject,
  written: boolean,
): Promise<void> {
  const now = await headSource(settings.s3, source.bucket, source.key);
  if (now?.eTag !== source.eTag) throw new SourceChangedError(source, written);
}

function httpStatus(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

function isNotFound(error: unknown): boolean {
  return httpStatus(error) === 404;
}

/**
 * A failed HEAD, named by object and status: the answer has no body, so the SDK's own error says only
 * "UnknownError" (a 403 AccessDenied, say, when the role may not read the key or know that it is missing).
 */
function headFailed(error: unknown, bucket: string, key: string): Error {
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const status = httpStatus(error);
  return jobError(
    'storage',
    `could not HEAD s3://${bucket}/${key}: ${status ? `HTTP ${status} ` : ''}(${reason})`,
    {
      cause: error,
    },
  );
}

function unquote(eTag: string | undefined): string {
  return (eTag ?? '').replace(/"/g, '');
}

/** The source video's identity (eTag) and upload time, or undefined when it no longer exists. */
export async function headSource(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<SourceObject | undefined> {
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return {
      bucket,
      key,
      eTag: unquote(head.ETag),
      lastModified: head.LastModified,
      size: head.ContentLength,
    };
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw headFailed(error, bucket, key);
  }
}

/** The three thumbnails when a previous delivery already stored them for this exact source version. */
export async function existingThumbnails(
  settings: ThumbnailSettings,
  source: SourceObject,
): Promise<StoredThumbnails | undefined> {
  const refs: ThumbnailRef[] = [];
  let stored: Pick<StoredThumbnails, 'video' | 'sourceRead'> = { video: undefined, sourceRead: undefined };
  for (const frame of FRAMES) {
    const key = thumbnailKey(source.key, frame, settings.thumbnailPrefix);
    try {
      const head = await settings.s3.send(new HeadObjectCommand({ Bucket: settings.bucket, Key: key }));
      if (head.Metadata?.['source-etag'] !== source.eTag) return undefined;
      refs.push({ key, frame: frame.label, size: head.ContentLength ?? 0 });
      stored = stored.video ? stored : readVideoInfoMetadata(head.Metadata);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw headFailed(error, settings.bucket, key);
    }
  }
  return { refs, ...stored };
}

/** The probe's findings as the pipeline keeps them. */
export function videoInfo(probe: VideoProbe, size: number | undefined): VideoInfo {
  return {
    durationSeconds: probe.duration,
    width: probe.width,
    height: probe.height,
    rotation: probe.rotation,
    codec: probe.codec,
    container: probe.container ?? null,
    size: size ?? null,
    bitRate: probe.bitRate === undefined ? null : Math.round(probe.bitRate),
  };
}

/**
 * The source's presigned GET, re-signed once 5/6 of its life is gone. Its life is bounded by the credentials
 * that sign it (under IRSA an STS session can have only minutes left), so a long job read through the range
 * relay never meets an expired URL; ffmpeg reading the URL itself (no relay) gets one URL for the whole job.
 */
function presignedSource(s3: S3Client, source: SourceObject, wantedSeconds: number): () => Promise<string> {
  let current: { url: string; renewAt: number } | undefined;
  return async () => {
    const now = Date.now();
    if (!current || now >= current.renewAt) {
      const expiresIn = await signingWindowSeconds(s3, wantedSeconds, now);
      const command = new GetObjectCommand({ Bucket: source.bucket, Key: source.key });
      const url = await getSignedUrl(s3, command, { expiresIn, signingDate: new Date(now) });
      current = { url, renewAt: now + (expiresIn * 1000 * 5) / 6 };
    }
    return current.url;
  };
}

/**
 * Probes the video through a presigned URL and extracts the three frames without downloading the file,
 * then stores them. Nothing is stored unless all three frames were extracted, or once the source is
 * another version than `source` (checked before the uploads, and again after them). Each thumbnail carries
 * the probe's findings and the bytes read as metadata.
 */
export async function makeThumbnails(
  settings: ThumbnailSettings,
  source: SourceObject,
  signal?: AbortSignal,
  progress: JobProgress = {},
): Promise<ThumbnailRef[]> {
  // Nothing to probe: an empty object is no video, whatever its name (a range read of it cannot even start).
  if (source.size === 0) throw jobError('not-a-video', `${source.key} is empty (0 bytes): not a video`);
  const sourceUrl = presignedSource(
    settings.s3,
    source,
    Math.min(604_800, Math.ceil((2 * settings.timeoutMs) / 1000) + 60),
  );
  const relay =
    settings.rangeRelay === false
      ? undefined
      : await openRangeRelay(sourceUrl, source.key, { ...settings.rangeRelay, eTag: source.eTag });
  const input = relay?.url ?? (await sourceUrl());
  const dir = await mkdtemp(join(tmpdir(), 'thumbs-'));
  try {
    const media = {
      name: source.key,
      signal,
      timeoutMs: settings.timeoutMs,
      deadline: Date.now() + settings.timeoutMs,
      limits: settings.limits,
    };
    const files = FRAMES.map((frame) => join(dir, `${frame.slug}.jpg`));
    let video: VideoInfo;
    try {
      const probe = await probeVideo(input, media);
      video = videoInfo(probe, source.size);
      progress.probed?.(video);
      await progress.stage?.('extracting');
      const fractions = FRAMES.map((f) => f.fraction);
      const times = await frameSeekTimes(input, probe, fractions, media);
      await extractFrames(input, times, files, {
        ...media,
        maxWidth: settings.maxWidth,
        quality: settings.quality,
        probe,
      });
    } catch (error) {
      if (relay?.superseded()) throw new SourceChangedError(source, false);
      throw relay
        ? slowStorage(error, relay.stats(), media.deadline - settings.timeoutMs, source.key)
        : error;
    }
    const read = relay && sourceRead(relay.stats());
    if (read) progress.sourceRead?.(read);
    const images = await Promise.all(files.map((file) => readFile(file)));
    signal?.throwIfAborted();
    await ensureCurrent(settings, source, false);
    await progress.stage?.('storing');
    const metadata = videoInfoMetadata(video, read);
    const refs = await Promise.all(
      FRAMES.map((frame, index) =>
        uploadThumbnail(settings, source, frame, images[index] ?? Buffer.alloc(0), metadata),
      ),
    );
    await ensureCurrent(settings, source, true);
    return refs;
  } finally {
    await relay?.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * A job out of time while its reads mostly waited on storage failed because of storage (S3 throttling, a
 * slow network: slow, yet never silent long enough for the relay to call it stalled), so it is retried
 * instead of dead-lettered as a file too costly to decode.
 */
function slowStorage(error: unknown, stats: RelayStats, startedAt: number, name: string): unknown {
  const elapsedMs = Date.now() - startedAt;
  if (!(error instanceof JobError && error.kind === 'timed-out') || stats.waitingMs < elapsedMs / 2)
    return error;
  const seconds = (ms: number) => (ms / 1000).toFixed(1);
  return jobError(
    'storage',
    `storage too slow for ${name}: ${(stats.bytes / 1024 / 1024).toFixed(1)} MiB in ${seconds(elapsedMs)} s, ` +
      `reads waited ${seconds(stats.waitingMs)} s for it`,
    { cause: error },
  );
}

function sourceRead(stats: RelayStats): SourceRead {
  return { bytes: stats.bytes, requests: stats.requests };
}

async function uploadThumbnail(
  settings: ThumbnailSettings,
  source: SourceObject,
  frame: (typeof FRAMES)[number],
  image: Buffer,
  metadata: Record<string, string>,
): Promise<ThumbnailRef> {
  const key = thumbnailKey(source.key, frame, settings.thumbnailPrefix);
  try {
    await settings.s3.send(
      new PutObjectCommand({
        Bucket: settings.bucket,
        Key: key,
        Body: image,
        ContentType: 'image/jpeg',
        Metadata: {
          ...metadata,
          source: encodeURIComponent(source.key),
          frame: frame.label,
          'source-etag': source.eTag,
        },
      }),
    );
  } catch (error) {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw jobError('storage', `could not upload ${key} to bucket ${settings.bucket}: ${reason}`, {
      cause: error,
    });
  }
  return { key, frame: frame.label, size: image.length };
}
