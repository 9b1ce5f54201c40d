import { describe, expect, it } from 'vitest';
import { JobTracker } from './jobs.ts';

const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();

describe('JobTracker', () => {
  it('follows a video from upload to done, with attempts, timings and latency', () => {
    const jobs = new JobTracker();
    jobs.apply({ type: 'job.queued', source: 'uploads/a.mp4', time: t(0) });
    jobs.apply({
      type: 'job.started',
      source: 'uploads/a.mp4',
      attempt: 1,
      worker: 'w1',
      uploadedAt: null,
      time: t(1),
    });
    jobs.apply({
      type: 'job.failed',
      source: 'uploads/a.mp4',
      attempt: 1,
      worker: 'w1',
      error: 'boom',
      final: false,
      time: t(2),
    });
    expect(jobs.list()[0]).toMatchObject({ status: 'queued', error: 'boom', attempts: 1 });
    jobs.apply({
      type: 'job.started',
      source: 'uploads/a.mp4',
      attempt: 2,
      worker: 'w2',
      uploadedAt: null,
      time: t(3),
    });
    const done = jobs.apply({
      type: 'job.done',
      source: 'uploads/a.mp4',
      attempt: 2,
      worker: 'w2',
      thumbnails: [],
      uploadedAt: null,
      processingMs: 1500,
      time: t(5),
    });
    expect(done).toMatchObject({
      status: 'done',
      attempts: 2,
      latencyMs: 5000,
      processingMs: 1500,
      error: null,
      worker: 'w2',
    });
    const figures = jobs.figures(Date.parse(t(30)));
    expect(figures).toMatchObject({
      throughputPerMinute: 1,
      latencyP50Ms: 5000,
      processingP50Ms: 1500,
      videosFailed: 0,
    });
    expect(jobs.figures(Date.parse(t(120))).throughputPerMinute).toBe(0);
  });

  it('counts a final failure once, and ignores a duplicate delivery', () => {
    const jobs = new JobTracker();
    const failed = {
      type: 'job.failed',
      source: 'uploads/b.mp4',
      attempt: 3,
      worker: 'w',
      error: 'bad',
      final: true,
      time: t(9),
    } as const;
    expect(jobs.apply(failed)).toMatchObject({ status: 'failed', error: 'bad' });
    jobs.apply(failed);
    expect(jobs.figures().videosFailed).toBe(1);
  });

  it('keeps only the most recent jobs', () => {
    const jobs = new JobTracker(3);
    for (let i = 0; i < 5; i++) jobs.apply({ type: 'job.queued', source: `uploads/${i}.mp4`, time: t(i) });
    expect(jobs.list().map((j) => j.source)).toEqual(['uploads/4.mp4', 'uploads/3.mp4', 'uploads/2.mp4']);
  });
});
