import { CoreV1Api, KubeConfig, Metrics, Watch, type V1Pod } from '@kubernetes/client-node';
import type { Pod, PodPhase } from '@thumbs/model';
import { errorMessage, type Logger } from '@thumbs/runtime';
import type { StateStore } from '../state/store.ts';
import { Poller } from './poller.ts';

const PHASES: readonly string[] = ['Pending', 'Running', 'Succeeded', 'Failed'];
const UNITS: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
};

/** A Kubernetes quantity ("250m", "1", "128Mi", "1500000n") as a plain number of base units. */
export function parseQuantity(quantity: string): number | null {
  const match = /^([0-9.]+)([a-zA-Z]*)$/.exec(quantity.trim());
  const unit = match ? UNITS[match[2] ?? ''] : undefined;
  if (!match || unit === undefined) return null;
  return Number(match[1]) * unit;
}

function iso(value: Date | string | undefined | null): string | null {
  if (!value) return null;
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** The dashboard's view of a pod; `usage` carries CPU (millicores) and memory (bytes) from metrics.k8s.io. */
export function toPod(pod: V1Pod, usage?: { cpu: number; memory: number }): Pod {
  const phase = pod.status?.phase ?? 'Unknown';
  return {
    name: pod.metadata?.name ?? '',
    status: (PHASES.includes(phase) ? phase : 'Unknown') as PodPhase,
    ready: pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
    restarts: (pod.status?.containerStatuses ?? []).reduce((sum, c) => sum + (c.restartCount ?? 0), 0),
    startedAt: iso(pod.status?.startTime),
    node: pod.spec?.nodeName ?? null,
    cpu: usage ? Math.round(usage.cpu * 10) / 10 : null,
    memory: usage ? Math.round(usage.memory) : null,
  };
}

export interface PodFeedOptions {
  namespace: string;
  metricsMs: number;
  store: StateStore;
  log: Logger;
  kubeConfig?: KubeConfig;
}

/**
 * Pods through @kubernetes/client-node: list, then watch from the list's resourceVersion; any watch error or
 * close leads to a fresh list (with backoff while it keeps failing). Usage from metrics.k8s.io on an
 * interval. Works the same in-cluster (EKS) and against the local stack's Kubernetes-shaped API.
 */
export class PodFeed {
  private readonly options: PodFeedOptions;
  private readonly kc: KubeConfig;
  private readonly pods = new Map<string, V1Pod>();
  private usage = new Map<string, { cpu: number; memory: number }>();
  private readonly lister: Poller;
  private readonly metrics: Poller;
  private watchAbort: AbortController | undefined;
  private stopped = false;

  constructor(options: PodFeedOptions) {
    this.options = options;
    this.kc = options.kubeConfig ?? PodFeed.defaultConfig();
    this.lister = new Poller({
      name: 'pods',
      // After a successful list the watch takes over; the next list happens only when the watch ends.
      intervalMs: 24 * 3600_000,
      run: () => this.listAndWatch(),
      onError: (error, retryInMs) => {
        options.store.setSource('pods', errorMessage(error));
        options.log.warn({ err: errorMessage(error), retryInMs }, 'pod list failed');
      },
      maxBackoffMs: 30_000,
    });
    this.metrics = new Poller({
      name: 'pod-metrics',
      intervalMs: options.metricsMs,
      run: () => this.readMetrics(),
      onError: (error) => options.log.debug({ err: errorMessage(error) }, 'pod metrics unavailable'),
      maxBackoffMs: 60_000,
    });
  }

  /** KUBECONFIG when set (local mode), else in-cluster (EKS), else ~/.kube/config. */
  static defaultConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromDefault();
    return kc;
  }

  start(): void {
    this.stopped = false;
    this.lister.start();
    this.metrics.start(500);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watchAbort?.abort();
    await Promise.all([this.lister.stop(), this.metrics.stop()]);
  }

  private publish(): void {
    const pods = [...this.pods.values()]
      .map((pod) => toPod(pod, this.usage.get(pod.metadata?.name ?? '')))
      .sort((a, b) => a.name.localeCompare(b.name));
    this.options.store.setPods(pods);
  }

  private async listAndWatch(): Promise<void> {
    const api = this.kc.makeApiClient(CoreV1Api);
    const list = await api.listNamespacedPod({ namespace: this.options.namespace });
    this.pods.clear();
    for (const pod of list.items) if (pod.metadata?.name) this.pods.set(pod.metadata.name, pod);
    this.options.store.setSource('pods', null);
    this.publish();
    const watch = new Watch(this.kc);
    this.watchAbort = await watch.watch(
      `/api/v1/namespaces/${encodeURIComponent(this.options.namespace)}/pods`,
      { resourceVersion: list.metadata?.resourceVersion, allowWatchBookmarks: true },
      (phase, pod: V1Pod) => {
        if (phase === 'ERROR') {
          // Usually 410 Gone: the resourceVersion is too old. Ending the watch makes a fresh list.
          this.watchAbort?.abort();
          return;
        }
        const name = pod?.metadata?.name;
        if (!name || phase === 'BOOKMARK') return;
        if (phase === 'DELETED') this.pods.delete(name);
        else if (phase === 'ADDED' || phase === 'MODIFIED') this.pods.set(name, pod);
        this.publish();
      },
      (error: unknown) => {
        if (this.stopped) return;
        if (error) {
          this.options.store.setSource('pods', `watch: ${errorMessage(error)}`);
          this.options.log.warn({ err: errorMessage(error) }, 'pod watch ended; listing again');
        }
        this.lister.start(error ? 2000 : 200);
      },
    );
  }

  private async readMetrics(): Promise<void> {
    const metrics = await new Metrics(this.kc).getPodMetrics(this.options.namespace);
    this.usage = new Map(
      metrics.items.map((item) => [
        item.metadata.name,
        item.containers.reduce(
          (sum, c) => ({
            cpu: sum.cpu + (parseQuantity(c.usage.cpu) ?? 0) * 1000,
            memory: sum.memory + (parseQuantity(c.usage.memory) ?? 0),
          }),
          { cpu: 0, memory: 0 },
        ),
      ]),
    );
    this.publish();
  }
}
