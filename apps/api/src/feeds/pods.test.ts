import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The local stack's Kubernetes-shaped pods API: the real server the API talks to in local mode.
import { kubeconfigYaml, startKubeApi, type KubeApi, PodRegistry } from '@thumbs/local/testing';
import { createResources, startApi, startEmulator, WsRecorder, type LocalAws } from '../testing/harness.ts';
import { parseQuantity } from './pods.ts';

const NAMESPACE = 'thumbnail-pipeline';
let local: LocalAws;
let kube: KubeApi;
let registry: PodRegistry;
let dir: string;

function workerPod(name: string) {
  const startedAt = new Date().toISOString();
  return {
    name,
    labels: { app: 'thumbnail-worker' },
    phase: 'Running' as const,
    startedAt,
    container: { name: 'worker', ready: true, restarts: 0, state: { running: { startedAt } } },
  };
}

beforeAll(async () => {
  local = await startEmulator();
  registry = new PodRegistry();
  kube = await startKubeApi({ port: 0, namespace: NAMESPACE, registry });
  dir = await mkdtemp(join(tmpdir(), 'api-pods-'));
  await writeFile(join(dir, 'kubeconfig'), kubeconfigYaml(kube.url, NAMESPACE));
});

afterAll(async () => {
  await kube?.stop();
  await local?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('pods source', () => {
  it('lists and watches pods, with CPU and memory, through @kubernetes/client-node', async () => {
    registry.add(workerPod('thumbnail-worker-a'));
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(join(dir, 'kubeconfig'));
    const api = await startApi(
      local,
      await createResources(local, 'pods'),
      { PODS_ENABLED: 'true', K8S_NAMESPACE: NAMESPACE, POD_METRICS_MS: '1000' },
      { kubeConfig },
    );
    try {
      const ws = new WsRecorder(api.url);
      await ws.waitFor('pods', (m) => m.pods.some((p) => p.name === 'thumbnail-worker-a'));
      registry.setUsage('thumbnail-worker-a', {
        cpuMillicores: 250,
        memoryBytes: 64 * 1024 ** 2,
        time: new Date().toISOString(),
      });
      const withUsage = await ws.waitFor('pods', (m) => m.pods.some((p) => p.cpu !== null), 5000);
      expect(withUsage.pods[0]).toMatchObject({
        name: 'thumbnail-worker-a',
        status: 'Running',
        ready: true,
        restarts: 0,
      });
      expect(withUsage.pods[0]?.cpu).toBeCloseTo(250, 0);
      expect(withUsage.pods[0]?.memory).toBe(64 * 1024 ** 2);

      registry.add(workerPod('thumbnail-worker-b'));
      await ws.waitFor('pods', (m) => m.pods.length === 2);
      registry.remove('thumbnail-worker-a');
      await ws.waitFor('pods', (m) => m.pods.length === 1 && m.pods[0]?.name === 'thumbnail-worker-b');
      const listed = (await api.app.inject('/api/pods')).json();
      expect(listed.map((p: { name: string }) => p.name)).toEqual(['thumbnail-worker-b']);
      expect((await api.app.inject('/api/state')).json().sources.pods.ok).toBe(true);
      ws.close();
    } finally {
      await api.app.close();
    }
  });

  it('marks pods unavailable when the Kubernetes API does not answer', async () => {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromString(kubeconfigYaml('http://127.0.0.1:9', NAMESPACE));
    const api = await startApi(
      local,
      await createResources(local, 'pods-down'),
      { PODS_ENABLED: 'true' },
      { kubeConfig },
    );
    try {
      const ws = new WsRecorder(api.url);
      const update = await ws.waitFor(
        'sources',
        (m) => !m.sources.pods.ok && m.sources.pods.error !== 'not checked yet',
      );
      expect(update.sources.pods.error).toEqual(expect.any(String));
      expect((await api.app.inject('/health')).statusCode).toBe(200);
      ws.close();
    } finally {
      await api.app.close();
    }
  });

  it('reads Kubernetes quantities', () => {
    expect(parseQuantity('250m')).toBeCloseTo(0.25);
    expect(parseQuantity('1500000n')).toBeCloseTo(0.0015);
    expect(parseQuantity('2')).toBe(2);
    expect(parseQuantity('128Mi')).toBe(128 * 1024 ** 2);
    expect(parseQuantity('1G')).toBe(1e9);
    expect(parseQuantity('lots')).toBeNull();
  });
});
