import { CoreV1Api, KubeConfig, Metrics, Watch, type V1Pod } from '@kubernetes/client-node';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeconfigYaml, startKubeApi, type KubeApi } from './kube-api.ts';
import { silentLog } from './log.ts';
import { ManagedProcess } from './managed-process.ts';
import { PodRegistry } from './pods.ts';

const namespace = 'thumbnail-pipeline';

async function until<T>(
  read: () => T | Promise<T>,
  ok: (value: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('Kubernetes-shaped pods API through @kubernetes/client-node', () => {
  let dir: string;
  let api: KubeApi;
  let kc: KubeConfig;
  const registry = new PodRegistry();
  const processes: ManagedProcess[] = [];

  function run(name: string, app: string, script: string): ManagedProcess {
    const pod = new ManagedProcess(
      name,
      {
        app,
        container: app.replace('thumbnail-', ''),
        command: process.execPath,
        args: ['-e', script],
        env: {},
        cwd: dir,
        logDir: dir,
        stopGraceMs: 2000,
        sampleMs: 200,
      },
      registry,
      silentLog,
    );
    processes.push(pod);
    pod.start();
    return pod;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'local-kube-'));
    api = await startKubeApi({ port: 0, namespace, registry, bookmarkMs: 200 });
    writeFileSync(join(dir, 'kubeconfig'), kubeconfigYaml(api.url, namespace));
    kc = new KubeConfig();
    kc.loadFromFile(join(dir, 'kubeconfig'));
  });

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await api?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists pods with their phase, readiness, restarts and labels, filtered by label selector', async () => {
    run('thumbnail-worker-abc-11111', 'thumbnail-worker', 'setInterval(() => {}, 1000)');
    run('thumbnail-api-abc-22222', 'thumbnail-api', 'setInterval(() => {}, 1000)');
    const core = kc.makeApiClient(CoreV1Api);
    const all = await until(
      () => core.listNamespacedPod({ namespace }),
      (list) => list.items.length === 2 && list.items.every((p) => p.status?.phase === 'Running'),
    );
    const worker = all.items.find((p) => p.metadata?.name === 'thumbnail-worker-abc-11111') as V1Pod;
    expect(worker.metadata?.labels).toEqual({ app: 'thumbnail-worker' });
    expect(worker.metadata?.namespace).toBe(namespace);
    expect(worker.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(worker.metadata?.creationTimestamp).toBeInstanceOf(Date);
    expect(worker.spec?.nodeName).toBe('local');
    expect(worker.status?.startTime).toBeInstanceOf(Date);
    expect(worker.status?.containerStatuses?.[0]).toMatchObject({
      name: 'worker',
      ready: true,
      restartCount: 0,
    });
    expect(worker.status?.containerStatuses?.[0]?.state?.running?.startedAt).toBeInstanceOf(Date);
    expect(Number(all.metadata?.resourceVersion)).toBeGreaterThan(0);

    const workers = await core.listNamespacedPod({ namespace, labelSelector: 'app=thumbnail-worker' });
    expect(workers.items.map((p) => p.metadata?.name)).toEqual(['thumbnail-worker-abc-11111']);
    const setBased = await core.listNamespacedPod({
      namespace,
      labelSelector: 'app in (thumbnail-api, thumbnail-web)',
    });
    expect(setBased.items.map((p) => p.metadata?.name)).toEqual(['thumbnail-api-abc-22222']);
    expect((await core.listNamespacedPod({ namespace: 'other' })).items).toEqual([]);
  });

  it('watches from a resourceVersion: a crash and restart, then a deletion', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const list = await core.listNamespacedPod({ namespace, labelSelector: 'app=thumbnail-worker' });
    const events: { type: string; name?: string; phase?: string; restarts?: number }[] = [];
    const watch = new Watch(kc);
    const request = await watch.watch(
      `/api/v1/namespaces/${namespace}/pods`,
      { labelSelector: 'app=thumbnail-worker', resourceVersion: list.metadata?.resourceVersion },
      (type, pod: V1Pod) =>
        events.push({
          type,
          name: pod.metadata?.name,
          phase: pod.status?.phase,
          restarts: pod.status?.containerStatuses?.[0]?.restartCount,
        }),
      () => {},
    );
    const crashing = run(
      'thumbnail-worker-abc-33333',
      'thumbnail-worker',
      'setTimeout(() => process.exit(3), 300)',
    );
    const restarted = await until(
      () => events,
      (e) => e.some((x) => x.name === crashing.name && x.restarts === 1 && x.phase === 'Running'),
    );
    expect(restarted.filter((e) => e.name === crashing.name).map((e) => e.phase)).toEqual(
      expect.arrayContaining(['Pending', 'Running', 'Failed']),
    );
    expect(restarted[0]).toMatchObject({ type: 'ADDED', name: crashing.name, phase: 'Pending' });
    await crashing.stop();
    await until(
      () => events,
      (e) => e.some((x) => x.type === 'DELETED' && x.name === crashing.name),
    );
    expect(events.some((e) => e.name !== crashing.name)).toBe(false);
    request.abort();
  });

  it('answers a watch from a forgotten resourceVersion with 410 Gone', async () => {
    const response = await fetch(
      `${api.url}/api/v1/namespaces/${namespace}/pods?watch=true&resourceVersion=abc`,
    );
    const line = JSON.parse((await response.text()).trim()) as { type: string; object: { code: number } };
    expect(line).toMatchObject({ type: 'ERROR', object: { code: 410 } });
  });

  it('serves CPU and memory through the metrics API', async () => {
    run('thumbnail-worker-abc-44444', 'thumbnail-worker', 'for (;;) {}');
    const metrics = new Metrics(kc);
    const list = await until(
      () => metrics.getPodMetrics(namespace),
      (l) =>
        l.items.some(
          (i) =>
            i.metadata.name === 'thumbnail-worker-abc-44444' &&
            parseInt(i.containers[0]?.usage.cpu ?? '0') > 300,
        ),
    );
    const busy = list.items.find((i) => i.metadata.name === 'thumbnail-worker-abc-44444');
    const idle = list.items.find((i) => i.metadata.name === 'thumbnail-api-abc-22222');
    expect(busy?.containers[0]?.usage.cpu).toMatch(/^\d+m$/);
    expect(idle?.containers[0]?.usage.memory).toMatch(/^\d+Ki$/);
    expect(Number(idle?.containers[0]?.usage.memory.slice(0, -2))).toBeGreaterThan(10_000);
  });
});
