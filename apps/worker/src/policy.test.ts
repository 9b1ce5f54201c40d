/**
 * The worker under the policy Terraform gives its role, and under the same policy with a planted mistake
 * (terraform/iam.tf with a statement removed): what it may not do fails as it would in AWS.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { failureKey, thumbnailKeys, type FailureRecord, type PipelineEvent } from '@thumbs/model';
import type { AwsClients } from '@thumbs/runtime';
import { loadWorkerConfig } from './config.ts';
import type { Consumer } from './consumer.ts';
import { makeNumberedClip } from '@thumbs/local/testing';
import {
  createPipeline,
  publishedEvents,
  queueMessages,
  queueS3Event,
  waitFor,
  workerEnv,
  type Pipeline,
} from './testing/emulator.ts';
import { startTestbed, testLog, type Testbed } from './testing/testbed.ts';
import { createWorker } from './worker.ts';

const IAM_TF = fileURLToPath(new URL('../../../terraform/iam.tf', import.meta.url));

/** Terraform text without the `statement { sid = "<sid>" … }` block (and the comment lines just above it). */
function withoutStatement(text: string, sid: string): string {
  const sidAt = text.search(new RegExp(`\\n\\s*sid\\s*=\\s*"${sid}"\\n`));
  const open = text.lastIndexOf('statement {', sidAt);
  if (sidAt < 0 || open < 0) throw new Error(`no statement ${sid} in terraform/iam.tf`);
  let depth = 0;
  let close = open;
  do {
    if (text[close] === '{') depth++;
    if (text[close] === '}') depth--;
    close++;
  } while (depth > 0 || text[close - 1] !== '}');
  // From the start of the statement's line (and any comment lines right above it) to the end of its last one.
  let start = text.lastIndexOf('\n', open) + 1;
  while (/^\s*#/.test(text.slice(text.lastIndexOf('\n', start - 2) + 1, start))) {
    start = text.lastIndexOf('\n', start - 2) + 1;
  }
  return text.slice(0, start) + text.slice(text.indexOf('\n', close) + 1);
}

const log = testLog();
const workers: Consumer[] = [];
let terraform: Testbed;
let planted: Testbed;
let clip: string;

beforeAll(async () => {
  const iamTf = readFileSync(IAM_TF, 'utf8');
  const withoutListBucket = withoutStatement(iamTf, 'KnowMissingKeys');
  expect(withoutListBucket).not.toContain('KnowMissingKeys');
  expect(withoutListBucket.length).toBeLessThan(iamTf.length - 100);
  terraform = await startTestbed('worker-policy-');
  planted = await startTestbed('worker-planted-', {
    overrides: { 'terraform/iam.tf': withoutListBucket },
  });
  clip = join(terraform.dir, 'clip.mp4');
  await makeNumberedClip(clip, { seconds: 1 });
});

afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.stop(0)));
});

afterAll(async () => {
  await planted?.close();
  await terraform?.close();
});

const VIDEO = 'uploads/new.mp4';
const DELETED = 'uploads/deleted-before-processing.mp4';

/**
 * A pipeline with two uploads queued: a video, and one deleted again before any worker got to it. The
 * test's own actions are the deploy role's; the worker's are the worker role's, for this pipeline.
 */
async function uploadBoth(testbed: Testbed) {
  const pipeline = createPipeline(testbed.local, randomUUID().slice(0, 8));
  const deployer = testbed.local.clients('deployer', pipeline.deployment).s3;
  const body = await readFile(clip);
  for (const key of [VIDEO, DELETED]) {
    const put = await deployer.send(new PutObjectCommand({ Bucket: pipeline.bucket, Key: key, Body: body }));
    queueS3Event(testbed.server, pipeline, { key, size: body.length, eTag: put.ETag ?? '' });
  }
  await deployer.send(new DeleteObjectCommand({ Bucket: pipeline.bucket, Key: DELETED }));
  return { pipeline, deployer, worker: testbed.local.clients('worker', pipeline.deployment) };
}

function startWorker(testbed: Testbed, pipeline: Pipeline): void {
  const config = loadWorkerConfig(workerEnv(testbed.local, pipeline, { FAILURE_BACKOFF_SECONDS: '30' }));
  const worker = createWorker(config, testbed.local.clients('worker', pipeline.deployment), log);
  workers.push(worker);
  void worker.run();
}

/** The last event published about each source, once there is a final word (done, failed) on both. */
async function outcomes(testbed: Testbed, pipeline: Pipeline) {
  return waitFor(async () => {
    const last = new Map<string, PipelineEvent>();
    for (const event of publishedEvents(testbed.server, pipeline))
      if ('source' in event && event.type !== 'job.started') last.set(event.source, event);
    return last.size === 2 && last;
  });
}

/** What the worker role is told when it HEADs a thumbnail that does not exist yet. */
async function headStatus(worker: AwsClients, pipeline: Pipeline) {
  const error = await worker.s3
    .send(new HeadObjectCommand({ Bucket: pipeline.bucket, Key: thumbnailKeys(VIDEO)[0] }))
    .then(
      () => undefined,
      (e: unknown) => e as { name: string; $metadata: { httpStatusCode?: number } },
    );
  return { status: error?.$metadata.httpStatusCode, name: error?.name };
}

describe("the worker under its role's policy", () => {
  it('processes a new video (missing thumbnails are 404) and reports a deleted source as gone', async () => {
    const { pipeline, deployer, worker } = await uploadBoth(terraform);
    expect(await headStatus(worker, pipeline)).toEqual({ status: 404, name: 'NotFound' });
    startWorker(terraform, pipeline);

    const last = await outcomes(terraform, pipeline);
    expect(last.get(VIDEO)?.type).toBe('job.done');
    expect(last.get(DELETED)).toMatchObject({
      type: 'job.failed',
      final: true,
      error: `source s3://${pipeline.bucket}/${DELETED} no longer exists`,
    });
    await waitFor(async () => queueMessages(terraform.server, pipeline.queue).length === 0);
    expect(queueMessages(terraform.server, pipeline.dlq)).toEqual([]);
    const listed = await deployer.send(new ListObjectsV2Command({ Bucket: pipeline.bucket }));
    expect(listed.Contents?.map((o) => o.Key).sort()).toEqual([VIDEO, ...thumbnailKeys(VIDEO)].sort());
  });

  it('fails the job as AWS would when Terraform forgets ListBucket: a missing thumbnail is 403, not 404', async () => {
    const { pipeline, deployer, worker } = await uploadBoth(planted);
    expect(await headStatus(worker, pipeline)).toEqual({ status: 403, name: 'Unknown' });
    startWorker(planted, pipeline);

    // The worker can no longer tell "not made yet" (or "deleted") from "not allowed": both jobs fail and
    // are retried, the deleted source included, where the real policy processed one and dropped the other.
    const last = await outcomes(planted, pipeline);
    for (const source of [VIDEO, DELETED]) {
      expect(last.get(source)).toMatchObject({ type: 'job.failed', final: false, attempt: 1 });
    }
    const errorOf = (source: string) => {
      const event = last.get(source);
      return event?.type === 'job.failed' ? event.error : undefined;
    };
    const error = errorOf(VIDEO);
    // The new video's source HEAD passed (GetObject on uploads/*); the HEAD of its first thumbnail did not.
    expect(error).toBe(
      `could not HEAD s3://${pipeline.bucket}/${thumbnailKeys(VIDEO)[0]}: HTTP 403 (Unknown: UnknownError)`,
    );
    expect(errorOf(DELETED)).toBe(
      `could not HEAD s3://${pipeline.bucket}/${DELETED}: HTTP 403 (Unknown: UnknownError)`,
    );
    const inflight = planted.server.inspectQueue(pipeline.queue)?.messages.inflight ?? [];
    expect(inflight.map((entry) => entry.message.approximateReceiveCount)).toEqual([1, 1]);
    const record = await deployer.send(
      new GetObjectCommand({ Bucket: pipeline.bucket, Key: failureKey(VIDEO) }),
    );
    const failure = JSON.parse(await record.Body!.transformToString()) as FailureRecord;
    expect(failure).toMatchObject({ source: VIDEO, attempt: 1, error });
    const listed = await deployer.send(
      new ListObjectsV2Command({ Bucket: pipeline.bucket, Prefix: 'thumbnails/' }),
    );
    expect(listed.KeyCount).toBe(0);
  });
});
