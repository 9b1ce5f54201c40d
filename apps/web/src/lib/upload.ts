import { isVideoKey, videoContentType, VIDEO_EXTENSIONS } from '@thumbs/model';

/** S3's largest object. */
const MAX_OBJECT_BYTES = 5 * 1024 ** 4;

/** Why a file cannot be uploaded, or undefined when it can. */
export function rejectReason(file: { name: string; size: number }): string | undefined {
  if (!isVideoKey(file.name)) return `Not a video file. Accepted: ${VIDEO_EXTENSIONS.join(' ')}`;
  if (file.size === 0) return 'The file is empty';
  if (file.size > MAX_OBJECT_BYTES) return 'The file is larger than S3 stores in one object (5 TiB)';
  return undefined;
}

/** The content type the API expects for the file's extension, else what the browser says. */
export function contentTypeOf(file: File): string {
  return videoContentType(file.name) ?? (file.type || 'application/octet-stream');
}
