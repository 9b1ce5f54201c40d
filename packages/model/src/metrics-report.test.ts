import { describe, expect, it } from 'vitest';
import { metricsReport, podCounts } from './metrics-report.ts';
import type { Metrics, Pod } from './schema.ts';

const pod = (name: string, status: Pod['status']): Pod => ({
  name,
  status,
  ready: status === 'Running',
  restarts: 0,
  startedAt: null,
  node: null,
  cpu: null,
  memory: null,
});

describe('metricsReport', () => {
  it('puts the queue and pod counts beside the figures, from the queue and the pod list', () => {
    const metrics: Metrics = {
      thumbnails: 6,
      videosDone: 2,
      videosFailed: 1,
      storageBytes: 900,
      throughputPerMinute: 2,
      latencyP50Ms: 10,
      latencyP95Ms: 20,
      processingP50Ms: 5,
    };
    const pods = [pod('a', 'Running'), pod('b', 'Pending'), pod('c', 'Running')];
    expect(podCounts(pods)).toEqual({ running: 2, total: 3 });
    expect(
      metricsReport({ metrics, queue: { depth: 4, inFlight: 2, dlqDepth: 1, history: [] }, pods }),
    ).toEqual({ ...metrics, queueDepth: 4, inFlight: 2, dlqDepth: 1, podsRunning: 2, podsTotal: 3 });
  });
});
