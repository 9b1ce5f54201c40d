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

  it('keeps only the most recent jobs, and forgets the timelines of the others', () => {
    const jobs = new JobTracker(3);
    for (let i = 0; i < 5; i++) jobs.apply({ type: 'job.queued', source: `uploads/${i}.mp4`, time: t(i) });
    expect(jobs.list().map((j) => j.source)).toEqual(['uploads/4.mp4', 'uploads/3.mp4', 'uploads/2.mp4']);
    expect(jobs.history('uploads/0.mp4')).toBeUndefined();
    expect(jobs.history('uploads/4.mp4')?.attempts).toHaveLength(1);
  });

  it("follows the worker's stage on the attempt in progress only, and clears it at the end", () => {
    const jobs = new JobTracker();
    const common = { source: 'uploads/s.mp4', worker: 'w1' };
    jobs.apply({ type: 'job.started', ...common, attempt: 2, uploadedAt: null, time: t(1) });
    expect(jobs.list()[0]?.stage).toBe('probing');
    expect(
      jobs.apply({ type: 'job.stage', ...common, attempt: 1, stage: 'storing', time: t(2) }),
    ).toBeUndefined();
    expect(
      jobs.apply({ type: 'job.stage', ...common, worker: 'w2', attempt: 2, stage: 'storing', time: t(2) }),
    ).toBeUndefined();
    expect(
      jobs.apply({ type: 'job.stage', ...common, attempt: 2, stage: 'extracting', time: t(2) }),
    ).toMatchObject({
      stage: 'extracting',
    });
    jobs.apply({ type: 'job.failed', ...common, attempt: 2, error: 'x', final: false, time: t(3) });
    expect(jobs.list()[0]?.stage).toBeNull();
    expect(
      jobs.apply({ type: 'job.stage', ...common, attempt: 2, stage: 'storing', time: t(4) }),
    ).toBeUndefined();
  });

  it('keeps a bounded timeline per video with each failure in full, once per repeated delivery', () => {
    const jobs = new JobTracker();
    const source = 'uploads/t.mp4';
    const error = 'decoder said: '.padEnd(2000, 'e');
    jobs.apply({ type: 'job.queued', source, time: t(0) });
    for (let attempt = 1; attempt <= 30; attempt++) {
      const common = { source, attempt, worker: `w${attempt}` };
      jobs.apply({
        type: 'job.started',
        ...common,
        uploadedAt: null,
        receivedAt: t(attempt),
        time: t(attempt),
      });
      const failed = {
        type: 'job.failed',
        ...common,
        error,
        kind: 'corrupt',
        final: false,
        time: t(attempt),
      } as const;
      jobs.apply(failed);
      jobs.apply(failed);
    }
    const { attempts } = jobs.history(source)!;
    expect(attempts).toHaveLength(40);
    expect(attempts.at(-1)).toEqual({
      event: 'failed',
      time: t(30),
      attempt: 30,
      worker: 'w30',
      error,
      kind: 'corrupt',
      final: false,
    });
    expect(attempts.slice(-3, -1).map((a) => [a.event, a.worker])).toEqual([
      ['received', 'w30'],
      ['started', 'w30'],
    ]);
  });

  it("keeps the probe's findings and the bytes read from the outcome", () => {
    const jobs = new JobTracker();
    const video = {
      durationSeconds: 2,
      width: 320,
      height: 180,
      rotation: 0,
      codec: 'h264',
      container: 'mov',
      size: 1000,
      bitRate: 4000,
    };
    const common = { source: 'uploads/v.mp4', attempt: 1, worker: 'w' };
    jobs.apply({ type: 'job.failed', ...common, error: 'x', final: false, video, time: t(1) });
    expect(jobs.history('uploads/v.mp4')).toMatchObject({ video, sourceRead: null });
    jobs.apply({
      type: 'job.done',
      ...common,
      thumbnails: [],
      uploadedAt: null,
      processingMs: 1,
      video,
      sourceRead: { bytes: 10, requests: 1 },
      time: t(2),
    });
    expect(jobs.history('uploads/v.mp4')).toMatchObject({ video, sourceRead: { bytes: 10, requests: 1 } });
  });
});
