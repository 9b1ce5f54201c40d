'use client';

import type { QueueSample } from '../lib/history-view.ts';
import { Area, AreaChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { ChartLegend } from './ChartLegend.tsx';
import { chartTheme, timeLabel } from './theme.ts';

export default function QueueChart({
  samples: data,
  windowMs,
}: {
  samples: QueueSample[];
  windowMs: number;
}) {
  const end = data.at(-1)?.time ?? Date.now();
  const busyPoints = data.filter((p) => p.depth + p.inFlight > 0).length;
  return (
    <div className="chart" data-testid="queue-chart" data-points={data.length} data-busy-points={busyPoints}>
      <ResponsiveContainer width="100%" height={220}>
        <AreaChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: -16 }}>
          <defs>
            <linearGradient id="fill-depth" x1="0" y1="0" x2="0" y2="1">
              <stop offset="0%" stopColor={chartTheme.cyan} stopOpacity={0.45} />
              <stop offset="100%" stopColor={chartTheme.cyan} stopOpacity={0.02} />
            </linearGradient>
            <linearGradient id="fill-inflight" x1="0" y1="0" x2="0" y2="1">
              <stop offset="0%" stopColor={chartTheme.violet} stopOpacity={0.45} />
              <stop offset="100%" stopColor={chartTheme.violet} stopOpacity={0.02} />
            </linearGradient>
          </defs>
          <CartesianGrid stroke={chartTheme.grid} vertical={false} />
          <XAxis
            dataKey="time"
            type="number"
            scale="time"
            domain={[end - windowMs, end]}
            tickFormatter={timeLabel}
            stroke={chartTheme.axis}
            tick={{ fontSize: 11 }}
            minTickGap={40}
          />
          <YAxis allowDecimals={false} stroke={chartTheme.axis} tick={{ fontSize: 11 }} width={44} />
          <Tooltip
            contentStyle={chartTheme.tooltip}
            labelFormatter={(value) => timeLabel(Number(value))}
            isAnimationActive={false}
          />
          <Area
            type="monotone"
            dataKey="depth"
            name="Queue depth"
            stroke={chartTheme.cyan}
            strokeWidth={2}
            fill="url(#fill-depth)"
            isAnimationActive={false}
          />
          <Area
            type="monotone"
            dataKey="inFlight"
            name="In flight"
            stroke={chartTheme.violet}
            strokeWidth={2}
            fill="url(#fill-inflight)"
            isAnimationActive={false}
          />
        </AreaChart>
      </ResponsiveContainer>
      <ChartLegend
        items={[
          { label: 'Queue depth', color: chartTheme.cyan },
          { label: 'In flight', color: chartTheme.violet },
        ]}
      />
    </div>
  );
}
