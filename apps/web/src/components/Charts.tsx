'use client';

import type { PipelineState } from '@thumbs/model';
import dynamic from 'next/dynamic';
import { useState } from 'react';
import { CHART_RANGES, performanceSamples, queueSamples, type ChartRange } from '../lib/history-view.ts';
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

/** One choice of time range for both charts (the history is the API's: it survives a reload). */
function RangePicker({
  range,
  onChange,
  label,
}: {
  range: ChartRange;
  onChange: (r: ChartRange) => void;
  label: string;
}) {
  return (
    <div className="segmented" role="group" aria-label={`${label} time range`}>
      {CHART_RANGES.map((r) => (
        <button
          key={r.id}
          type="button"
          aria-pressed={r.id === range.id}
          data-testid={`range-${r.id}`}
          onClick={() => onChange(r)}
        >
          {r.label}
        </button>
      ))}
    </div>
  );
}

export function Charts({ state }: { state: PipelineState | null }) {
  const [range, setRange] = useState<ChartRange>(CHART_RANGES[0]);
  const picker = (label: string) => <RangePicker range={range} onChange={setRange} label={label} />;
  return (
    <>
      <Panel
        id="queue"
        title="Queue activity"
        area="queue"
        subtitle={
          state
            ? `${state.queue.depth} waiting · ${state.queue.inFlight} in flight · last ${range.label}`
            : undefined
        }
        actions={picker('Queue activity')}
      >
        {state ? (
          <QueueChart
            samples={queueSamples(state.history, state.queue.history, range)}
            windowMs={range.windowMs}
          />
        ) : (
          <Skeleton height={220} />
        )}
      </Panel>
      <Panel
        id="performance"
        title="Throughput & latency"
        area="perf"
        subtitle={`last ${range.label}`}
        actions={picker('Throughput and latency')}
      >
        {state ? (
          <PerformanceChart samples={performanceSamples(state.history, range)} />
        ) : (
          <Skeleton height={220} />
        )}
      </Panel>
    </>
  );
}
