import { isPermanentFailure, type FailureKind } from '@thumbs/model';
import { errorMessage } from '@thumbs/runtime';

/** A job failure with its kind: what went wrong, in words a user of the dashboard can act on. */
export class JobError extends Error {
  override name = 'JobError';
  readonly kind: FailureKind;
  constructor(kind: FailureKind, message: string, options?: ErrorOptions) {
    super(message, options);
    this.kind = kind;
  }
}

/**
 * No retry can fix this (BullMQ's UnrecoverableError): the file itself is the problem, so the worker
 * dead-letters the message at this attempt instead of receiving it again.
 */
export class UnrecoverableError extends JobError {
  override name = 'UnrecoverableError';
}

/** The error for a failure of this kind: unrecoverable when the kind says a retry cannot help. */
export function jobError(kind: FailureKind, message: string, options?: ErrorOptions): JobError {
  return isPermanentFailure(kind)
    ? new UnrecoverableError(kind, message, options)
    : new JobError(kind, message, options);
}

/** Kind and message of any error a job can end with; anything unclassified is worth a retry. */
export function classifyFailure(error: unknown): {
  kind: FailureKind;
  message: string;
  unrecoverable: boolean;
} {
  const message = errorMessage(error);
  const kind = error instanceof JobError ? error.kind : 'unknown';
  return { kind, message, unrecoverable: error instanceof UnrecoverableError };
}
