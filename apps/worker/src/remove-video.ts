import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { failureKey, thumbnailKeys, type ObjectRef } from '@thumbs/model';
import type { JobOutcome, JobSettings } from './job.ts';
import { headSource } from './process-video.ts';

/**
 * An ObjectRemoved event: the video's thumbnails and failure record go with it, and every dashboard is told.
 * Safe to repeat (SQS delivers at least once) and to receive late: a video uploaded again under the same key
 * since the delete keeps its results.
 */
export async function removeVideo(settings: JobSettings, ref: ObjectRef): Promise<JobOutcome> {
  const bucket = ref.bucket ?? settings.defaultBucket;
  const log = settings.log.child({ source: ref.key, bucket });
  try {
    if (await headSource(settings.s3, bucket, ref.key)) {
      log.info('removal event for a video that exists again; keeping its thumbnails');
      return 'done';
    }
    const { s3, thumbnails, failurePrefix } = settings;
    const keys = [...thumbnailKeys(ref.key, thumbnails.thumbnailPrefix), failureKey(ref.key, failurePrefix)];
    await Promise.all(
      keys.map((key) => s3.send(new DeleteObjectCommand({ Bucket: thumbnails.bucket, Key: key }))),
    );
    log.info('video deleted; its thumbnails and failure record removed');
    await settings.publish({ type: 'video.removed', source: ref.key, time: new Date().toISOString() });
    return 'done';
  } catch (error) {
    log.warn({ err: error }, 'could not remove the thumbnails of a deleted video; retrying');
    return 'failed';
  }
}
