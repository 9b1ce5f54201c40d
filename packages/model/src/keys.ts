import type { FailureKind } from './failures.ts';
import { FRAMES, frameBySlug, type Frame, type FrameLabel } from './frames.ts';
import type { VideoInfo } from './schema.ts';

export const DEFAULT_UPLOAD_PREFIX = 'uploads/';
export const DEFAULT_THUMBNAIL_PREFIX = 'thumbnails/';

/**
 * Thumbnail keys embed the whole source key: `thumbnails/<source key>/<10|50|95>.jpg`.
 * Two videos never share a thumbnail key (clip.mp4 and clip.mov differ), and the source key and the
 * frame position can be read back from the thumbnail key alone.
 */
export function thumbnailKey(
  sourceKey: string,
  frame: Frame,
  thumbnailPrefix = DEFAULT_THUMBNAIL_PREFIX,
): string {
  return `${thumbnailPrefix}${sourceKey}/${frame.slug}.jpg`;
}

export function thumbnailKeys(sourceKey: string, thumbnailPrefix = DEFAULT_THUMBNAIL_PREFIX): string[] {
  return FRAMES.map((frame) => thumbnailKey(sourceKey, frame, thumbnailPrefix));
}

export interface ParsedThumbnailKey {
  source: string;
  frame: FrameLabel;
}

export function parseThumbnailKey(
  key: string,
  thumbnailPrefix = DEFAULT_THUMBNAIL_PREFIX,
): ParsedThumbnailKey | undefined {
  if (!key.startsWith(thumbnailPrefix)) return undefined;
  const rest = key.slice(thumbnailPrefix.length);
  const slash = rest.lastIndexOf('/');
  if (slash <= 0) return undefined;
  const file = rest.slice(slash + 1);
  const match = /^(\d+)\.jpg$/.exec(file);
  const frame = match ? frameBySlug(match[1] ?? '') : undefined;
  if (!frame) return undefined;
  return { source: rest.slice(0, slash), frame: frame.label };
}

export const DEFAULT_FAILURE_PREFIX = 'failures/';

/** Where a worker records why a video failed (JSON), so the API can show the error beside the DLQ entry. */
export function failureKey(sourceKey: string, failurePrefix = DEFAULT_FAILURE_PREFIX): string {
  return `${failurePrefix}${sourceKey}.json`;
}

/** The video a failure record is about (failureKey's inverse); undefined for any other key. */
export function failureSource(key: string, failurePrefix = DEFAULT_FAILURE_PREFIX): string | undefined {
  if (!key.startsWith(failurePrefix) || !key.endsWith('.json')) return undefined;
  return key.slice(failurePrefix.length, -'.json'.length) || undefined;
}

export interface FailureRecord {
  source: string;
  /** What kind of failure (FailureKind); absent in records written before kinds existed. */
  kind?: FailureKind;
  error: string;
  attempt: number;
  worker: string;
  time: string;
  /** What the probe learnt before the failure, when it got that far. */
  video?: VideoInfo;
}
