'use client';

import type { Metrics } from '@thumbs/model';
import { useEffect, useState } from 'react';

export interface MetricSample {
  time: number;
  throughput: number;
  p50: number | null;
  p95: number | null;
}

const WINDOW_MS = 15 * 60_000;
const MIN_STEP_MS = 2_000;

/** Throughput and latency over time, sampled from the metrics updates this page receives. */
export function useMetricHistory(metrics: Metrics | null): MetricSample[] {
  const [samples, setSamples] = useState<MetricSample[]>([]);
  useEffect(() => {
    if (!metrics) return;
    const now = Date.now();
    const sample = {
      time: now,
      throughput: metrics.throughputPerMinute,
      p50: metrics.latencyP50Ms,
      p95: metrics.latencyP95Ms,
    };
    setSamples((list) => {
      const recent = list.filter((s) => s.time >= now - WINDOW_MS);
      const last = recent.at(-1);
      // Bursts of updates within a couple of seconds collapse into one point.
      if (last && now - last.time < MIN_STEP_MS)
        return [...recent.slice(0, -1), { ...sample, time: last.time }];
      return [...recent, sample];
    });
  }, [metrics]);
  return samples;
}
