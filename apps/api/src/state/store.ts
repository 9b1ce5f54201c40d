import type {
  BackfillStatus,
  DlqEntry,
  Job,
  Metrics,
  PipelineState,
  Pod,
  QueueState,
  ServerMessage,
  Sources,
  Thumbnail,
} from '@thumbs/model';
import type { PresignCache } from '../feeds/presign-cache.ts';
import { JobTracker } from './jobs.ts';
import { MetricHistory } from './metric-history.ts';
import { QueueHistory } from './queue-history.ts';
import { ThumbnailCount } from './thumbnail-count.ts';
import { ThumbnailIndex, type IndexEntry } from './thumbnail-index.ts';

export type SourceName = keyof Sources;
export type Listener = (message: ServerMessage) => void;

const METRICS_DEBOUNCE_MS = 100;
/** Thumbnails kept in memory (the newest, about 3 MB): the snapshot's and each recent video's frames. */
const RECENT_THUMBNAILS = 10_000;

/**
 * The pipeline state this replica knows, kept current by the sources. Every change is announced to the
 * listeners as the small ServerMessage that describes it (the WebSocket hub forwards them); the full state
 * is only assembled for a snapshot.
 */
export class StateStore {
  readonly index = new ThumbnailIndex(RECENT_THUMBNAILS);
  readonly count = new ThumbnailCount();
  readonly jobs: JobTracker;
  readonly history = new QueueHistory();
  readonly metricHistory = new MetricHistory();
  private lastHistoryUpdate = '';
  readonly presign: PresignCache;
  private readonly snapshotThumbnails: number;
  private readonly listeners = new Set<Listener>();
  private queueNow = { depth: 0, inFlight: 0, dlqDepth: 0 };
  private podList: Pod[] = [];
  private dlqList: DlqEntry[] = [];
  private backfillStatus: BackfillStatus = { unprocessed: null, queued: 0, sweptAt: null };
  private sourceStatus: Sources = {
    sqs: { ok: false, error: 'not checked yet', checkedAt: null },
    s3: { ok: false, error: 'not checked yet', checkedAt: null },
    pods: { ok: false, error: 'not checked yet', checkedAt: null },
  };
  private metricsTimer: NodeJS.Timeout | undefined;
  private lastMetrics = '';

  constructor(options: { presign: PresignCache; snapshotThumbnails: number; recentJobs: number }) {
    this.presign = options.presign;
    this.snapshotThumbnails = options.snapshotThumbnails;
    this.jobs = new JobTracker(options.recentJobs);
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get queue(): QueueState {
    return { ...this.queueNow, history: this.history.list() };
  }

  get pods(): Pod[] {
    return this.podList;
  }

  get dlq(): DlqEntry[] {
    return this.dlqList;
  }

  get backfill(): BackfillStatus {
    return this.backfillStatus;
  }

  /** The last backfill sweep's findings (any replica's: they come through the events fan-out). */
  setBackfill(status: BackfillStatus): void {
    this.backfillStatus = status;
    this.emit({ type: 'backfill', backfill: status });
  }

  get sources(): Sources {
    return this.sourceStatus;
  }

  setQueue(sample: { depth: number; inFlight: number; dlqDepth: number }, now = Date.now()): void {
    const grew = this.history.record({ depth: sample.depth, inFlight: sample.inFlight }, now);
    const changed =
      sample.depth !== this.queueNow.depth ||
      sample.inFlight !== this.queueNow.inFlight ||
      sample.dlqDepth !== this.queueNow.dlqDepth;
    this.queueNow = { ...sample };
    if (changed || grew) this.emit({ type: 'queue', queue: this.queue });
    this.metricHistory.recordQueue(sample.depth, sample.inFlight, now);
    this.emitHistory();
    // Also lets time-based figures (throughput over the last minute) decay while nothing happens.
    this.scheduleMetrics();
  }

  setPods(pods: Pod[]): void {
    if (JSON.stringify(pods) === JSON.stringify(this.podList)) return;
    this.podList = pods;
    this.emit({ type: 'pods', pods });
  }

  setDlq(entries: DlqEntry[]): void {
    if (JSON.stringify(entries) === JSON.stringify(this.dlqList)) return;
    this.dlqList = entries;
    this.emit({ type: 'dlq', dlq: entries });
  }

  /** Records a source's health; announces it only when it turns healthy or unhealthy, or its error changes. */
  setSource(name: SourceName, error: string | null): void {
    const previous = this.sourceStatus[name];
    const next = { ok: error === null, error, checkedAt: new Date().toISOString() };
    this.sourceStatus = { ...this.sourceStatus, [name]: next };
    if (previous.ok !== next.ok || previous.error !== next.error) {
      this.emit({ type: 'sources', sources: this.sourceStatus });
    }
  }

  jobChanged(job: Job): void {
    if (job.status === 'done') this.metricHistory.recordDone(job.latencyMs);
    if (job.status === 'failed') this.metricHistory.recordFailed();
    this.emit({ type: 'job', job });
    this.scheduleMetrics();
  }

  /** Keeps thumbnails (an event's: they are the newest) and tells clients of those the index kept. */
  async addThumbnails(entries: IndexEntry[]): Promise<void> {
    await this.announceThumbnails(
      entries.filter((entry) => this.index.upsert(entry)),
      [],
    );
  }

  /** Forgets thumbnails and tells clients; returns how many the index held. */
  async removeThumbnails(keys: string[]): Promise<number> {
    const removed = keys.filter((key) => this.index.remove(key));
    await this.announceThumbnails([], removed);
    return removed.length;
  }

  /**
   * A page of the listing was walked: offers its thumbnails to the index (one an event brought keeps the
   * event's time), and tells clients of what entered the snapshot's newest thumbnails.
   */
  async thumbnailsListed(entries: IndexEntry[]): Promise<void> {
    const added = new Set(
      entries.filter((e) => !this.index.has(e.key) && this.index.upsert(e)).map((e) => e.key),
    );
    const shown = this.index.recent(this.snapshotThumbnails).filter((e) => added.has(e.key));
    if (shown.length > 0)
      this.emit({ type: 'thumbnails', added: await this.toThumbnails(shown), removed: [] });
    this.scheduleMetrics();
  }

  private async announceThumbnails(added: IndexEntry[], removed: string[]): Promise<void> {
    if (added.length === 0 && removed.length === 0) return;
    for (const key of removed) this.presign.forget(key);
    this.emit({ type: 'thumbnails', added: await this.toThumbnails(added), removed });
    this.scheduleMetrics();
  }

  /** The totals changed without any thumbnail to announce (a walk finished). */
  countChanged(): void {
    this.scheduleMetrics();
  }

  /** Everything under the prefixes is gone: forget it all and tell every client at once. */
  purged(): void {
    this.index.clear();
    this.count.clear();
    this.presign.clear();
    this.jobs.clear();
    this.dlqList = [];
    this.emit({ type: 'purged' });
    this.emit({ type: 'dlq', dlq: [] });
    this.emitMetrics();
  }

  /** A video was deleted: its thumbnails (their keys given), job and dead letter go, and every client is told. */
  async videoRemoved(source: string, thumbnailKeys: string[]): Promise<void> {
    await this.removeThumbnails(thumbnailKeys);
    this.jobs.remove(source);
    this.setDlq(this.dlqList.filter((entry) => entry.source !== source));
    this.emit({ type: 'removed', source });
    this.scheduleMetrics();
  }

  metrics(now = Date.now()): Metrics {
    const figures = this.jobs.figures(now);
    const totals = this.count.totals;
    return {
      thumbnails: totals.thumbnails,
      videosDone: totals.videos,
      videosFailed: figures.videosFailed,
      storageBytes: totals.bytes,
      counting: this.count.counting,
      throughputPerMinute: figures.throughputPerMinute,
      latencyP50Ms: figures.latencyP50Ms,
      latencyP95Ms: figures.latencyP95Ms,
      processingP50Ms: figures.processingP50Ms,
    };
  }

  async toThumbnails(entries: IndexEntry[]): Promise<Thumbnail[]> {
    return Promise.all(
      entries.map(async (entry) => ({
        key: entry.key,
        url: (await this.presign.get(entry.key)).url,
        frame: entry.frame,
        source: entry.source,
        lastModified: new Date(entry.lastModified).toISOString(),
        size: entry.size,
      })),
    );
  }

  /** The newest thumbnails the snapshot carries (the rest are paged through the REST API). */
  recentThumbnails(): Promise<Thumbnail[]> {
    return this.toThumbnails(this.index.recent(this.snapshotThumbnails));
  }

  /** Re-signs the snapshot's URLs that are due for renewal and pushes them, so open dashboards never expire. */
  async renewUrls(now = Date.now()): Promise<number> {
    const due = this.index
      .recent(this.snapshotThumbnails)
      .filter((e) => this.presign.needsRenewal(e.key, now));
    if (due.length > 0) this.emit({ type: 'thumbnails', added: await this.toThumbnails(due), removed: [] });
    return due.length;
  }

  async snapshot(): Promise<PipelineState> {
    return {
      metrics: this.metrics(),
      queue: this.queue,
      pods: this.podList,
      thumbnails: await this.recentThumbnails(),
      jobs: this.jobs.list(),
      dlq: this.dlqList,
      sources: this.sourceStatus,
      backfill: this.backfillStatus,
      history: this.metricHistory.history(),
      generatedAt: new Date().toISOString(),
    };
  }

  close(): void {
    clearTimeout(this.metricsTimer);
    this.listeners.clear();
  }

  private emit(message: ServerMessage): void {
    for (const listener of this.listeners) listener(message);
  }

  /** The history slots being filled, when they changed (the queue poll drives it, once a second or so). */
  private emitHistory(): void {
    const latest = this.metricHistory.latest();
    const serialized = JSON.stringify(latest);
    if (serialized === this.lastHistoryUpdate) return;
    this.lastHistoryUpdate = serialized;
    this.emit({ type: 'history', ...latest });
  }

  private scheduleMetrics(): void {
    if (this.metricsTimer) return;
    this.metricsTimer = setTimeout(() => {
      this.metricsTimer = undefined;
      this.emitMetrics();
    }, METRICS_DEBOUNCE_MS);
    this.metricsTimer.unref();
  }

  private emitMetrics(): void {
    const metrics = this.metrics();
    const serialized = JSON.stringify(metrics);
    if (serialized === this.lastMetrics) return;
    this.lastMetrics = serialized;
    this.emit({ type: 'metrics', metrics });
  }
}
