import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { FRAMES, thumbnailKey, type FrameLabel } from '@thumbs/model';
import { extractFrames, probeVideo, seekTimes } from './ffmpeg.ts';
import { openRangeRelay, type RangeRelayOptions, type RelayStats } from './range-relay.ts';

export interface ThumbnailRef {
  key: string;
  frame: FrameLabel;
  size: number;
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
  timeoutMs: number;
  /**
   * How ffmpeg reads the source: through a loopback relay that fetches bounded windows (the default), or
   * `false` to hand ffmpeg the presigned URL itself (its open-ended ranges fetch far past what it decodes).
   */
  rangeRelay?: RangeRelayOptions | false;
}

function isNotFound(error: unknown): boolean {
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404;
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
    throw error;
  }
}

/** The three thumbnails when a previous delivery already stored them for this exact source version. */
export async function existingThumbnails(
  settings: ThumbnailSettings,
  source: SourceObject,
): Promise<ThumbnailRef[] | undefined> {
  const refs: ThumbnailRef[] = [];
  for (const frame of FRAMES) {
    const key = thumbnailKey(source.key, frame, settings.thumbnailPrefix);
    try {
      const head = await settings.s3.send(new HeadObjectCommand({ Bucket: settings.bucket, Key: key }));
      if (head.Metadata?.['source-etag'] !== source.eTag) return undefined;
      refs.push({ key, frame: frame.label, size: head.ContentLength ?? 0 });
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }
  return refs;
}

/**
 * Probes the video through a presigned URL and extracts the three frames without downloading the file,
 * then stores them. Nothing is stored unless all three frames were extracted. `onSourceRead` learns how
 * much of the source the relay fetched (not called without the relay).
 */
export async function makeThumbnails(
  settings: ThumbnailSettings,
  source: SourceObject,
  signal?: AbortSignal,
  onSourceRead?: (stats: RelayStats) => void,
): Promise<ThumbnailRef[]> {
  const expiresIn = Math.min(604_800, Math.ceil((2 * settings.timeoutMs) / 1000) + 60);
  const url = await getSignedUrl(
    settings.s3,
    new GetObjectCommand({ Bucket: source.bucket, Key: source.key }),
    { expiresIn },
  );
  const relay =
    settings.rangeRelay === false ? undefined : await openRangeRelay(url, source.key, settings.rangeRelay);
  const input = relay?.url ?? url;
  const dir = await mkdtemp(join(tmpdir(), 'thumbs-'));
  try {
    const media = { name: source.key, signal, timeoutMs: settings.timeoutMs };
    const probe = await probeVideo(input, media);
    const times = seekTimes(
      probe,
      FRAMES.map((f) => f.fraction),
    );
    const files = FRAMES.map((frame) => join(dir, `${frame.slug}.jpg`));
    await extractFrames(input, times, files, {
      ...media,
      maxWidth: settings.maxWidth,
      quality: settings.quality,
      unindexed: !probe.indexed,
    });
    if (relay) onSourceRead?.(relay.stats());
    const images = await Promise.all(files.map((file) => readFile(file)));
    signal?.throwIfAborted();
    return await Promise.all(
      FRAMES.map((frame, index) =>
        uploadThumbnail(settings, source, frame, images[index] ?? Buffer.alloc(0)),
      ),
    );
  } finally {
    await relay?.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function uploadThumbnail(
  settings: ThumbnailSettings,
  source: SourceObject,
  frame: (typeof FRAMES)[number],
  image: Buffer,
): Promise<ThumbnailRef> {
  const key = thumbnailKey(source.key, frame, settings.thumbnailPrefix);
  try {
    await settings.s3.send(
      new PutObjectCommand({
        Bucket: settings.bucket,
        Key: key,
        Body: image,
        ContentType: 'image/jpeg',
        Metadata: { source: encodeURIComponent(source.key), frame: frame.label, 'source-etag': source.eTag },
      }),
    );
  } catch (error) {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new Error(`could not upload ${key} to bucket ${settings.bucket}: ${reason}`, { cause: error });
  }
  return { key, frame: frame.label, size: image.length };
}
