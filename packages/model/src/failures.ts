/**
 * Why a video failed, as the worker classifies it. The first group can never succeed on a retry (the
 * worker dead-letters the message at its first attempt); the rest are worth another attempt.
 *
 * - `too-large`: over a limit of the job (pixels, memory, frames read or decoded).
 * - `timed-out`: the media work (ffprobe, ffmpeg) ran past the job's wall-time limit: a never-ending or too
 *   expensive stream, which another attempt would only repeat. Storage that stalls is not this: the range
 *   relay gives up on a read that receives nothing for a while, and ffmpeg's error is then `storage`; nor is
 *   storage so slow that the job's reads spent most of its time waiting on it (also `storage`).
 * - `storage`: S3 or the network failed, stalled or throttled (the relay's reads, HEADs, uploads).
 * - `interrupted`: the worker was stopped (scale-in, deploy) before the job finished.
 */
export const PERMANENT_FAILURE_KINDS = [
  'not-a-video',
  'no-video-stream',
  'corrupt',
  'unsupported-codec',
  'too-large',
  'timed-out',
] as const;
export const TRANSIENT_FAILURE_KINDS = ['storage', 'interrupted', 'unknown'] as const;
export const FAILURE_KINDS = [...PERMANENT_FAILURE_KINDS, ...TRANSIENT_FAILURE_KINDS] as const;

export type FailureKind = (typeof FAILURE_KINDS)[number];

export function isPermanentFailure(kind: FailureKind): boolean {
  return (PERMANENT_FAILURE_KINDS as readonly string[]).includes(kind);
}

export function isFailureKind(value: unknown): value is FailureKind {
  return (FAILURE_KINDS as readonly unknown[]).includes(value);
}
