import { emptySeries, type Job, type PipelineState, type Thumbnail } from '@thumbs/model';
import { describe, expect, it } from 'vitest';
import { applyMessage, MAX_JOBS, parseServerMessage } from './pipeline-state.ts';

const T0 = '2025-01-01T00:00:00.000Z';

function state(overrides: Partial<PipelineState> = {}): PipelineState {
  return {
    metrics: {
      thumbnails: 0,
      videosDone: 0,
      videosFailed: 0,
      storageBytes: 0,
      throughputPerMinute: 0,
      latencyP50Ms: null,
      latencyP95Ms: null,
      processingP50Ms: null,
    },
    queue: { depth: 0, inFlight: 0, dlqDepth: 0, history: [] },
    pods: [],
    thumbnails: [],
    jobs: [],
    dlq: [],
    sources: {
      sqs: { ok: true, error: null, checkedAt: T0 },
      s3: { ok: true, error: null, checkedAt: T0 },
      pods: { ok: true, error: null, checkedAt: T0 },
    },
    backfill: { unprocessed: null, queued: 0, sweptAt: null },
    history: { fine: emptySeries(5000, 720), coarse: emptySeries(60_000, 1440) },
    generatedAt: T0,
    ...overrides,
  };
}

function thumb(source: string, frame: Thumbnail['frame'], url = 'http://s3/x'): Thumbnail {
  const slug = frame.slice(0, -1);
  return { key: `thumbnails/${source}/${slug}.jpg`, url, frame, source, lastModified: T0, size: 100 };
}

function job(source: string, status: Job['status'], attempts = 1): Job {
  return {
    source,
    status,
    attempts,
    uploadedAt: T0,
    startedAt: null,
    finishedAt: null,
    processingMs: null,
    latencyMs: null,
    worker: null,
    error: null,
  };
}

describe('applyMessage', () => {
  it('ignores updates until the first snapshot, then takes the snapshot whole', () => {
    expect(applyMessage(null, { type: 'pods', pods: [] })).toBeNull();
    const s = state({ jobs: [job('uploads/a.mp4', 'done')] });
    expect(applyMessage(null, { type: 'snapshot', state: s })).toBe(s);
    expect(applyMessage(state(), { type: 'snapshot', state: s })).toBe(s);
  });

  it('replaces queue, pods, dlq, metrics and sources', () => {
    const s = state();
    const queue = { depth: 4, inFlight: 2, dlqDepth: 1, history: [{ time: T0, depth: 4, inFlight: 2 }] };
    expect(applyMessage(s, { type: 'queue', queue })?.queue).toBe(queue);
    const pods = [
      {
        name: 'worker-1',
        status: 'Running' as const,
        ready: true,
        restarts: 0,
        startedAt: T0,
        node: null,
        cpu: null,
        memory: null,
      },
    ];
    expect(applyMessage(s, { type: 'pods', pods })?.pods).toBe(pods);
    const dlq = [{ messageId: 'm1', source: 'uploads/x.mp4', receiveCount: 3, sentAt: T0, error: 'boom' }];
    expect(applyMessage(s, { type: 'dlq', dlq })?.dlq).toBe(dlq);
    const metrics = { ...s.metrics, videosDone: 7 };
    expect(applyMessage(s, { type: 'metrics', metrics })?.metrics.videosDone).toBe(7);
    const sources = { ...s.sources, sqs: { ok: false, error: 'down', checkedAt: T0 } };
    expect(applyMessage(s, { type: 'sources', sources })?.sources.sqs.ok).toBe(false);
  });

  it('adds thumbnails newest first, removes deleted ones, and replaces a re-added key', () => {
    let s: PipelineState | null = state({ thumbnails: [thumb('uploads/a.mp4', '10%')] });
    s = applyMessage(s, {
      type: 'thumbnails',
      added: [thumb('uploads/b.mp4', '10%'), thumb('uploads/a.mp4', '10%', 'http://s3/new')],
      removed: [],
    });
    expect(s?.thumbnails.map((t) => [t.key, t.url])).toEqual([
      ['thumbnails/uploads/b.mp4/10.jpg', 'http://s3/x'],
      ['thumbnails/uploads/a.mp4/10.jpg', 'http://s3/new'],
    ]);
    s = applyMessage(s, { type: 'thumbnails', added: [], removed: ['thumbnails/uploads/b.mp4/10.jpg'] });
    expect(s?.thumbnails.map((t) => t.source)).toEqual(['uploads/a.mp4']);
  });

  it('updates a job in place and puts new jobs first, keeping at most MAX_JOBS', () => {
    let s: PipelineState | null = state({
      jobs: [job('uploads/a.mp4', 'queued'), job('uploads/b.mp4', 'queued')],
    });
    s = applyMessage(s, { type: 'job', job: job('uploads/b.mp4', 'processing', 2) });
    expect(s?.jobs.map((j) => [j.source, j.status, j.attempts])).toEqual([
      ['uploads/a.mp4', 'queued', 1],
      ['uploads/b.mp4', 'processing', 2],
    ]);
    s = applyMessage(s, { type: 'job', job: job('uploads/c.mp4', 'queued') });
    expect(s?.jobs[0]?.source).toBe('uploads/c.mp4');
    for (let i = 0; i < MAX_JOBS + 10; i++)
      s = applyMessage(s, { type: 'job', job: job(`uploads/${i}.mp4`, 'queued') });
    expect(s?.jobs).toHaveLength(MAX_JOBS);
  });

  it('puts history updates in their slots', () => {
    const point = { done: 1, failed: 0, latencyP50Ms: 500, latencyP95Ms: 800, depth: 2, inFlight: 1 };
    let s = applyMessage(state(), { type: 'history', fine: [{ time: T0, ...point }], coarse: [] });
    s = applyMessage(s, { type: 'history', fine: [{ time: T0, ...point, done: 3 }], coarse: [] });
    expect(s?.history.fine.done).toEqual([3]);
    expect(s?.history.coarse.done).toEqual([]);
  });

  it("drops a deleted video's thumbnails, job and dead letter, and keeps the others'", () => {
    const s = state({
      thumbnails: [thumb('uploads/a.mp4', '50%'), thumb('uploads/b.mp4', '50%')],
      jobs: [job('uploads/a.mp4', 'done'), job('uploads/b.mp4', 'done')],
    });
    const removed = applyMessage(s, { type: 'removed', source: 'uploads/a.mp4' });
    expect(removed?.thumbnails.map((t) => t.source)).toEqual(['uploads/b.mp4']);
    expect(removed?.jobs.map((j) => j.source)).toEqual(['uploads/b.mp4']);
  });

  it('empties thumbnails and jobs on purge, and leaves state alone on heartbeat, pong and error', () => {
    const s = state({ thumbnails: [thumb('uploads/a.mp4', '50%')], jobs: [job('uploads/a.mp4', 'done')] });
    const purged = applyMessage(s, { type: 'purged' });
    expect(purged?.thumbnails).toEqual([]);
    expect(purged?.jobs).toEqual([]);
    expect(applyMessage(s, { type: 'heartbeat', time: T0 })).toBe(s);
    expect(applyMessage(s, { type: 'pong' })).toBe(s);
    expect(applyMessage(s, { type: 'error', message: 'bad' })).toBe(s);
  });
});

describe('parseServerMessage', () => {
  it('accepts valid messages', () => {
    const s = state();
    expect(parseServerMessage(JSON.stringify({ type: 'snapshot', state: s }))).toEqual({
      type: 'snapshot',
      state: s,
    });
    expect(parseServerMessage('{"type":"purged"}')).toEqual({ type: 'purged' });
  });

  it('drops invalid JSON, unknown types, wrong shapes and binary frames', () => {
    expect(parseServerMessage('not json')).toBeUndefined();
    expect(parseServerMessage('{"type":"nope"}')).toBeUndefined();
    expect(
      parseServerMessage('{"type":"queue","queue":{"depth":-1,"inFlight":0,"dlqDepth":0,"history":[]}}'),
    ).toBeUndefined();
    expect(parseServerMessage('{"type":"snapshot","state":{}}')).toBeUndefined();
    expect(parseServerMessage(new ArrayBuffer(4))).toBeUndefined();
  });
});
