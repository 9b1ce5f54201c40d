import type { PipelineState } from '@thumbs/model';

/** What the pipeline scene draws: the same live state, reduced to what moves. */
export interface Flow {
  uploaded: number;
  queued: number;
  inFlight: number;
  workers: { name: string; ready: boolean }[];
  thumbnails: number;
  failed: number;
  dlq: number;
}

export function pipelineFlow(state: PipelineState | null): Flow {
  if (!state) return { uploaded: 0, queued: 0, inFlight: 0, workers: [], thumbnails: 0, failed: 0, dlq: 0 };
  return {
    uploaded: state.jobs.length,
    queued: state.queue.depth,
    inFlight: state.queue.inFlight,
    workers: state.pods
      .filter((pod) => pod.status === 'Running' && !pod.name.includes('api') && !pod.name.includes('web'))
      .map((pod) => ({ name: pod.name, ready: pod.ready })),
    thumbnails: state.metrics.thumbnails,
    failed: state.metrics.videosFailed,
    dlq: state.queue.dlqDepth,
  };
}
