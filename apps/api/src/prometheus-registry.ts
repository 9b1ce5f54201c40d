import type { S3Client } from '@aws-sdk/client-s3';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { JobStatus } from '@thumbs/model';
import type { StateStore } from './state/store.ts';
import type { HubStats } from './ws/hub.ts';

export interface PrometheusRegistry {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  awsRequests: Counter<'service'>;
}

/** A registry per app instance (tests run several in one process), with gauges read from the state. */
export function createPrometheusRegistry(
  store: StateStore,
  hub: () => HubStats | undefined,
): PrometheusRegistry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by route and status',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [registry],
  });
  const awsRequests = new Counter({
    name: 'aws_requests_total',
    help: 'Requests this replica sent to AWS, by service',
    labelNames: ['service'] as const,
    registers: [registry],
  });
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  gauge('ws_clients', 'Open WebSocket connections', () => hub()?.clients ?? 0);
  gauge(
    'ws_coalesced_updates',
    'Updates held back and merged for slow WebSocket clients',
    () => hub()?.coalesced ?? 0,
  );
  gauge('queue_depth', 'Visible messages in the work queue', () => store.queue.depth);
  gauge('queue_in_flight', 'In-flight messages in the work queue', () => store.queue.inFlight);
  gauge('dlq_depth', 'Messages in the dead-letter queue', () => store.queue.dlqDepth);
  gauge(
    'thumbnails',
    'Thumbnails in the bucket (partial while counting)',
    () => store.count.totals.thumbnails,
  );
  gauge('thumbnail_bytes', 'Bytes under the thumbnail prefix', () => store.count.totals.bytes);
  new Gauge({
    name: 'jobs',
    help: 'Recent jobs by status',
    labelNames: ['status'] as const,
    registers: [registry],
    collect() {
      const counts: Record<JobStatus, number> = { queued: 0, processing: 0, done: 0, failed: 0 };
      for (const job of store.jobs.list()) counts[job.status]++;
      for (const [status, count] of Object.entries(counts)) this.set({ status }, count);
    },
  });
  return { registry, httpDuration, awsRequests };
}

/** Counts every request an AWS SDK client sends (retries included). */
export function countRequests(client: S3Client | SQSClient | SNSClient, onRequest: () => void): void {
  // The middleware does not depend on the service's input and output types.
  (client as S3Client).middlewareStack.add(
    (next) => async (args) => {
      onRequest();
      return next(args);
    },
    { step: 'deserialize' },
  );
}
