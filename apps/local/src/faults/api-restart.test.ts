/**
 * The API crashing and restarting while dashboards are connected: WebSocket clients reconnect with the
 * dashboard's backoff and converge on the same state as REST and S3, including what finished while the
 * API was down.
 */
import type { Job, PipelineState, ServerMessage } from '@thumbs/model';
import { backoffDelay, RECONNECT_BACKOFF } from '@thumbs/runtime';
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { listKeys, startFaultStack, testClip, testDir, until, upload, type FaultStack } from './harness.ts';

/** A dashboard's view of the pipeline over /ws: the snapshot, then the updates applied to it. */
class Mirror {
  state: PipelineState | undefined;
  readonly thumbnailKeys = new Set<string>();
  snapshots = 0;
  connected = false;
  #socket: WebSocket | undefined;
  #closed = false;
  #failures = 0;
  readonly #url: string;

  constructor(url: string) {
    this.#url = url;
    this.#connect();
  }

  #connect(): void {
    const socket = new WebSocket(this.#url);
    this.#socket = socket;
    socket.on('open', () => {
      this.connected = true;
      this.#failures = 0;
    });
    socket.on('message', (data) => this.#apply(JSON.parse(String(data)) as ServerMessage));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.connected = false;
      if (!this.#closed) setTimeout(() => this.#connect(), backoffDelay(RECONNECT_BACKOFF, ++this.#failures));
    });
  }

  #apply(message: ServerMessage): void {
    if (message.type === 'snapshot') {
      this.snapshots++;
      this.state = message.state;
      this.thumbnailKeys.clear();
      for (const t of message.state.thumbnails) this.thumbnailKeys.add(t.key);
      return;
    }
    const state = this.state;
    if (!state) return;
    if (message.type === 'thumbnails') {
      for (const t of message.added) this.thumbnailKeys.add(t.key);
      for (const key of message.removed) this.thumbnailKeys.delete(key);
    } else if (message.type === 'job') {
      state.jobs = [message.job, ...state.jobs.filter((j) => j.source !== message.job.source)];
    } else if (message.type === 'metrics') state.metrics = message.metrics;
    else if (message.type === 'queue') state.queue = message.queue;
    else if (message.type === 'dlq') state.dlq = message.dlq;
    else if (message.type === 'purged') {
      this.thumbnailKeys.clear();
      state.jobs = [];
    }
  }

  close(): void {
    this.#closed = true;
    this.#socket?.terminate();
  }
}

function jobStatuses(jobs: Job[]): Record<string, string> {
  return Object.fromEntries(jobs.map((j) => [j.source, j.status]).sort());
}

let env: FaultStack;
let clip: Buffer;
const mirrors: Mirror[] = [];

beforeAll(async () => {
  const { dir, dataDir } = testDir('faults-api-');
  clip = await testClip(dir);
  env = await startFaultStack({ dataDir, startApi: true, maxWorkers: 2 });
});

afterAll(async () => {
  for (const mirror of mirrors) mirror.close();
  await env?.close();
});

async function rest(): Promise<PipelineState> {
  return (await (await fetch(`${env.stack.urls.api}/api/state`)).json()) as PipelineState;
}

it('WebSocket clients reconnect after an API crash and converge on REST and S3', async () => {
  const before = ['one', 'two', 'three'].map((n) => `uploads/before ${n}.mp4`);
  for (const key of before) await upload(env.aws.s3, key, clip);
  await until(
    'nine thumbnails',
    () => listKeys(env.aws.s3, 'thumbnails/'),
    (k) => k.length === 9,
    90_000,
  );

  const wsUrl = `${env.stack.urls.api!.replace('http', 'ws')}/ws`;
  for (let i = 0; i < 3; i++) mirrors.push(new Mirror(wsUrl));
  await until(
    'every client showing the nine thumbnails',
    () => mirrors.map((m) => m.thumbnailKeys.size),
    (sizes) => sizes.every((n) => n === 9),
    30_000,
  );

  const api = env.stack.api!;
  process.kill(api.pid!, 'SIGKILL');
  await until(
    'every client disconnected',
    () => mirrors.map((m) => m.connected),
    (c) => c.every((x) => !x),
    10_000,
  );
  // Work goes on while the API is down.
  const during = ['four', 'five'].map((n) => `uploads/during ${n}.mp4`);
  for (const key of during) await upload(env.aws.s3, key, clip);

  await until(
    'the API restarted',
    () => env.stack.registry.get(api.name),
    (pod) => pod?.container.restarts === 1 && pod.container.ready,
    30_000,
  );
  const s3Keys = await until(
    'fifteen thumbnails in S3',
    () => listKeys(env.aws.s3, 'thumbnails/'),
    (k) => k.length === 15,
    90_000,
  );
  await until(
    'every client reconnected, with a fresh snapshot, showing all fifteen thumbnails',
    () => mirrors.map((m) => ({ snapshots: m.snapshots, keys: m.thumbnailKeys.size, n: m.state?.metrics })),
    (views) => views.every((v) => v.snapshots >= 2 && v.keys === 15 && v.n?.thumbnails === 15),
    60_000,
  );

  const state = await until(
    'REST showing all fifteen thumbnails',
    rest,
    (s) => s.metrics.thumbnails === 15,
    30_000,
  );
  expect(state.thumbnails.map((t) => t.key).sort()).toEqual([...s3Keys].sort());
  for (const mirror of mirrors) {
    expect([...mirror.thumbnailKeys].sort()).toEqual([...s3Keys].sort());
    expect(mirror.state!.metrics.thumbnails).toBe(state.metrics.thumbnails);
    expect(jobStatuses(mirror.state!.jobs)).toEqual(jobStatuses(state.jobs));
    expect(mirror.state!.metrics.storageBytes).toBe(state.metrics.storageBytes);
  }
}, 240_000);
