'use client';

import type { PipelineState } from '@thumbs/model';
import dynamic from 'next/dynamic';
import { useMetricHistory } from '../lib/use-metric-history.ts';
import { Panel, Skeleton } from './Panel.tsx';

// recharts is loaded on demand, after the page shell: it is not part of the first-load JavaScript.
const QueueChart = dynamic(() => import('../charts/QueueChart.tsx'), {
  ssr: false,
  loading: () => <Skeleton height={220} />,
});
const PerformanceChart = dynamic(() => import('../charts/PerformanceChart.tsx'), {
  ssr: false,
  loading: () => <Skeleton height={220} />,
});

export function Charts({ state }: { state: PipelineState | null }) {
  const samples = useMetricHistory(state?.metrics ?? null);
  return (
    <>
      <Panel
        id="queue"
        title="Queue activity"
        area="queue"
        subtitle={
          state
            ? `${state.queue.depth} waiting · ${state.queue.inFlight} in flight · last 5 minutes`
            : undefined
        }
      >
        {state ? <QueueChart history={state.queue.history} /> : <Skeleton height={220} />}
      </Panel>
      <Panel id="performance" title="Throughput & latency" area="perf" subtitle="since this page opened">
        {state ? <PerformanceChart samples={samples} /> : <Skeleton height={220} />}
      </Panel>
    </>
  );
}
