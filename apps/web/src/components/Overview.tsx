import { podCounts, type PipelineState } from '@thumbs/model';
import type { ReactNode } from 'react';
import { formatBytes, formatCount, formatDuration } from '../lib/format.ts';

interface Stat {
  id: string;
  label: string;
  value: ReactNode;
  detail?: string;
  tone?: 'good' | 'bad' | 'warn' | 'accent';
  wide?: boolean;
}

function stats(state: PipelineState): Stat[] {
  const m = state.metrics;
  const q = state.queue;
  const pods = podCounts(state.pods);
  return [
    {
      id: 'thumbnails',
      label: 'Thumbnails',
      value: formatCount(m.thumbnails),
      // The API counts a big bucket in the background after it starts: the figure is still growing.
      detail: m.counting ? 'counting…' : 'processed',
      tone: 'accent',
    },
    { id: 'done', label: 'Videos done', value: formatCount(m.videosDone), tone: 'good' },
    {
      id: 'failed',
      label: 'Videos failed',
      value: formatCount(m.videosFailed),
      tone: m.videosFailed ? 'bad' : undefined,
    },
    { id: 'running', label: 'Running pods', value: formatCount(pods.running), detail: `of ${pods.total}` },
    { id: 'depth', label: 'Queue depth', value: formatCount(q.depth), detail: 'visible messages' },
    {
      id: 'inflight',
      label: 'In flight',
      value: formatCount(q.inFlight),
      tone: q.inFlight ? 'warn' : undefined,
    },
    { id: 'dlq', label: 'DLQ depth', value: formatCount(q.dlqDepth), tone: q.dlqDepth ? 'bad' : undefined },
    { id: 'pods', label: 'Total pods', value: formatCount(pods.total) },
    {
      id: 'storage',
      label: 'Storage used',
      value: formatBytes(m.storageBytes),
      detail: m.counting ? 'counting…' : 'thumbnails',
    },
    {
      id: 'throughput',
      label: 'Throughput',
      value: m.throughputPerMinute.toFixed(m.throughputPerMinute < 10 ? 1 : 0),
      detail: 'videos / min',
    },
    {
      id: 'latency',
      label: 'Latency',
      value: (
        <span className="stat-value-pair">
          <span>
            <small>p50</small>
            {formatDuration(m.latencyP50Ms)}
          </span>
          <span>
            <small>p95</small>
            {formatDuration(m.latencyP95Ms)}
          </span>
        </span>
      ),
      detail: 'upload → thumbnails',
      wide: true,
    },
  ];
}

export function Overview({ state }: { state: PipelineState | null }) {
  return (
    <section className="overview area-overview" aria-label="Overview" data-testid="overview">
      {state
        ? stats(state).map((stat) => (
            <div
              key={stat.id}
              className={`stat${stat.tone ? ` tone-${stat.tone}` : ''}${stat.wide ? ' stat-wide' : ''}`}
              data-testid={`stat-${stat.id}`}
            >
              <div className="stat-label">{stat.label}</div>
              <div className="stat-value">{stat.value}</div>
              {stat.detail && <div className="stat-detail">{stat.detail}</div>}
            </div>
          ))
        : Array.from({ length: 12 }, (_, i) => (
            <div key={i} className="stat skeleton-stat" aria-hidden="true" />
          ))}
    </section>
  );
}
