/**
 * S3 and SQS unavailable for a while (the emulator and its proxy stopped, then started again on the same
 * port and DATA_DIR): workers and the API report it, back off, and recover by themselves, and the video's
 * message survives until its thumbnails exist.
 */
import { thumbnailKeys } from '@thumbs/model';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  listKeys,
  queueDepth,
  slowProbe,
  startFaultStack,
  testClip,
  testDir,
  until,
  upload,
  type FaultStack,
} from './harness.ts';

const OUTAGE_MS = 8000;

let env: FaultStack;
let clip: Buffer;
const stackLog: string[] = [];

beforeAll(async () => {
  const { dir, dataDir } = testDir('faults-outage-');
  clip = await testClip(dir);
  env = await startFaultStack({
    dataDir,
    startApi: true,
    maxWorkers: 1,
    childEnv: slowProbe(dir, 3),
    log: (level, message) => stackLog.push(`${level}: ${message}`),
  });
});

afterAll(async () => {
  await env?.close();
});

async function ready(): Promise<number> {
  const response = await fetch(`${env.stack.urls.api}/ready`, { signal: AbortSignal.timeout(20_000) });
  await response.body?.cancel();
  return response.status;
}

function logOf(app: string): string {
  const pods = env.stack.registry.list().filter((p) => p.labels.app === app);
  return pods.map((p) => readFileSync(join(env.stack.logDir, `${p.name}.log`), 'utf8')).join('\n');
}

it('rides out an S3 + SQS outage in the middle of a job and finishes the video afterwards', async () => {
  expect(await ready()).toBe(200);
  const source = 'uploads/slow outage.mp4';
  await upload(env.aws.s3, source, clip);
  await until(
    'job started',
    () => env.events.of('job.started', source),
    (l) => l.length === 1,
    60_000,
  );

  await env.stack.stopAws();
  const downAt = Date.now();
  // Readiness is this replica's own: an outage every replica shares keeps it in the load balancer, degraded.
  expect(await ready()).toBe(200);
  const health = await fetch(`${env.stack.urls.api}/health`);
  expect(health.status).toBe(200);
  await until(
    'the worker reporting that it cannot reach the queue',
    () => logOf('thumbnail-worker'),
    (log) => log.includes('could not receive messages; retrying'),
    OUTAGE_MS + 30_000,
  );
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, OUTAGE_MS - (Date.now() - downAt))));
  await env.stack.startAws();

  await until('the API ready again', ready, (status) => status === 200, 60_000);
  const [done] = await until(
    'the video done after the outage',
    () => env.events.of('job.done', source),
    (list) => list.length > 0,
    90_000,
  );
  // Usually the job in progress fails and attempt 2 succeeds; ffprobe's own HTTP retries can also carry
  // attempt 1 through a short outage. Either way the video is done once.
  expect(env.events.of('job.done', source)).toHaveLength(1);
  expect(done && 'attempt' in done && done.attempt).toBeLessThanOrEqual(2);
  await until(
    'an empty work queue',
    () => queueDepth(env.aws.sqs, env.stack.resources.queueUrl),
    (d) => d.visible + d.inFlight === 0,
    30_000,
  );
  expect((await listKeys(env.aws.s3, 'thumbnails/')).sort()).toEqual(thumbnailKeys(source));
  expect(await listKeys(env.aws.s3, 'failures/')).toEqual([]);
  expect(await queueDepth(env.aws.sqs, env.stack.resources.dlqUrl)).toEqual({ visible: 0, inFlight: 0 });

  // The API recovered by itself: its sources are healthy and it shows the video done with its thumbnails.
  const state = await until(
    'the API state showing the video done',
    async () =>
      (await (await fetch(`${env.stack.urls.api}/api/state`)).json()) as {
        sources: Record<string, { ok: boolean }>;
        jobs: { source: string; status: string }[];
        metrics: { thumbnails: number };
      },
    (s) =>
      s.sources.sqs?.ok === true &&
      s.sources.s3?.ok === true &&
      s.metrics.thumbnails === 3 &&
      s.jobs.some((j) => j.source === source && j.status === 'done'),
    60_000,
  );
  expect(state.metrics.thumbnails).toBe(3);
  expect(logOf('thumbnail-api')).toMatch(/queue poll failed|event subscription failed/);
  expect(env.stack.registry.list().every((p) => p.container.restarts === 0)).toBe(true);
  // The fleet reports the outage once when it starts and once when it ends.
  expect(stackLog.filter((line) => line.includes('cannot read the work queue'))).toHaveLength(1);
  expect(stackLog.filter((line) => line.includes('the work queue answers again'))).toHaveLength(1);
}, 240_000);
