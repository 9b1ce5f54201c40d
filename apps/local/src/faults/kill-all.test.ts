/**
 * The whole local stack (`npm start`: emulator, AWS endpoint, scaler, workers) killed with SIGKILL in the
 * middle of a burst of uploads, then started again on the same DATA_DIR: every upload the endpoint
 * acknowledged gets its three thumbnails and nothing reaches the DLQ (S3 events are at least once).
 */
import { thumbnailKeys } from '@thumbs/model';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, expect, it } from 'vitest';
import { listKeys, queueDepth, testClip, testDir, until, upload } from './harness.ts';

const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));
const { dir, dataDir } = testDir('faults-kill-all-');
let running: ChildProcess | undefined;

afterAll(() => {
  if (running?.pid) killTree(running.pid);
  rmSync(dir, { recursive: true, force: true });
});

/** The process and every descendant (the emulator runs inside it; workers are its children). */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // The process ended while being read.
    }
  }
  const all: number[] = [];
  const visit = (p: number) => {
    all.push(p);
    for (const child of children.get(p) ?? []) visit(child);
  };
  visit(pid);
  return all;
}

function killTree(pid: number): number {
  const pids = descendants(pid);
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  return pids.length;
}

/** `npm start` as a user runs it (no dashboard, no API: this is about the AWS side), on free ports. */
async function startStack(): Promise<{ endpoint: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [MAIN], {
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      LOCAL_AWS_PORT: '0',
      LOCAL_K8S_PORT: '0',
      LOCAL_START_WEB: 'false',
      LOCAL_START_API: 'false',
      LOCAL_SAMPLES: 'false',
      FLEET_MAX_WORKERS: '2',
      FLEET_POLL_MS: '200',
      FLEET_COOLDOWN_MS: '2000',
      LOCAL_VISIBILITY_TIMEOUT: '10',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running = child;
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const endpoint = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const found = /AWS \(S3, SQS, SNS, STS\)\s+(http:\/\/localhost:\d+)/.exec(output);
      if (found?.[1]) resolve(found[1]);
    });
    child.on('exit', (code) => reject(new Error(`the stack exited (${code}) before it was up:\n${output}`)));
  });
  return { endpoint, child };
}

function clients(endpoint: string) {
  // The operator's key from the README (the deploy role).
  const common = {
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
  return { s3: new S3Client({ ...common, forcePathStyle: true }), sqs: new SQSClient(common) };
}

it('loses no acknowledged upload when every process of the stack is killed mid-burst', async () => {
  const clip = await testClip(dir);
  const first = await startStack();
  const aws = clients(first.endpoint);
  const sources = Array.from({ length: 60 }, (_, i) => `uploads/burst ${String(i).padStart(2, '0')}.mp4`);
  const acknowledged: string[] = [];
  let killed = 0;
  const pending = [...sources];
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let source = pending.shift(); source !== undefined; source = pending.shift()) {
        try {
          await upload(aws.s3, source, clip);
          acknowledged.push(source);
          if (acknowledged.length === 30 && first.child.pid) killed = killTree(first.child.pid);
        } catch {
          // Not acknowledged: the client would retry; the test only counts what S3 said it stored.
        }
      }
    }),
  );
  expect(killed).toBeGreaterThan(1);
  expect(acknowledged.length).toBeGreaterThanOrEqual(30);
  aws.s3.destroy();
  aws.sqs.destroy();

  const second = await startStack();
  const again = clients(second.endpoint);
  try {
    const wanted = acknowledged.flatMap((source) => thumbnailKeys(source));
    await until(
      'three thumbnails for every acknowledged upload',
      () => listKeys(again.s3, 'thumbnails/'),
      (keys) => wanted.every((key) => keys.includes(key)),
      240_000,
    );
    const dlqUrl = (await again.sqs.send(new GetQueueUrlCommand({ QueueName: 'thumbnail-jobs-dlq' })))
      .QueueUrl;
    expect(await queueDepth(again.sqs, dlqUrl ?? '')).toMatchObject({ visible: 0, inFlight: 0 });
  } finally {
    again.s3.destroy();
    again.sqs.destroy();
    killTree(second.child.pid ?? 0);
  }
}, 400_000);
