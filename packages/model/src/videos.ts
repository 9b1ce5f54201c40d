/** File extensions that S3 event notifications forward to the work queue (matched in any case). */
export const VIDEO_EXTENSIONS = [
  '.mp4',
  '.mov',
  '.mkv',
  '.avi',
  '.webm',
  '.wmv',
  '.flv',
  '.m4v',
  '.ts',
  '.3gp',
] as const;

export type VideoExtension = (typeof VIDEO_EXTENSIONS)[number];

const CONTENT_TYPES: Record<VideoExtension, string> = {
  '.mp4': 'video/mp4',
  '.mov': 'video/quicktime',
  '.mkv': 'video/x-matroska',
  '.avi': 'video/x-msvideo',
  '.webm': 'video/webm',
  '.wmv': 'video/x-ms-wmv',
  '.flv': 'video/x-flv',
  '.m4v': 'video/x-m4v',
  '.ts': 'video/mp2t',
  '.3gp': 'video/3gpp',
};

export function videoExtension(name: string): VideoExtension | undefined {
  const lower = name.toLowerCase();
  return VIDEO_EXTENSIONS.find((ext) => lower.endsWith(ext));
}

export function isVideoKey(name: string): boolean {
  return videoExtension(name) !== undefined;
}

/** The canonical content type for a video file name, or undefined when it is not a supported video. */
export function videoContentType(name: string): string | undefined {
  const ext = videoExtension(name);
  return ext && CONTENT_TYPES[ext];
}
