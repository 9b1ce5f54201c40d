/**
 * Why a video failed, as the worker classifies it. The first group can never succeed on a retry (the
 * worker dead-letters the message at its first attempt); the rest are worth another attempt.
 */
export const PERMANENT_FAILURE_KINDS = [
  'not-a-video',
  'no-video-stream',
  'corrupt',
  'unsupported-codec',
  'too-large',
] as const;
export const TRANSIENT_FAILURE_KINDS = ['timed-out', 'storage', 'interrupted', 'unknown'] as const;
export const FAILURE_KINDS = [...PERMANENT_FAILURE_KINDS, ...TRANSIENT_FAILURE_KINDS] as const;

export type FailureKind = (typeof FAILURE_KINDS)[number];

export function isPermanentFailure(kind: FailureKind): boolean {
  return (PERMANENT_FAILURE_KINDS as readonly string[]).includes(kind);
}

export function isFailureKind(value: unknown): value is FailureKind {
  return (FAILURE_KINDS as readonly unknown[]).includes(value);
}
