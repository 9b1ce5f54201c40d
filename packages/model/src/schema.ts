/**
 * The one source of truth for the pipeline state's shape: JSON Schemas (TypeBox) that the API validates
 * and documents its routes with, and the TypeScript types that api, web and worker share.
 */
import { Type, type Static } from 'typebox';
import { FAILURE_KINDS, type FailureKind } from './failures.ts';
import { FRAME_LABELS, type FrameLabel } from './frames.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

export const FailureKindSchema = Type.Unsafe<FailureKind>(
  Type.String({ enum: [...FAILURE_KINDS], description: 'what kind of failure (see FailureKind)' }),
);

export const FrameLabelSchema = Type.Unsafe<FrameLabel>(
  Type.String({ enum: [...FRAME_LABELS], description: 'the frame position (see FRAMES)' }),
);

export const ThumbnailSchema = Type.Object({
  key: Type.String(),
  url: Type.String({ description: 'presigned GET URL, renewed before it expires' }),
  frame: FrameLabelSchema,
  source: Type.String({ description: "the video's S3 key" }),
  lastModified: Type.String({ format: 'date-time' }),
  size: Type.Integer({ minimum: 0 }),
});
export type Thumbnail = Static<typeof ThumbnailSchema>;

export const QueuePointSchema = Type.Object({
  time: Type.String({ format: 'date-time' }),
  depth: Type.Integer({ minimum: 0 }),
  inFlight: Type.Integer({ minimum: 0 }),
});
export type QueuePoint = Static<typeof QueuePointSchema>;

export const QueueStateSchema = Type.Object({
  depth: Type.Integer({ minimum: 0 }),
  inFlight: Type.Integer({ minimum: 0 }),
  dlqDepth: Type.Integer({ minimum: 0 }),
  history: Type.Array(QueuePointSchema),
});
export type QueueState = Static<typeof QueueStateSchema>;

export const PodPhaseSchema = Type.Union([
  Type.Literal('Pending'),
  Type.Literal('Running'),
  Type.Literal('Succeeded'),
  Type.Literal('Failed'),
  Type.Literal('Unknown'),
]);
export type PodPhase = Static<typeof PodPhaseSchema>;

export const PodSchema = Type.Object({
  name: Type.String(),
  status: PodPhaseSchema,
  ready: Type.Boolean(),
  restarts: Type.Integer({ minimum: 0 }),
  startedAt: Nullable(Type.String({ format: 'date-time' })),
  node: Nullable(Type.String()),
  cpu: Nullable(Type.Number({ description: 'CPU in millicores' })),
  memory: Nullable(Type.Number({ description: 'resident memory in bytes' })),
});
export type Pod = Static<typeof PodSchema>;

export const JobStatusSchema = Type.Union([
  Type.Literal('queued'),
  Type.Literal('processing'),
  Type.Literal('done'),
  Type.Literal('failed'),
]);
export type JobStatus = Static<typeof JobStatusSchema>;

/** What a worker is doing on a job it processes: reading the header, decoding the frames, uploading them. */
export const JobStageSchema = Type.Union([
  Type.Literal('probing'),
  Type.Literal('extracting'),
  Type.Literal('storing'),
]);
export type JobStage = Static<typeof JobStageSchema>;

/** What the probe learnt about a source video; stored with its thumbnails, so it survives restarts. */
export const VideoInfoSchema = Type.Object({
  durationSeconds: Type.Number({ minimum: 0, description: 'of the video stream' }),
  width: Type.Integer({ minimum: 0, description: 'pixels, as stored (before rotation)' }),
  height: Type.Integer({ minimum: 0 }),
  rotation: Type.Integer({
    description: 'degrees the picture is turned for display (phone video); 0 if none',
  }),
  codec: Type.String({ description: "the video stream's codec (ffprobe's name)" }),
  container: Nullable(Type.String({ description: "ffprobe's format name" })),
  size: Nullable(Type.Integer({ minimum: 0, description: 'bytes of the source' })),
  bitRate: Nullable(Type.Integer({ minimum: 0, description: 'bits per second, the whole file' })),
});
export type VideoInfo = Static<typeof VideoInfoSchema>;

export const SourceReadSchema = Type.Object({
  bytes: Type.Integer({ minimum: 0, description: 'bytes of the source the worker fetched' }),
  requests: Type.Integer({ minimum: 0, description: 'ranged GETs it took' }),
});
export type SourceRead = Static<typeof SourceReadSchema>;

export const JobSchema = Type.Object({
  source: Type.String({ description: "the video's S3 key" }),
  status: JobStatusSchema,
  attempts: Type.Integer({ minimum: 0 }),
  uploadedAt: Nullable(Type.String({ format: 'date-time' })),
  startedAt: Nullable(Type.String({ format: 'date-time' })),
  finishedAt: Nullable(Type.String({ format: 'date-time' })),
  processingMs: Nullable(Type.Number({ description: 'time the last attempt took in the worker' })),
  latencyMs: Nullable(Type.Number({ description: 'upload to all three thumbnails stored' })),
  worker: Nullable(Type.String()),
  error: Nullable(Type.String()),
  errorKind: Type.Optional(Nullable(FailureKindSchema)),
  stage: Type.Optional(Nullable(JobStageSchema)),
});
export type Job = Static<typeof JobSchema>;

export const DlqEntrySchema = Type.Object({
  messageId: Type.String(),
  source: Nullable(Type.String()),
  receiveCount: Type.Integer({ minimum: 0 }),
  sentAt: Nullable(Type.String({ format: 'date-time' })),
  error: Nullable(Type.String()),
  errorKind: Type.Optional(Nullable(FailureKindSchema)),
});
export type DlqEntry = Static<typeof DlqEntrySchema>;

export const MetricsSchema = Type.Object({
  thumbnails: Type.Integer({ minimum: 0, description: 'thumbnails stored' }),
  videosDone: Type.Integer({ minimum: 0 }),
  videosFailed: Type.Integer({ minimum: 0 }),
  storageBytes: Type.Integer({ minimum: 0, description: 'bytes under the thumbnail prefix' }),
  counting: Type.Optional(
    Type.Boolean({
      description:
        'true while the first count of the bucket runs: thumbnails, videosDone and storageBytes are partial',
    }),
  ),
  throughputPerMinute: Type.Number({ minimum: 0, description: 'videos finished in the last minute' }),
  latencyP50Ms: Nullable(Type.Number()),
  latencyP95Ms: Nullable(Type.Number()),
  processingP50Ms: Nullable(Type.Number()),
});
export type Metrics = Static<typeof MetricsSchema>;

/**
 * GET /api/metrics: the figures with the queue's and the pods' counts beside them, derived from `queue` and
 * `pods` when asked (the state carries each fact once; see metricsReport).
 */
export const MetricsReportSchema = Type.Object({
  ...MetricsSchema.properties,
  queueDepth: Type.Integer({ minimum: 0 }),
  inFlight: Type.Integer({ minimum: 0 }),
  dlqDepth: Type.Integer({ minimum: 0 }),
  podsRunning: Type.Integer({ minimum: 0 }),
  podsTotal: Type.Integer({ minimum: 0 }),
});
export type MetricsReport = Static<typeof MetricsReportSchema>;

export const SourceStatusSchema = Type.Object({
  ok: Type.Boolean(),
  error: Nullable(Type.String()),
  checkedAt: Nullable(Type.String({ format: 'date-time' })),
});
export type SourceStatus = Static<typeof SourceStatusSchema>;

export const SourcesSchema = Type.Object({
  sqs: SourceStatusSchema,
  s3: SourceStatusSchema,
  pods: SourceStatusSchema,
});
export type Sources = Static<typeof SourcesSchema>;

export const HistoryPointSchema = Type.Object({
  time: Type.String({ format: 'date-time', description: 'start of the slot' }),
  done: Type.Integer({ minimum: 0, description: 'videos finished in the slot' }),
  failed: Type.Integer({ minimum: 0, description: 'videos that failed for good in the slot' }),
  latencyP50Ms: Nullable(
    Type.Number({ description: 'upload to thumbnails, of the videos finished in the slot' }),
  ),
  latencyP95Ms: Nullable(Type.Number()),
  depth: Type.Integer({ minimum: 0, description: 'queue depth at the end of the slot' }),
  inFlight: Type.Integer({ minimum: 0 }),
});
export type HistoryPoint = Static<typeof HistoryPointSchema>;

/** One series in columns (one entry per slot, oldest first, no gaps): a day of slots stays a few KiB. */
export const HistorySeriesSchema = Type.Object({
  slotMs: Type.Integer({ minimum: 1000 }),
  capacity: Type.Integer({ minimum: 1, description: 'slots kept: the series spans slotMs × capacity' }),
  start: Type.String({ format: 'date-time', description: 'start of the first slot' }),
  done: Type.Array(Type.Integer({ minimum: 0 })),
  failed: Type.Array(Type.Integer({ minimum: 0 })),
  latencyP50Ms: Type.Array(Nullable(Type.Number())),
  latencyP95Ms: Type.Array(Nullable(Type.Number())),
  depth: Type.Array(Type.Integer({ minimum: 0 })),
  inFlight: Type.Array(Type.Integer({ minimum: 0 })),
});
export type HistorySeries = Static<typeof HistorySeriesSchema>;

/** Server-side history, the same on every replica: 5 s slots for the last hour, 1 min slots for 24 hours. */
export const HistorySchema = Type.Object({ fine: HistorySeriesSchema, coarse: HistorySeriesSchema });
export type History = Static<typeof HistorySchema>;

export const BackfillStatusSchema = Type.Object({
  unprocessed: Nullable(
    Type.Integer({
      minimum: 0,
      description:
        'videos the last sweep found without thumbnails or a failure record; null before any sweep',
    }),
  ),
  queued: Type.Integer({ minimum: 0, description: 'of those, queued again by the last sweep' }),
  sweptAt: Nullable(Type.String({ format: 'date-time' })),
});
export type BackfillStatus = Static<typeof BackfillStatusSchema>;

export const PipelineStateSchema = Type.Object({
  metrics: MetricsSchema,
  queue: QueueStateSchema,
  pods: Type.Array(PodSchema),
  thumbnails: Type.Array(ThumbnailSchema, { description: 'the most recent thumbnails; page the rest' }),
  jobs: Type.Array(JobSchema),
  dlq: Type.Array(DlqEntrySchema),
  sources: SourcesSchema,
  backfill: BackfillStatusSchema,
  history: HistorySchema,
  generatedAt: Type.String({ format: 'date-time' }),
});
export type PipelineState = Static<typeof PipelineStateSchema>;

/** Server → browser messages on `/ws`. The first is always a snapshot; the rest are small updates. */
export const ServerMessageSchema = Type.Union([
  Type.Object({ type: Type.Literal('snapshot'), state: PipelineStateSchema }),
  Type.Object({ type: Type.Literal('queue'), queue: QueueStateSchema }),
  Type.Object({ type: Type.Literal('pods'), pods: Type.Array(PodSchema) }),
  Type.Object({
    type: Type.Literal('thumbnails'),
    added: Type.Array(ThumbnailSchema),
    removed: Type.Array(Type.String()),
  }),
  Type.Object({ type: Type.Literal('job'), job: JobSchema }),
  Type.Object({ type: Type.Literal('dlq'), dlq: Type.Array(DlqEntrySchema) }),
  Type.Object({ type: Type.Literal('metrics'), metrics: MetricsSchema }),
  Type.Object({ type: Type.Literal('sources'), sources: SourcesSchema }),
  Type.Object({ type: Type.Literal('purged') }),
  Type.Object({ type: Type.Literal('backfill'), backfill: BackfillStatusSchema }),
  Type.Object({
    type: Type.Literal('history'),
    fine: Type.Array(HistoryPointSchema, { description: 'slots that changed, to put in place by time' }),
    coarse: Type.Array(HistoryPointSchema),
  }),
  Type.Object({
    type: Type.Literal('removed'),
    source: Type.String({ description: 'a video deleted from the bucket' }),
  }),
  Type.Object({ type: Type.Literal('heartbeat'), time: Type.String({ format: 'date-time' }) }),
  Type.Object({ type: Type.Literal('pong'), id: Type.Optional(Type.String({ maxLength: 64 })) }),
  Type.Object({ type: Type.Literal('error'), message: Type.String() }),
]);
export type ServerMessage = Static<typeof ServerMessageSchema>;

/** Browser → server messages on `/ws`. Anything else is answered with an `error` message. */
export const ClientMessageSchema = Type.Union([
  Type.Object({ type: Type.Literal('ping'), id: Type.Optional(Type.String({ maxLength: 64 })) }),
  Type.Object({ type: Type.Literal('resync') }),
]);
export type ClientMessage = Static<typeof ClientMessageSchema>;

export const ThumbnailRefSchema = Type.Object({
  key: Type.String(),
  frame: FrameLabelSchema,
  size: Type.Integer({ minimum: 0 }),
});

/**
 * Events that workers and API replicas publish to the events topic. Every API replica has its own queue
 * subscribed to the topic, so each replica sees every event (fan-out).
 */
export const PipelineEventSchema = Type.Union([
  Type.Object({
    type: Type.Literal('job.queued'),
    source: Type.String(),
    time: Type.String({ format: 'date-time' }),
  }),
  Type.Object({
    type: Type.Literal('job.started'),
    source: Type.String(),
    attempt: Type.Integer({ minimum: 1 }),
    worker: Type.String(),
    uploadedAt: Nullable(Type.String({ format: 'date-time' })),
    receivedAt: Type.Optional(
      Type.String({ format: 'date-time', description: 'when the worker received the message' }),
    ),
    time: Type.String({ format: 'date-time' }),
  }),
  Type.Object({
    type: Type.Literal('job.stage'),
    source: Type.String(),
    attempt: Type.Integer({ minimum: 1 }),
    worker: Type.String(),
    stage: JobStageSchema,
    time: Type.String({ format: 'date-time' }),
  }),
  Type.Object({
    type: Type.Literal('job.done'),
    source: Type.String(),
    attempt: Type.Integer({ minimum: 1 }),
    worker: Type.String(),
    thumbnails: Type.Array(ThumbnailRefSchema),
    uploadedAt: Nullable(Type.String({ format: 'date-time' })),
    processingMs: Type.Number({ minimum: 0 }),
    video: Type.Optional(VideoInfoSchema),
    sourceRead: Type.Optional(SourceReadSchema),
    time: Type.String({ format: 'date-time' }),
  }),
  Type.Object({
    type: Type.Literal('job.failed'),
    source: Type.String(),
    attempt: Type.Integer({ minimum: 1 }),
    worker: Type.String(),
    error: Type.String(),
    kind: Type.Optional(FailureKindSchema),
    final: Type.Boolean({ description: 'true when this was the last receive before the DLQ' }),
    /** Present when the probe got that far. */
    video: Type.Optional(VideoInfoSchema),
    time: Type.String({ format: 'date-time' }),
  }),
  Type.Object({
    type: Type.Literal('video.removed'),
    source: Type.String({
      description: 'deleted from the bucket; its thumbnails and failure record are gone',
    }),
    time: Type.String({ format: 'date-time' }),
  }),
  Type.Object({
    type: Type.Literal('backfill.swept'),
    unprocessed: Type.Integer({ minimum: 0 }),
    queued: Type.Integer({ minimum: 0 }),
    time: Type.String({ format: 'date-time' }),
  }),
  Type.Object({ type: Type.Literal('purged'), time: Type.String({ format: 'date-time' }) }),
]);
export type PipelineEvent = Static<typeof PipelineEventSchema>;

/** REST shapes beyond the state itself (GET /api/thumbnails, the admin routes). */
export const ThumbnailPageSchema = Type.Object({
  items: Type.Array(ThumbnailSchema),
  nextCursor: Nullable(
    Type.String({ description: 'pass as `cursor` for the next page; null on the last page' }),
  ),
});
export type ThumbnailPage = Static<typeof ThumbnailPageSchema>;

export const UploadRequestSchema = Type.Object(
  {
    filename: Type.String({ minLength: 1, maxLength: 1024 }),
    contentType: Type.String({ minLength: 1, maxLength: 128 }),
    size: Type.Integer({ minimum: 1, description: 'bytes; the presigned URL accepts exactly this length' }),
  },
  { additionalProperties: false },
);
export type UploadRequest = Static<typeof UploadRequestSchema>;

export const PresignedUploadSchema = Type.Object({
  key: Type.String({ description: 'the object key the video will have under uploads/' }),
  url: Type.String(),
  method: Type.Literal('PUT'),
  headers: Type.Record(Type.String(), Type.String()),
  expiresAt: Type.String({ format: 'date-time' }),
});
export type PresignedUpload = Static<typeof PresignedUploadSchema>;

/**
 * Multipart uploads from the dashboard (resumable, up to S3's 5 TiB object limit): the server picks the key and
 * the part size; the browser asks for presigned UploadPart URLs, lists the parts S3 has (to resume), then
 * completes or aborts.
 */
export const MultipartUploadSchema = Type.Object({
  key: Type.String({ description: 'the object key the video will have under uploads/' }),
  uploadId: Type.String(),
  partSize: Type.Integer({ minimum: 1, description: 'bytes in every part but the last' }),
  partCount: Type.Integer({ minimum: 1, maximum: 10000 }),
});
export type MultipartUpload = Static<typeof MultipartUploadSchema>;

const UploadIdentity = {
  key: Type.String({ minLength: 1, maxLength: 1024, description: 'as create answered' }),
  uploadId: Type.String({ minLength: 1, maxLength: 1024 }),
};
const PartNumber = Type.Integer({ minimum: 1, maximum: 10000 });

export const MultipartUploadRefSchema = Type.Object(UploadIdentity, { additionalProperties: false });
export type MultipartUploadRef = Static<typeof MultipartUploadRefSchema>;

export const SignPartsRequestSchema = Type.Object(
  {
    ...UploadIdentity,
    partNumbers: Type.Array(PartNumber, { minItems: 1, maxItems: 100, uniqueItems: true }),
  },
  { additionalProperties: false },
);
export type SignPartsRequest = Static<typeof SignPartsRequestSchema>;

export const SignedPartsSchema = Type.Object({
  parts: Type.Array(Type.Object({ partNumber: PartNumber, url: Type.String() })),
  expiresAt: Type.String({ format: 'date-time' }),
});
export type SignedParts = Static<typeof SignedPartsSchema>;

export const UploadedPartsSchema = Type.Object({
  parts: Type.Array(
    Type.Object({ partNumber: PartNumber, eTag: Type.String(), size: Type.Integer({ minimum: 0 }) }),
  ),
});
export type UploadedParts = Static<typeof UploadedPartsSchema>;

export const CompleteUploadRequestSchema = Type.Object(
  {
    ...UploadIdentity,
    parts: Type.Array(
      Type.Object(
        { partNumber: PartNumber, eTag: Type.String({ minLength: 1, maxLength: 128 }) },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 10000 },
    ),
  },
  { additionalProperties: false },
);
export type CompleteUploadRequest = Static<typeof CompleteUploadRequestSchema>;

export const CompletedUploadSchema = Type.Object({ key: Type.String(), eTag: Type.String() });
export type CompletedUpload = Static<typeof CompletedUploadSchema>;

/** One step of a video's history, oldest first: queued, received, started, done or failed. */
export const AttemptEventSchema = Type.Object({
  event: Type.Union([
    Type.Literal('queued'),
    Type.Literal('received'),
    Type.Literal('started'),
    Type.Literal('done'),
    Type.Literal('failed'),
  ]),
  time: Type.String({ format: 'date-time' }),
  attempt: Nullable(Type.Integer({ minimum: 1 })),
  worker: Nullable(Type.String()),
  error: Nullable(Type.String({ description: 'the full message of a failure' })),
  kind: Nullable(FailureKindSchema),
  final: Type.Optional(Type.Boolean({ description: 'a failure after which the message went to the DLQ' })),
});
export type AttemptEvent = Static<typeof AttemptEventSchema>;

export const FailureRecordSchema = Type.Object({
  error: Type.String(),
  kind: Nullable(FailureKindSchema),
  attempt: Type.Integer({ minimum: 0 }),
  worker: Type.String(),
  time: Type.String(),
});

/** GET /api/video: one video, from this replica's job state and from what the bucket keeps of it. */
export const VideoDetailSchema = Type.Object({
  source: Type.String({ description: "the video's S3 key" }),
  job: Nullable(JobSchema),
  thumbnails: Type.Array(ThumbnailSchema),
  video: Nullable(VideoInfoSchema),
  sourceRead: Nullable(SourceReadSchema),
  attempts: Type.Array(AttemptEventSchema, {
    description: 'what this replica saw since it started (bounded); empty for older videos',
  }),
  failure: Nullable(FailureRecordSchema),
  deadLetter: Type.Boolean({ description: 'listed in the dead-letter panel' }),
});
export type VideoDetail = Static<typeof VideoDetailSchema>;

export const QueuedResultSchema = Type.Object({ queued: Type.Integer({ minimum: 0 }) });
export const DeletedResultSchema = Type.Object({ deleted: Type.Integer({ minimum: 0 }) });
export const MovedResultSchema = Type.Object({ moved: Type.Integer({ minimum: 0 }) });
export const BackfillResultSchema = Type.Object({
  unprocessed: Type.Integer({ minimum: 0 }),
  queued: Type.Integer({ minimum: 0 }),
});
