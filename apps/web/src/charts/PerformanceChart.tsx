'use client';

import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatDuration } from '../lib/format.ts';
import type { MetricSample } from '../lib/history-view.ts';
import { ChartLegend } from './ChartLegend.tsx';
import { chartTheme, timeLabel } from './theme.ts';

export default function PerformanceChart({ samples }: { samples: MetricSample[] }) {
  return (
    <div
      className="chart"
      data-testid="performance-chart"
      data-points={samples.length}
      data-active-points={samples.filter((s) => s.throughput > 0).length}
    >
      <ResponsiveContainer width="100%" height={220}>
        <LineChart data={samples} margin={{ top: 8, right: 0, bottom: 0, left: -16 }}>
          <CartesianGrid stroke={chartTheme.grid} vertical={false} />
          <XAxis
            dataKey="time"
            type="number"
            scale="time"
            domain={['dataMin', 'dataMax']}
            tickFormatter={timeLabel}
            stroke={chartTheme.axis}
            tick={{ fontSize: 11 }}
            minTickGap={40}
          />
          <YAxis
            yAxisId="rate"
            stroke={chartTheme.axis}
            tick={{ fontSize: 11 }}
            width={44}
            allowDecimals={false}
          />
          <YAxis
            yAxisId="latency"
            orientation="right"
            stroke={chartTheme.axis}
            tick={{ fontSize: 11 }}
            width={44}
            tickFormatter={(ms: number) => (ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`)}
          />
          <Tooltip
            contentStyle={chartTheme.tooltip}
            labelFormatter={(value) => timeLabel(Number(value))}
            formatter={(value, name) =>
              name === 'Throughput' || name === 'Failed'
                ? [`${Number(value).toFixed(1)} / min`, name]
                : [formatDuration(Number(value)), name]
            }
            isAnimationActive={false}
          />
          <Line
            yAxisId="rate"
            type="monotone"
            dataKey="throughput"
            name="Throughput"
            stroke={chartTheme.green}
            strokeWidth={2}
            dot={false}
            isAnimationActive={false}
          />
          <Line
            yAxisId="rate"
            type="monotone"
            dataKey="failed"
            name="Failed"
            stroke={chartTheme.pink}
            strokeWidth={1.5}
            dot={false}
            isAnimationActive={false}
          />
          <Line
            yAxisId="latency"
            type="monotone"
            dataKey="p50"
            name="Latency p50"
            stroke={chartTheme.amber}
            strokeWidth={2}
            dot={false}
            connectNulls
            isAnimationActive={false}
          />
          <Line
            yAxisId="latency"
            type="monotone"
            dataKey="p95"
            name="Latency p95"
            stroke={chartTheme.red}
            strokeWidth={1.5}
            strokeDasharray="4 3"
            dot={false}
            connectNulls
            isAnimationActive={false}
          />
        </LineChart>
      </ResponsiveContainer>
      <ChartLegend
        items={[
          { label: 'Videos / min', color: chartTheme.green },
          { label: 'Failed / min', color: chartTheme.pink },
          { label: 'Latency p50', color: chartTheme.amber },
          { label: 'Latency p95', color: chartTheme.red },
        ]}
      />
    </div>
  );
}
