import type { AttemptEvent, Job, PipelineEvent, SourceRead, VideoInfo } from '@thumbs/model';
import { setNewest } from '@thumbs/runtime';
import { percentile } from './percentiles.ts';

const WINDOW = 200;
const MINUTE = 60_000;
/** Timeline entries kept per video: a few attempts' worth (the receive limit is a handful). */
const TIMELINE = 40;

type JobEvent = Extract<PipelineEvent, { type: `job.${string}` }>;

/** What this replica saw of one video beyond its Job record: its timeline and the probe's findings. */
export interface JobHistory {
  job: Job;
  attempts: AttemptEvent[];
  video: VideoInfo | null;
  sourceRead: SourceRead | null;
}

export interface JobFigures {
  videosFailed: number;
  throughputPerMinute: number;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  processingP50Ms: number | null;
}

function emptyJob(source: string): Job {
  return {
    source,
    status: 'queued',
    attempts: 0,
    uploadedAt: null,
    startedAt: null,
    finishedAt: null,
    processingMs: null,
    latencyMs: null,
    worker: null,
    error: null,
    errorKind: null,
    stage: null,
  };
}

function entry(event: AttemptEvent['event'], time: string, fields: Partial<AttemptEvent> = {}): AttemptEvent {
  return { event, time, attempt: null, worker: null, error: null, kind: null, ...fields };
}

/** The timeline entries one event adds (none for a stage change). */
function timelineEntries(event: JobEvent): AttemptEvent[] {
  const { time } = event;
  switch (event.type) {
    case 'job.queued':
      return [entry('queued', time)];
    case 'job.started': {
      const who = { attempt: event.attempt, worker: event.worker };
      const received = event.receivedAt ? [entry('received', event.receivedAt, who)] : [];
      return [...received, entry('started', time, who)];
    }
    case 'job.done':
      return [entry('done', time, { attempt: event.attempt, worker: event.worker })];
    case 'job.failed':
      return [
        entry('failed', time, {
          attempt: event.attempt,
          worker: event.worker,
          error: event.error,
          kind: event.kind ?? null,
          final: event.final,
        }),
      ];
    case 'job.stage':
      return [];
  }
}

/**
 * Per-video job records built from pipeline events (queued → processing → done | failed), the most recent
 * few hundred kept with their timelines, plus the figures derived from them: failures, throughput and
 * latency percentiles.
 */
export class JobTracker {
  private readonly jobs = new Map<string, Job>();
  private readonly histories = new Map<string, Omit<JobHistory, 'job'>>();
  private readonly limit: number;
  private finishedAt: number[] = [];
  private latencies: number[] = [];
  private processing: number[] = [];
  private failed = 0;

  constructor(limit = 500) {
    this.limit = limit;
  }

  /** Applies one event; returns the job it changed, or undefined when the event changed nothing. */
  apply(event: JobEvent): Job | undefined {
    const job = this.update(event);
    if (job) this.record(event);
    return job;
  }

  private update(event: JobEvent): Job | undefined {
    const previous = this.jobs.get(event.source);
    const job: Job = previous ? { ...previous } : emptyJob(event.source);
    switch (event.type) {
      case 'job.queued':
        if (previous?.status === 'processing') return undefined;
        if (previous?.status === 'queued' && previous.uploadedAt === event.time) return undefined;
        Object.assign(job, emptyJob(event.source), { uploadedAt: event.time });
        break;
      case 'job.started':
        if (previous?.status === 'done' && previous.attempts >= event.attempt) return undefined;
        job.status = 'processing';
        job.attempts = Math.max(job.attempts, event.attempt);
        job.startedAt = event.time;
        job.finishedAt = null;
        job.worker = event.worker;
        job.uploadedAt = event.uploadedAt ?? job.uploadedAt;
        job.stage = 'probing';
        break;
      case 'job.stage':
        // Only the attempt in progress moves on (events of one that was given up on may arrive late).
        if (previous?.status !== 'processing' || previous.attempts !== event.attempt) return undefined;
        if (previous.worker !== event.worker || previous.stage === event.stage) return undefined;
        job.stage = event.stage;
        break;
      case 'job.done': {
        if (previous?.status === 'done' && previous.finishedAt === event.time) return undefined;
        job.status = 'done';
        job.attempts = Math.max(job.attempts, event.attempt);
        job.finishedAt = event.time;
        job.worker = event.worker;
        job.error = null;
        job.errorKind = null;
        job.uploadedAt = event.uploadedAt ?? job.uploadedAt;
        job.processingMs = event.processingMs;
        job.stage = null;
        job.startedAt ??= new Date(Date.parse(event.time) - event.processingMs).toISOString();
        job.latencyMs = job.uploadedAt
          ? Math.max(0, Date.parse(event.time) - Date.parse(job.uploadedAt))
          : null;
        this.recordDone(Date.parse(event.time), job);
        break;
      }
      case 'job.failed':
        if (previous?.status === 'done') return undefined;
        job.status = event.final ? 'failed' : 'queued';
        job.attempts = Math.max(job.attempts, event.attempt);
        job.finishedAt = event.final ? event.time : null;
        job.worker = event.worker;
        job.error = event.error;
        job.errorKind = event.kind ?? null;
        job.stage = null;
        if (event.final && previous?.status !== 'failed') this.failed++;
        break;
    }
    const evicted = setNewest(this.jobs, event.source, job, this.limit);
    if (evicted !== undefined) this.remove(evicted);
    return job;
  }

  /** Adds the event to the video's timeline (a repeated delivery once) and keeps what the probe found. */
  private record(event: JobEvent): void {
    const history = this.histories.get(event.source) ?? { attempts: [], video: null, sourceRead: null };
    const known = new Set(history.attempts.map((a) => JSON.stringify(a)));
    const added = timelineEntries(event).filter((a) => !known.has(JSON.stringify(a)));
    history.attempts = [...history.attempts, ...added].slice(-TIMELINE);
    // A new upload under the key (or a reprocess) is probed again.
    if (event.type === 'job.queued') Object.assign(history, { video: null, sourceRead: null });
    if ((event.type === 'job.done' || event.type === 'job.failed') && event.video)
      history.video = event.video;
    if (event.type === 'job.done' && event.sourceRead) history.sourceRead = event.sourceRead;
    this.histories.set(event.source, history);
  }

  /** The job, timeline and probe findings of one video this replica still remembers. */
  history(source: string): JobHistory | undefined {
    const job = this.jobs.get(source);
    const history = this.histories.get(source);
    return job && history && { job, ...history };
  }

  /** Forgets a deleted video's job; true when there was one. */
  remove(source: string): boolean {
    this.histories.delete(source);
    return this.jobs.delete(source);
  }

  /** The most recent jobs first. */
  list(): Job[] {
    return [...this.jobs.values()].reverse();
  }

  figures(now = Date.now()): JobFigures {
    this.finishedAt = this.finishedAt.filter((t) => now - t <= MINUTE);
    return {
      videosFailed: this.failed,
      throughputPerMinute: this.finishedAt.length,
      latencyP50Ms: percentile(this.latencies, 50),
      latencyP95Ms: percentile(this.latencies, 95),
      processingP50Ms: percentile(this.processing, 50),
    };
  }

  clear(): void {
    this.jobs.clear();
    this.histories.clear();
    this.finishedAt = [];
    this.latencies = [];
    this.processing = [];
    this.failed = 0;
  }

  private recordDone(time: number, job: Job): void {
    this.finishedAt.push(time);
    if (job.latencyMs !== null) this.latencies = [...this.latencies, job.latencyMs].slice(-WINDOW);
    if (job.processingMs !== null) this.processing = [...this.processing, job.processingMs].slice(-WINDOW);
  }
}
