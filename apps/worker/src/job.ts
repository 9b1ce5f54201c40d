import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  failureKey,
  type FailureKind,
  type FailureRecord,
  type ObjectRef,
  type SourceRead,
  type VideoInfo,
} from '@thumbs/model';
import type { Logger } from '@thumbs/runtime';
import type { PublishEvent } from './events.ts';
import { classifyFailure } from './failure.ts';
import {
  existingThumbnails,
  headSource,
  makeThumbnails,
  SourceChangedError,
  type JobProgress,
  type ThumbnailSettings,
} from './process-video.ts';

export interface JobSettings {
  s3: S3Client;
  thumbnails: ThumbnailSettings;
  /** The bucket of a source given without one (plain key bodies). */
  defaultBucket: string;
  failurePrefix: string;
  worker: string;
  maxReceiveCount: number;
  publish: PublishEvent;
  log: Logger;
}

/**
 * done: thumbnails stored; failed: may succeed on a retry; unrecoverable: no retry can succeed (to the DLQ
 * now); gone: the source was deleted, nothing to do; superseded: the source was overwritten, and the new
 * version's own message makes its thumbnails; retry: overwritten after this job stored thumbnails of the
 * old version, so a prompt retry must make the new version's.
 */
export type JobOutcome = 'done' | 'failed' | 'unrecoverable' | 'gone' | 'superseded' | 'retry';

function isoTime(value: string | undefined): string | undefined {
  const time = value === undefined ? NaN : Date.parse(value);
  return Number.isNaN(time) ? undefined : new Date(time).toISOString();
}

/** Makes the three thumbnails of one video and tells the pipeline how it went. Throws only when aborted. */
export async function runJob(
  settings: JobSettings,
  ref: ObjectRef,
  attempt: number,
  signal?: AbortSignal,
): Promise<JobOutcome> {
  const started = Date.now();
  const bucket = ref.bucket ?? settings.defaultBucket;
  const log = settings.log.child({ source: ref.key, bucket, attempt });
  const common = { source: ref.key, attempt, worker: settings.worker };
  // What the probe learnt, told with the outcome (a failure after the probe has it too).
  const found: { video?: VideoInfo; sourceRead?: SourceRead } = {};
  try {
    const source = await headSource(settings.s3, bucket, ref.key);
    if (!source) {
      const error = `source s3://${bucket}/${ref.key} no longer exists`;
      log.warn(error);
      await settings.publish({
        type: 'job.failed',
        ...common,
        error,
        final: true,
        time: new Date().toISOString(),
      });
      return 'gone';
    }
    const uploadedAt = isoTime(ref.eventTime) ?? source.lastModified?.toISOString() ?? null;
    log.info('job started');
    await settings.publish({
      type: 'job.started',
      ...common,
      uploadedAt,
      // runJob starts as the message arrives; the HEAD above is the time between the two.
      receivedAt: new Date(started).toISOString(),
      time: new Date().toISOString(),
    });
    const existing = await existingThumbnails(settings.thumbnails, source);
    if (existing) {
      log.info('thumbnails of this version already stored');
      Object.assign(found, { video: existing.video, sourceRead: existing.sourceRead });
    }
    const progress: JobProgress = {
      stage: (stage) =>
        settings.publish({ type: 'job.stage', ...common, stage, time: new Date().toISOString() }),
      probed: (video) => (found.video = video),
      sourceRead: (read) => (found.sourceRead = read),
    };
    const thumbnails =
      existing?.refs ?? (await makeThumbnails(settings.thumbnails, source, signal, progress));
    await clearFailure(settings, ref.key, log);
    const processingMs = Date.now() - started;
    log.info(
      {
        processingMs,
        sourceRead: found.sourceRead,
        size: source.size,
        thumbnails: thumbnails.map((t) => t.key),
      },
      'job done',
    );
    await settings.publish({
      type: 'job.done',
      ...common,
      thumbnails,
      uploadedAt,
      processingMs,
      ...found,
      time: new Date().toISOString(),
    });
    return 'done';
  } catch (error) {
    if (signal?.aborted) {
      // Released for another worker: said like any other failure, so that a job interrupted at every attempt
      // reaches the DLQ with its reason.
      const message = `interrupted by the worker's shutdown (scale-in or a rollout) at attempt ${attempt}; released for another worker`;
      const final = attempt >= settings.maxReceiveCount;
      await reportFailure(settings, common, { kind: 'interrupted', message, final, video: found.video }, log);
      throw error;
    }
    if (error instanceof SourceChangedError) {
      log.info({ written: error.written }, error.message);
      return error.written ? 'retry' : 'superseded';
    }
    const { kind, message, unrecoverable } = classifyFailure(error);
    const final = unrecoverable || attempt >= settings.maxReceiveCount;
    log.error({ err: error, kind, final }, `job failed: ${message}`);
    await reportFailure(settings, common, { kind, message, final, video: found.video }, log);
    return unrecoverable ? 'unrecoverable' : 'failed';
  }
}

interface Failure {
  kind: FailureKind;
  message: string;
  /** The last attempt: the message goes to the DLQ now. */
  final: boolean;
  video?: VideoInfo;
}

/** Records the failure beside the video and tells the pipeline, the same way for every kind of failure. */
async function reportFailure(
  settings: JobSettings,
  common: { source: string; attempt: number; worker: string },
  failure: Failure,
  log: Logger,
): Promise<void> {
  const { kind, message, final, video } = failure;
  const time = new Date().toISOString();
  await recordFailure(settings, { ...common, kind, error: message, time, video }, log);
  await settings.publish({ type: 'job.failed', ...common, error: message, kind, final, video, time });
}

/** Writes failures/<source>.json so the API can show the last error beside the DLQ entry. */
async function recordFailure(settings: JobSettings, record: FailureRecord, log: Logger): Promise<void> {
  try {
    await settings.s3.send(
      new PutObjectCommand({
        Bucket: settings.thumbnails.bucket,
        Key: failureKey(record.source, settings.failurePrefix),
        Body: JSON.stringify(record),
        ContentType: 'application/json',
      }),
    );
  } catch (error) {
    log.warn({ err: error }, 'could not write the failure record');
  }
}

/** A success makes an earlier attempt's failure record stale. */
async function clearFailure(settings: JobSettings, source: string, log: Logger): Promise<void> {
  try {
    await settings.s3.send(
      new DeleteObjectCommand({
        Bucket: settings.thumbnails.bucket,
        Key: failureKey(source, settings.failurePrefix),
      }),
    );
  } catch (error) {
    log.warn({ err: error }, 'could not remove an old failure record');
  }
}
