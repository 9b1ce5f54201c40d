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

/** The ffmpeg demuxer that reads each supported container (by ffmpeg's short name). */
const DEMUXERS: Record<VideoExtension, string> = {
  '.mp4': 'mov',
  '.mov': 'mov',
  '.mkv': 'matroska',
  '.avi': 'avi',
  '.webm': 'matroska',
  '.wmv': 'asf',
  '.flv': 'flv',
  '.m4v': 'mov',
  '.ts': 'mpegts',
  '.3gp': 'mov',
};

/**
 * The only demuxers the worker lets ffmpeg use: those of the supported containers. Whatever an upload is
 * named, a playlist, concat list or image sequence (demuxers that open further URLs or files) is refused.
 */
export const VIDEO_DEMUXERS: readonly string[] = [...new Set(Object.values(DEMUXERS))];

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

/**
 * Every upper/lower-case spelling of every video suffix. S3 notification suffix filters are case-sensitive,
 * so matching "any case" exactly the AWS way means one filter rule per spelling (72 in all).
 */
export function videoSuffixVariants(): string[] {
  const variants = (suffix: string): string[] => {
    if (suffix === '') return [''];
    const [first = '', rest] = [suffix[0], suffix.slice(1)];
    const tails = variants(rest);
    const heads =
      first.toLowerCase() === first.toUpperCase() ? [first] : [first.toLowerCase(), first.toUpperCase()];
    return heads.flatMap((h) => tails.map((t) => h + t));
  };
  return VIDEO_EXTENSIONS.flatMap(variants);
}
