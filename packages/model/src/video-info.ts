import { conforms } from './conforms.ts';
import { SourceReadSchema, VideoInfoSchema, type SourceRead, type VideoInfo } from './schema.ts';

/*
 * What the probe learnt travels as S3 user metadata on each thumbnail: no sidecar object to list, index,
 * purge or clean up with the video, and any one thumbnail's HEAD tells it. URI-encoded JSON, since header
 * values must be ASCII.
 */
const VIDEO_INFO = 'video-info';
const SOURCE_READ = 'source-read';

export function videoInfoMetadata(video: VideoInfo, sourceRead?: SourceRead): Record<string, string> {
  const encode = (value: unknown) => encodeURIComponent(JSON.stringify(value));
  return {
    [VIDEO_INFO]: encode(video),
    ...(sourceRead ? { [SOURCE_READ]: encode(sourceRead) } : {}),
  };
}

function decode<T>(schema: object, value: string | undefined): T | undefined {
  if (value === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(decodeURIComponent(value));
    return conforms(schema, parsed) ? (parsed as T) : undefined;
  } catch {
    return undefined;
  }
}

/** videoInfoMetadata's inverse; what is missing or malformed (an older worker's thumbnail) is undefined. */
export function readVideoInfoMetadata(metadata: Record<string, string> | undefined): {
  video: VideoInfo | undefined;
  sourceRead: SourceRead | undefined;
} {
  return {
    video: decode<VideoInfo>(VideoInfoSchema, metadata?.[VIDEO_INFO]),
    sourceRead: decode<SourceRead>(SourceReadSchema, metadata?.[SOURCE_READ]),
  };
}
