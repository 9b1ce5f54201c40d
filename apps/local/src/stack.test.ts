import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roleCredentials } from './aws-auth/component-credentials.ts';
import { silentLog } from './log.ts';
import { generateSamples } from './samples.ts';
import { startLocalStack, type LocalStack } from './stack.ts';

const workerMain = join(import.meta.dirname, '../../worker/src/main.ts');

async function until<T>(
  read: () => T | Promise<T>,
  ok: (value: T) => boolean,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`condition not met in ${timeoutMs} ms; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe.runIf(existsSync(workerMain))('startLocalStack', () => {
  let dataDir: string;
  let stack: LocalStack;
  const workerCounts: number[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'local-stack-'));
    stack = await startLocalStack({
      dataDir,
      awsPort: 0,
      kubePort: 0,
      apiPort: 0,
      webPort: 0,
      startWeb: false,
      samples: false,
      adminToken: undefined,
      maxWorkers: 2,
      pollMs: 250,
      cooldownMs: 2500,
      workerStopGraceMs: 10_000,
      childEnv: { WORKER_WAIT_SECONDS: '1', LOG_LEVEL: 'warn' },
      log: silentLog,
    });
    stack.registry.on('change', () => {
      workerCounts.push(stack.registry.list().filter((p) => p.labels.app === 'thumbnail-worker').length);
    });
  });

  afterAll(async () => {
    await stack?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('generates and persists an admin token and writes a kubeconfig the client library can use', async () => {
    expect(stack.token).toMatch(/^[\w-]{32}$/);
    expect(readFileSync(join(dataDir, 'admin-token'), 'utf8').trim()).toBe(stack.token);
    const kc = new KubeConfig();
    kc.loadFromFile(stack.kubeconfig);
    const pods = await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'thumbnail-pipeline' });
    const api = pods.items.filter((p) => p.metadata?.labels?.app === 'thumbnail-api');
    expect(api).toHaveLength(stack.urls.api ? 1 : 0);
  });

  it('grows the worker fleet from 0 for queued videos, makes thumbnails, then shrinks to 0 after the cooldown', async () => {
    // The s3:TestEvent from creating the notification is the first message: one worker handles it.
    await until(
      () => stack.fleet.lastMetric,
      (m) => m.visible + m.inFlight === 0,
      30_000,
    );
    await until(
      () => stack.fleet.size,
      (n) => n === 0,
      30_000,
    );
    workerCounts.length = 0;

    const [video] = await generateSamples(join(dataDir, 'test-videos'), () => {}, [
      {
        name: 'tiny clip.mp4',
        args: ['-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10', '-t', '2', '-pix_fmt', 'yuv420p'],
      },
    ]);
    // The operator's uploads, with the deploy role's credentials from the stack's endpoint.
    const s3 = new S3Client({
      endpoint: stack.urls.aws,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: roleCredentials(stack.authority, 'deployer', 3600),
    });
    for (const name of ['one', 'two', 'three', 'four']) {
      await s3.send(
        new PutObjectCommand({
          Bucket: 'thumbnail-pipeline',
          Key: `uploads/${name} clip.mp4`,
          Body: readFileSync(video!),
        }),
      );
    }
    await until(
      () => stack.fleet.size,
      (n) => n === 2,
      20_000,
    );
    const thumbnails = await until(
      async () =>
        (await s3.send(new ListObjectsV2Command({ Bucket: 'thumbnail-pipeline', Prefix: 'thumbnails/' })))
          .Contents ?? [],
      (items) => items.length === 12,
      120_000,
    );
    expect(thumbnails.map((t) => t.Key)).toContain('thumbnails/uploads/one clip.mp4/50.jpg');
    await until(
      () => stack.registry.list().filter((p) => p.labels.app === 'thumbnail-worker'),
      (p) => p.length === 0,
      40_000,
    );
    expect(Math.max(...workerCounts)).toBe(2);
    s3.destroy();
  }, 240_000);

  it('stops everything', async () => {
    const pids = stack.registry.list().map((p) => p.name);
    await stack.stop();
    expect(stack.registry.list()).toEqual([]);
    expect(pids.length).toBeGreaterThanOrEqual(stack.urls.api ? 1 : 0);
    await expect(fetch(`${stack.urls.aws}/health`)).rejects.toThrow();
    await expect(fetch(`${stack.urls.kube}/version`)).rejects.toThrow();
    if (stack.urls.api) await expect(fetch(`${stack.urls.api}/health`)).rejects.toThrow();
  });
});
