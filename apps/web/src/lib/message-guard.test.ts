import { ServerMessageSchema, type PipelineState, type ServerMessage } from '@thumbs/model';
import { Check } from 'typebox/value';
import { describe, expect, it } from 'vitest';
import { isServerMessage } from './message-guard.ts';

const T = '2025-01-01T00:00:00.000Z';
const STATE: PipelineState = {
  metrics: {
    thumbnails: 3,
    videosDone: 1,
    videosFailed: 0,
    queueDepth: 2,
    inFlight: 1,
    dlqDepth: 0,
    podsRunning: 1,
    podsTotal: 2,
    storageBytes: 12345,
    throughputPerMinute: 1.5,
    latencyP50Ms: 1200,
    latencyP95Ms: null,
    processingP50Ms: 800,
  },
  queue: { depth: 2, inFlight: 1, dlqDepth: 0, history: [{ time: T, depth: 2, inFlight: 1 }] },
  pods: [
    {
      name: 'w-1',
      status: 'Running',
      ready: true,
      restarts: 0,
      startedAt: T,
      node: 'local',
      cpu: 12.5,
      memory: 1e6,
    },
  ],
  thumbnails: [
    {
      key: 'thumbnails/uploads/a.mp4/10.jpg',
      url: 'http://x',
      frame: '10%',
      source: 'uploads/a.mp4',
      lastModified: T,
      size: 9,
    },
  ],
  jobs: [
    {
      source: 'uploads/a.mp4',
      status: 'done',
      attempts: 1,
      uploadedAt: T,
      startedAt: T,
      finishedAt: T,
      processingMs: 800,
      latencyMs: 1200,
      worker: 'w-1',
      error: null,
    },
  ],
  dlq: [{ messageId: 'm', source: null, receiveCount: 3, sentAt: T, error: 'bad video' }],
  sources: {
    sqs: { ok: true, error: null, checkedAt: T },
    s3: { ok: false, error: 'timeout', checkedAt: T },
    pods: { ok: true, error: null, checkedAt: null },
  },
  backfill: { unprocessed: 2, queued: 2, sweptAt: T },
  history: {
    fine: {
      slotMs: 5000,
      capacity: 720,
      start: T,
      done: [1, 0],
      failed: [0, 1],
      latencyP50Ms: [1200, null],
      latencyP95Ms: [2400, null],
      depth: [3, 0],
      inFlight: [1, 0],
    },
    coarse: {
      slotMs: 60_000,
      capacity: 1440,
      start: T,
      done: [1],
      failed: [1],
      latencyP50Ms: [1200],
      latencyP95Ms: [2400],
      depth: [0],
      inFlight: [0],
    },
  },
  generatedAt: T,
};

const VALID: ServerMessage[] = [
  { type: 'snapshot', state: STATE },
  { type: 'queue', queue: STATE.queue },
  { type: 'pods', pods: STATE.pods },
  { type: 'thumbnails', added: STATE.thumbnails, removed: ['thumbnails/uploads/b.mp4/50.jpg'] },
  { type: 'job', job: STATE.jobs[0]! },
  { type: 'dlq', dlq: STATE.dlq },
  { type: 'metrics', metrics: STATE.metrics },
  { type: 'sources', sources: STATE.sources },
  { type: 'purged' },
  { type: 'removed', source: 'uploads/a.mp4' },
  { type: 'backfill', backfill: STATE.backfill },
  {
    type: 'history',
    fine: [{ time: T, done: 2, failed: 0, latencyP50Ms: 900, latencyP95Ms: null, depth: 1, inFlight: 2 }],
    coarse: [],
  },
  { type: 'heartbeat', time: T },
  { type: 'pong' },
  { type: 'pong', id: 'p1' },
  { type: 'error', message: 'bad request' },
];

/** Every path to a value inside `value` (objects and arrays), for mutation. */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (typeof value !== 'object' || value === null) return [prefix];
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  return [prefix, ...entries.flatMap(([k, v]) => paths(v, [...prefix, k]))];
}

function mutate(message: unknown, path: (string | number)[], change: 'delete' | 'wrong-type'): unknown {
  const copy = structuredClone(message) as Record<string | number, unknown>;
  const parent = path.slice(0, -1).reduce<Record<string | number, unknown>>((o, k) => o[k] as never, copy);
  const last = path.at(-1)!;
  const current = parent[last];
  if (change === 'delete') {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else {
    parent[last] =
      typeof current === 'string' || current === null
        ? 42
        : typeof current === 'number'
          ? 'x'
          : Array.isArray(current)
            ? {}
            : 'x';
  }
  return copy;
}

describe('isServerMessage', () => {
  it('accepts every valid message type', () => {
    for (const message of VALID) {
      expect(Check(ServerMessageSchema, message)).toBe(true);
      expect(isServerMessage(JSON.parse(JSON.stringify(message)))).toBe(true);
    }
  });

  it('agrees with the TypeBox schema on every field deleted or given the wrong type', () => {
    let checked = 0;
    for (const message of VALID) {
      for (const path of paths(message).filter((p) => p.length > 0)) {
        for (const change of ['delete', 'wrong-type'] as const) {
          const mutated = mutate(message, path, change);
          expect({ path, change, guard: isServerMessage(mutated) }).toEqual({
            path,
            change,
            guard: Check(ServerMessageSchema, mutated),
          });
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(150);
  });

  it('rejects non-objects and unknown types', () => {
    for (const value of [null, 1, 'snapshot', [], { type: 'nope' }, { type: 'toString' }, { type: 7 }]) {
      expect(isServerMessage(value)).toBe(false);
    }
  });
});
