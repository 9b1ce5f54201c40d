import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  actionsFor,
  appSources,
  commandsInSource,
  policyDocuments,
  policyProblems,
  resourcesOf,
} from './iam.ts';
import { repoPath } from './repo.ts';

const iamTf = readFileSync(repoPath('terraform/iam.tf'), 'utf8');
const documents = await policyDocuments(iamTf);
const statements = (name: string) => documents.get(name) ?? [];
const usedBy = (app: string) => actionsFor(commandsInSource(appSources(app)));

/** KEDA's aws-sqs-queue scaler is not our code: it reads the queue's message counts and nothing else. */
const KEDA_CALLS = new Set(['sqs:GetQueueAttributes']);

const BUCKET = '${local.bucket_arn}';
const TEST_BUCKET = '${local.test_source_bucket_arn}';

describe('IAM: each role grants exactly the calls its code makes', () => {
  it.each(['worker', 'api'])('%s: policy and AWS SDK calls match', (app) => {
    const { actions, unknown } = usedBy(app);
    expect(unknown).toEqual([]);
    expect(actions.size).toBeGreaterThan(3);
    expect(policyProblems(statements(app), actions)).toEqual([]);
  });

  it('keda: only reads the queue depth', () => {
    expect(policyProblems(statements('keda'), KEDA_CALLS)).toEqual([]);
  });

  it('catches a call the policy does not allow, and a grant no code uses', () => {
    const { actions } = usedBy('worker');
    const policy = structuredClone(statements('worker'));
    policy[0]!.actions = policy[0]!.actions.filter((a) => a !== 'sqs:DeleteMessage');
    policy.push({ sid: 'Extra', actions: ['s3:ListBucket', 'sqs:*'], resources: ['*'] });
    expect(policyProblems(policy, actions)).toEqual([
      'code calls sqs:DeleteMessage, the policy does not grant it',
      'policy grants s3:ListBucket, the code never calls it',
      'policy grants sqs:*, the code never calls it',
      'Extra applies to every resource',
      'Extra grants a wildcard action',
    ]);
  });

  it('finds the commands a source file sends', () => {
    const source = `await s3.send(new ListObjectsV2Command({ Bucket }));\nawait sqs.send(\n  new SendMessageBatchCommand({}),\n);`;
    expect(actionsFor(commandsInSource([source])).actions).toEqual(
      new Set(['s3:ListBucket', 'sqs:SendMessage']),
    );
    expect(actionsFor(new Set(['PurgeQueueCommand'])).unknown).toEqual(['PurgeQueueCommand']);
  });
});

describe('IAM: resources are limited by prefix, as each part uses them', () => {
  it('worker reads uploads/ (and thumbnails/ to skip finished work), writes thumbnails/ and failures/', () => {
    const worker = statements('worker');
    expect(resourcesOf(worker, 's3:GetObject')).toEqual([`${BUCKET}/uploads/*`, `${BUCKET}/thumbnails/*`]);
    expect(resourcesOf(worker, 's3:PutObject')).toEqual([`${BUCKET}/thumbnails/*`, `${BUCKET}/failures/*`]);
    expect(resourcesOf(worker, 's3:DeleteObject')).toEqual([`${BUCKET}/failures/*`]);
    expect(resourcesOf(worker, 'sqs:ReceiveMessage')).toEqual(['${module.queues.queue_arn}']);
    expect(resourcesOf(worker, 'sns:Publish')).toEqual(['${module.events.topic_arn}']);
  });

  it('api writes only uploads/, reads results and the test source bucket, deletes for purge', () => {
    const api = statements('api');
    expect(resourcesOf(api, 's3:PutObject')).toEqual([`${BUCKET}/uploads/*`]);
    expect(resourcesOf(api, 's3:GetObject')).toEqual([
      `${BUCKET}/thumbnails/*`,
      `${BUCKET}/failures/*`,
      `${TEST_BUCKET}/*`,
    ]);
    expect(resourcesOf(api, 's3:ListBucket')).toEqual([BUCKET, TEST_BUCKET]);
    expect(resourcesOf(api, 's3:DeleteObject')).toEqual([
      `${BUCKET}/uploads/*`,
      `${BUCKET}/thumbnails/*`,
      `${BUCKET}/failures/*`,
    ]);
  });

  it('api manages only its own per-replica queues and uses the events topic', () => {
    const api = statements('api');
    for (const action of ['sqs:CreateQueue', 'sqs:DeleteQueue', 'sqs:SetQueueAttributes']) {
      expect(resourcesOf(api, action)).toEqual(['${local.api_queue_arn_pattern}']);
    }
    expect(iamTf).toMatch(
      /api_queue_arn_pattern\s*=\s*"arn:aws:sqs:\$\{var\.region\}:\$\{local\.account_id\}:thumbnail-api-\*"/,
    );
    const source = appSources('api').join('\n');
    expect(source).toMatch(/`thumbnail-api-\$\{/);
    for (const action of ['sns:Subscribe', 'sns:Unsubscribe', 'sns:Publish']) {
      expect(resourcesOf(api, action)).toEqual(['${module.events.topic_arn}']);
    }
    expect(resourcesOf(api, 'sqs:SendMessage')).toEqual(['${module.queues.queue_arn}']);
  });

  it('the events topic lets only the API queues subscribe', async () => {
    const events = await policyDocuments(
      readFileSync(repoPath('terraform/modules/events/main.tf'), 'utf8'),
      'terraform/modules/events/main.tf',
    );
    const deny = (events.get('topic') ?? []).find((s) => s.effect === 'Deny');
    expect(deny?.actions).toEqual(['sns:Subscribe']);
    expect(readFileSync(repoPath('terraform/main.tf'), 'utf8')).toMatch(
      /subscriber_queue_prefix = "thumbnail-api-"/,
    );
  });
});
