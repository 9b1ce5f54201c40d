/**
 * A Kubernetes-shaped API over the local processes, like `kubectl proxy` in front of a cluster: pods
 * (list, get, watch with resourceVersion and selectors) and pod metrics (metrics.k8s.io), enough for
 * @kubernetes/client-node to work against it exactly as against a real cluster.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseFieldSelector, parseLabelSelector, SelectorError } from './label-selector.ts';
import type { PodChange, PodRecord, PodRegistry } from './pods.ts';

export interface KubeApiOptions {
  port: number;
  namespace: string;
  registry: PodRegistry;
  bookmarkMs?: number;
}

export interface KubeApi {
  port: number;
  url: string;
  stop(): Promise<void>;
}

const NODE_NAME = 'local';

export function podObject(pod: PodRecord, namespace: string): Record<string, unknown> {
  const { container } = pod;
  return {
    metadata: {
      name: pod.name,
      namespace,
      uid: pod.uid,
      resourceVersion: String(pod.resourceVersion),
      labels: pod.labels,
      creationTimestamp: pod.createdAt,
      ...(pod.deletionTimestamp
        ? { deletionTimestamp: pod.deletionTimestamp, deletionGracePeriodSeconds: 30 }
        : {}),
    },
    spec: {
      nodeName: NODE_NAME,
      containers: [{ name: container.name, image: `local/${pod.labels.app ?? container.name}` }],
      restartPolicy: 'Always',
    },
    status: {
      phase: pod.phase,
      hostIP: '127.0.0.1',
      podIP: '127.0.0.1',
      ...(pod.startedAt ? { startTime: pod.startedAt } : {}),
      conditions: [
        { type: 'Ready', status: container.ready ? 'True' : 'False' },
        { type: 'ContainersReady', status: container.ready ? 'True' : 'False' },
      ],
      containerStatuses: [
        {
          name: container.name,
          ready: container.ready,
          started: 'running' in container.state,
          restartCount: container.restarts,
          state: container.state,
          image: `local/${pod.labels.app ?? container.name}`,
          imageID: '',
        },
      ],
    },
  };
}

function status(res: ServerResponse, code: number, reason: string, message: string): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      reason,
      code,
    }),
  );
}

function json(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

export async function startKubeApi(options: KubeApiOptions): Promise<KubeApi> {
  const { registry, namespace } = options;
  const watches = new Set<ServerResponse>();

  function selectPods(url: URL, ns: string | undefined): (pod: PodRecord) => boolean {
    const labels = parseLabelSelector(url.searchParams.get('labelSelector'));
    const fields = parseFieldSelector(url.searchParams.get('fieldSelector'));
    return (pod) =>
      (ns === undefined || ns === namespace) &&
      labels(pod.labels) &&
      fields({
        'metadata.name': pod.name,
        'metadata.namespace': namespace,
        'status.phase': pod.phase,
        'spec.nodeName': NODE_NAME,
      });
  }

  function listPods(res: ServerResponse, url: URL, ns: string | undefined): void {
    const matches = selectPods(url, ns);
    json(res, {
      kind: 'PodList',
      apiVersion: 'v1',
      metadata: { resourceVersion: String(registry.resourceVersion) },
      items: registry
        .list()
        .filter(matches)
        .map((pod) => podObject(pod, namespace)),
    });
  }

  function watchPods(req: IncomingMessage, res: ServerResponse, url: URL, ns: string | undefined): void {
    const matches = selectPods(url, ns);
    const since = url.searchParams.get('resourceVersion');
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache' });
    res.flushHeaders();
    const send = (type: string, object: unknown): void => {
      res.write(`${JSON.stringify({ type, object })}\n`);
    };
    const sendChange = (change: PodChange): void => {
      if (matches(change.pod))
        send(change.type, { kind: 'Pod', apiVersion: 'v1', ...podObject(change.pod, namespace) });
    };
    if (!since || since === '0') {
      for (const pod of registry.list()) sendChange({ type: 'ADDED', pod });
    } else {
      const changes = registry.changesSince(Number(since));
      if (!/^\d+$/.test(since) || !changes) {
        send('ERROR', {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: `too old resource version: ${since} (${registry.resourceVersion})`,
          reason: 'Expired',
          code: 410,
        });
        return void res.end();
      }
      changes.forEach(sendChange);
    }
    registry.on('change', sendChange);
    watches.add(res);
    const bookmarks =
      url.searchParams.get('allowWatchBookmarks') === 'true'
        ? setInterval(
            () =>
              send('BOOKMARK', {
                kind: 'Pod',
                apiVersion: 'v1',
                metadata: { resourceVersion: String(registry.resourceVersion) },
              }),
            options.bookmarkMs ?? 15_000,
          )
        : undefined;
    const timeoutSeconds = Number(url.searchParams.get('timeoutSeconds') ?? 0);
    const timeout = timeoutSeconds > 0 ? setTimeout(() => res.end(), timeoutSeconds * 1000) : undefined;
    const cleanup = (): void => {
      registry.off('change', sendChange);
      clearInterval(bookmarks);
      clearTimeout(timeout);
      watches.delete(res);
    };
    res.on('close', cleanup);
    req.on('close', cleanup);
  }

  function podMetrics(pod: PodRecord): Record<string, unknown> | undefined {
    const usage = registry.usage(pod.name);
    if (!usage || pod.phase !== 'Running') return undefined;
    return {
      metadata: {
        name: pod.name,
        namespace,
        labels: pod.labels,
        creationTimestamp: new Date().toISOString(),
      },
      timestamp: usage.time,
      window: '2s',
      containers: [
        {
          name: pod.container.name,
          usage: { cpu: `${usage.cpuMillicores}m`, memory: `${Math.round(usage.memoryBytes / 1024)}Ki` },
        },
      ],
    };
  }

  function route(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://local');
    const path = url.pathname.replace(/\/+$/, '');
    if (req.method !== 'GET') return status(res, 405, 'MethodNotAllowed', 'this local API is read-only');
    if (path === '/version') {
      return json(res, {
        major: '1',
        minor: '31',
        gitVersion: 'v1.31.0-local',
        platform: `${process.platform}/amd64`,
      });
    }
    if (['/healthz', '/livez', '/readyz'].includes(path)) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      return void res.end('ok');
    }
    if (path === '/api')
      return json(res, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] });
    if (path === '/api/v1') {
      return json(res, {
        kind: 'APIResourceList',
        groupVersion: 'v1',
        resources: [
          {
            name: 'pods',
            singularName: 'pod',
            namespaced: true,
            kind: 'Pod',
            verbs: ['get', 'list', 'watch'],
          },
        ],
      });
    }
    if (path === '/apis') {
      const version = { groupVersion: 'metrics.k8s.io/v1beta1', version: 'v1beta1' };
      return json(res, {
        kind: 'APIGroupList',
        apiVersion: 'v1',
        groups: [{ name: 'metrics.k8s.io', versions: [version], preferredVersion: version }],
      });
    }
    if (path === '/apis/metrics.k8s.io/v1beta1') {
      return json(res, {
        kind: 'APIResourceList',
        groupVersion: 'metrics.k8s.io/v1beta1',
        resources: [
          { name: 'pods', singularName: '', namespaced: true, kind: 'PodMetrics', verbs: ['get', 'list'] },
        ],
      });
    }
    const pods = /^\/api\/v1(?:\/namespaces\/([^/]+))?\/pods(?:\/([^/]+))?$/.exec(path);
    if (pods) {
      const [, ns, name] = pods;
      if (name) {
        const pod = registry.get(decodeURIComponent(name));
        if (!pod || (ns !== undefined && ns !== namespace)) {
          return status(res, 404, 'NotFound', `pods "${name}" not found`);
        }
        return json(res, { kind: 'Pod', apiVersion: 'v1', ...podObject(pod, namespace) });
      }
      const watch = ['true', '1'].includes(url.searchParams.get('watch') ?? '');
      return watch ? watchPods(req, res, url, ns) : listPods(res, url, ns);
    }
    const metrics = /^\/apis\/metrics\.k8s\.io\/v1beta1(?:\/namespaces\/([^/]+))?\/pods(?:\/([^/]+))?$/.exec(
      path,
    );
    if (metrics) {
      const [, ns, name] = metrics;
      const matches = selectPods(url, ns);
      if (name) {
        const pod = registry.get(decodeURIComponent(name));
        const item = pod && matches(pod) ? podMetrics(pod) : undefined;
        if (!item) return status(res, 404, 'NotFound', `podmetrics.metrics.k8s.io "${name}" not found`);
        return json(res, { kind: 'PodMetrics', apiVersion: 'metrics.k8s.io/v1beta1', ...item });
      }
      return json(res, {
        kind: 'PodMetricsList',
        apiVersion: 'metrics.k8s.io/v1beta1',
        metadata: {},
        items: registry
          .list()
          .filter(matches)
          .map(podMetrics)
          .filter((item) => item !== undefined),
      });
    }
    status(res, 404, 'NotFound', `the server could not find the requested resource (${path})`);
  }

  const server = createServer((req, res) => {
    try {
      route(req, res);
    } catch (error) {
      if (error instanceof SelectorError) return status(res, 400, 'BadRequest', error.message);
      status(res, 500, 'InternalError', (error as Error).message);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    async stop() {
      for (const res of watches) res.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A kubeconfig for @kubernetes/client-node's loadFromDefault()/loadFromFile(), like kubectl proxy's. */
export function kubeconfigYaml(url: string, namespace: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '  - name: local',
    '    cluster:',
    `      server: ${url}`,
    // client-node refuses plain http unless TLS verification is declared off (there is no TLS on loopback).
    '      insecure-skip-tls-verify: true',
    'contexts:',
    '  - name: local',
    '    context:',
    '      cluster: local',
    '      user: local',
    `      namespace: ${namespace}`,
    'current-context: local',
    'users:',
    '  - name: local',
    '    user: {}',
    '',
  ].join('\n');
}
