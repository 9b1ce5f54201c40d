import {
  DeleteObjectsCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import {
  FRAMES,
  VideoInfoSchema,
  buildS3Event,
  conforms,
  failureKey,
  readVideoInfoMetadata,
  thumbnailKeys,
  type AttemptEvent,
  type FailureRecord,
  type PipelineEvent,
  type Thumbnail,
  type VideoDetail,
  type VideoInfo,
} from '@thumbs/model';
import type { StateStore } from '../state/store.ts';
import type { IndexEntry } from '../state/thumbnail-index.ts';
import type { Bucket } from './bucket.ts';
import { thumbnailEntry } from './thumbnail-pages.ts';

export interface VideosOptions {
  s3: S3Client;
  sqs: SQSClient;
  bucket: Bucket;
  bucketName: string;
  region: string;
  thumbnailPrefix: string;
  failurePrefix: string;
  store: StateStore;
  workQueueUrl: () => Promise<string>;
  announce: (event: PipelineEvent) => Promise<void>;
}

const frameOrder = (t: Thumbnail) => FRAMES.findIndex((f) => f.label === t.frame);

/**
 * One video at a time: its detail from this replica's job state and from the bucket (thumbnails by index,
 * the failure record, the probe's findings on a thumbnail's metadata), so older videos have one too; and
 * the admin actions on it.
 */
export class Videos {
  private readonly options: VideosOptions;

  constructor(options: VideosOptions) {
    this.options = options;
  }

  /** Undefined when neither this replica nor the bucket knows anything of the video. */
  async detail(source: string): Promise<VideoDetail | undefined> {
    const { store, bucket } = this.options;
    const history = store.jobs.history(source);
    const entries = await this.storedThumbnails(source);
    const thumbnails = (await store.toThumbnails(entries)).sort((a, b) => frameOrder(a) - frameOrder(b));
    const failure = await bucket.readFailure(source);
    if (!history && thumbnails.length === 0 && !failure) return undefined;
    const deadLetter = store.dlq.some((entry) => entry.source === source);
    let video = history?.video ?? validVideo(failure?.video) ?? null;
    let sourceRead = history?.sourceRead ?? null;
    const first = entries[0];
    if ((!video || !sourceRead) && first) {
      const head = await this.options.s3.send(
        new HeadObjectCommand({ Bucket: this.options.bucketName, Key: first.key }),
      );
      const stored = readVideoInfoMetadata(head.Metadata);
      video ??= stored.video ?? null;
      sourceRead ??= stored.sourceRead ?? null;
    }
    return {
      source,
      job: history?.job ?? null,
      thumbnails,
      video,
      sourceRead,
      attempts: history?.attempts ?? storedTimeline(thumbnails, failure, deadLetter),
      failure: failure
        ? {
            error: failure.error,
            kind: failure.kind ?? null,
            attempt: failure.attempt,
            worker: failure.worker,
            time: failure.time,
          }
        : null,
      deadLetter,
    };
  }

  /** The video's thumbnails, listed by its prefix: the index keeps only the newest videos'. */
  private async storedThumbnails(source: string): Promise<IndexEntry[]> {
    const { bucket, thumbnailPrefix } = this.options;
    const pages = bucket.listPages(`${thumbnailPrefix}${source}/`, { maxKeys: FRAMES.length });
    const first = await pages.next();
    await pages.return(undefined);
    const objects = first.done ? [] : first.value.objects;
    return objects.flatMap((object) => {
      const entry = thumbnailEntry(object, thumbnailPrefix);
      return entry?.source === source ? [entry] : [];
    });
  }

  /**
   * Sends the video to the work queue again, as the S3 event of its upload; false when it is not in the
   * bucket. A version that already has its thumbnails finishes at once (the worker is idempotent).
   */
  async reprocess(source: string): Promise<boolean> {
    const { s3, sqs, bucketName, region } = this.options;
    const listed = await s3.send(
      new ListObjectsV2Command({ Bucket: bucketName, Prefix: source, MaxKeys: 1 }),
    );
    const object = listed.Contents?.find((o) => o.Key === source);
    if (!object) return false;
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: await this.options.workQueueUrl(),
        MessageBody: buildS3Event({
          bucket: bucketName,
          key: source,
          size: object.Size ?? 0,
          eTag: object.ETag ?? '',
          eventName: 'ObjectCreated:Put',
          region,
          configurationId: 'reprocess',
        }),
      }),
    );
    await this.options.announce({ type: 'job.queued', source, time: new Date().toISOString() });
    return true;
  }

  /**
   * Deletes the video, its thumbnails and its failure record at once and tells every replica; the
   * ObjectRemoved event that S3 sends for the video then finds nothing left to clean. Returns the count
   * of keys deleted (S3 does not say which of them existed).
   */
  async remove(source: string): Promise<number> {
    const { s3, bucketName, thumbnailPrefix, failurePrefix } = this.options;
    const keys = [source, ...thumbnailKeys(source, thumbnailPrefix), failureKey(source, failurePrefix)];
    const result = await s3.send(
      new DeleteObjectsCommand({
        Bucket: bucketName,
        Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
      }),
    );
    const first = result.Errors?.[0];
    if (first) throw new Error(`could not delete ${first.Key}: ${first.Message}`);
    await this.options.announce({ type: 'video.removed', source, time: new Date().toISOString() });
    return keys.length;
  }
}

/** A failure record's video info, unless it is malformed (records are written by other versions too). */
function validVideo(value: unknown): VideoInfo | undefined {
  return conforms(VideoInfoSchema, value) ? (value as VideoInfo) : undefined;
}

/** What the bucket tells of a video this replica never saw: its last failure, or when its thumbnails came. */
function storedTimeline(
  thumbnails: Thumbnail[],
  failure: FailureRecord | undefined,
  deadLetter: boolean,
): AttemptEvent[] {
  const none = { attempt: null, worker: null, error: null, kind: null };
  const stored = thumbnails.map((t) => t.lastModified).sort();
  const done: AttemptEvent[] = stored.length ? [{ ...none, event: 'done', time: stored.at(-1)! }] : [];
  const failed: AttemptEvent[] = failure
    ? [
        {
          event: 'failed',
          time: failure.time,
          attempt: failure.attempt,
          worker: failure.worker,
          error: failure.error,
          kind: failure.kind ?? null,
          final: deadLetter,
        },
      ]
    : [];
  return [...failed, ...done].sort((a, b) => a.time.localeCompare(b.time));
}
