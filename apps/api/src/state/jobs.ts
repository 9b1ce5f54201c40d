import type { Job, PipelineEvent } from '@thumbs/model';
import { percentile } from './percentiles.ts';

const WINDOW = 200;
const MINUTE = 60_000;

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
  };
}

/**
 * Per-video job records built from pipeline events (queued → processing → done | failed), the most recent
 * few hundred kept, plus the figures derived from them: failures, throughput and latency percentiles.
 */
export class JobTracker {
  private readonly jobs = new Map<string, Job>();
  private readonly limit: number;
  private finishedAt: number[] = [];
  private latencies: number[] = [];
  private processing: number[] = [];
  private failed = 0;

  constructor(limit = 500) {
    this.limit = limit;
  }

  /** Applies one event; returns the job it changed, or undefined when the event changed nothing. */
  apply(event: Extract<PipelineEvent, { type: `job.${string}` }>): Job | undefined {
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
        if (event.final && previous?.status !== 'failed') this.failed++;
        break;
    }
    this.jobs.delete(event.source);
    this.jobs.set(event.source, job);
    if (this.jobs.size > this.limit) {
      const oldest = this.jobs.keys().next().value;
      if (oldest !== undefined) this.jobs.delete(oldest);
    }
    return job;
  }

  /** Forgets a deleted video's job; true when there was one. */
  remove(source: string): boolean {
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
