import type { Metrics, MetricsReport, Pod, QueueState } from './schema.ts';

/** Pods running and in all, as the overview and GET /api/metrics count them. */
export function podCounts(pods: readonly Pod[]): { running: number; total: number } {
  return { running: pods.filter((pod) => pod.status === 'Running').length, total: pods.length };
}

/** GET /api/metrics's answer, from the state's one home for each figure. */
export function metricsReport(state: {
  metrics: Metrics;
  queue: QueueState;
  pods: readonly Pod[];
}): MetricsReport {
  const pods = podCounts(state.pods);
  return {
    ...state.metrics,
    queueDepth: state.queue.depth,
    inFlight: state.queue.inFlight,
    dlqDepth: state.queue.dlqDepth,
    podsRunning: pods.running,
    podsTotal: pods.total,
  };
}
