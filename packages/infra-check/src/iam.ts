// IAM checked by evaluation, as AWS would decide: the policies Terraform defines (rendered by @thumbs/iam)
// must allow every call each part of the pipeline makes and deny the calls that would reach beyond its job.
import {
  authorize,
  LOCAL_DEPLOYMENT,
  renderDeploymentPolicies,
  resourcePolicyFor,
  type Deployment,
  type RenderedPolicies,
  type RenderOptions,
} from '@thumbs/iam';
import {
  DEFAULT_FAILURE_PREFIX,
  DEFAULT_THUMBNAIL_PREFIX,
  DEFAULT_UPLOAD_PREFIX,
  failureKey,
  thumbnailKeys,
} from '@thumbs/model';

export type Component = 'worker' | 'api' | 'keda';
const COMPONENTS: Component[] = ['worker', 'api', 'keda'];

/** Who calls: a component's role, or S3 itself delivering upload notifications. */
export type Caller = Component | 's3.amazonaws.com';

export interface Call {
  caller: Caller;
  action: string;
  resource: string;
  context?: Record<string, string | string[]>;
  /** What in the code makes the call, or why it must never be possible. */
  why: string;
}

/** A per-replica event queue as apps/api/src/feeds/events.ts names them: thumbnail-api-<host>-<random>. */
const replicaQueue = (deployment: Deployment) =>
  `arn:aws:sqs:${deployment.region}:${deployment.accountId}:thumbnail-api-api-7d9f8-1a2b3c4d`;

const SOURCE = `${DEFAULT_UPLOAD_PREFIX}clip.mp4`;

/** The calls each part makes (apps/worker/src, apps/api/src; KEDA's scaler reads queue depth): all must pass. */
export function requiredCalls(policies: RenderedPolicies, deployment = LOCAL_DEPLOYMENT): Call[] {
  const { bucket, testSourceBucket, queue, dlq, topic } = policies.arns;
  const object = (key: string) => `${bucket}/${key}`;
  const thumbnails = thumbnailKeys(SOURCE).map(object);
  const failure = object(failureKey(SOURCE));
  const replica = replicaQueue(deployment);
  const call = (caller: Caller, action: string, resource: string, why: string, context = {}): Call => ({
    caller,
    action,
    resource,
    why,
    context,
  });
  return [
    ...['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility'].map((action) =>
      call('worker', action, queue, 'consumer.ts and visibility.ts lease and finish jobs'),
    ),
    call('worker', 's3:GetObject', object(SOURCE), 'HeadObject and the presigned GET of the source video'),
    ...thumbnails.map((key) => call('worker', 's3:GetObject', key, 'HeadObject of thumbnails already made')),
    call('worker', 's3:ListBucket', bucket, 'a HEAD of a thumbnail not made yet must be 404, not 403'),
    ...thumbnails.map((key) => call('worker', 's3:PutObject', key, 'uploads the thumbnails')),
    call('worker', 's3:PutObject', failure, 'records a failure'),
    call('worker', 's3:DeleteObject', failure, 'a success clears the failure record'),
    ...thumbnails.map((key) =>
      call('worker', 's3:DeleteObject', key, 'remove-video.ts: a deleted video takes its thumbnails with it'),
    ),
    call('worker', 'sns:Publish', topic, 'job events'),

    call('api', 'sqs:GetQueueAttributes', queue, 'queue depth'),
    call('api', 'sqs:GetQueueAttributes', dlq, 'dead-letter depth'),
    ...['sqs:ReceiveMessage', 'sqs:DeleteMessage'].map((action) =>
      call('api', action, dlq, 'a message move task receives and deletes with the caller rights'),
    ),
    call('api', 'sqs:SendMessage', queue, 'redrive sends dead letters back; backfill sends jobs'),
    ...['sqs:StartMessageMoveTask', 'sqs:ListMessageMoveTasks', 'sqs:CancelMessageMoveTask'].map((action) =>
      call('api', action, dlq, "SQS's own redrive of the dead letters"),
    ),
    ...[
      'sqs:CreateQueue',
      'sqs:GetQueueAttributes',
      'sqs:SetQueueAttributes',
      'sqs:ReceiveMessage',
      'sqs:DeleteMessage',
      'sqs:DeleteQueue',
      'sqs:TagQueue',
    ].map((action) => call('api', action, replica, 'its own event fan-out queue and its heartbeat tag')),
    ...['sqs:ListQueueTags', 'sqs:DeleteQueue'].map((action) =>
      call('api', action, replica, 'the reaper reads the heartbeat of a dead replica and deletes its queue'),
    ),
    call('api', 'sns:ListSubscriptionsByTopic', topic, 'the reaper finds the replica queues'),
    call('api', 'sns:Subscribe', topic, 'subscribes its fan-out queue', {
      'sns:Endpoint': replica,
      'sns:Protocol': 'sqs',
    }),
    call('api', 'sns:Unsubscribe', topic, 'unsubscribes on shutdown'),
    call('api', 'sns:Publish', topic, 'job events'),
    ...[DEFAULT_THUMBNAIL_PREFIX, DEFAULT_UPLOAD_PREFIX, DEFAULT_FAILURE_PREFIX].map((prefix) =>
      call('api', 's3:ListBucket', bucket, 'the thumbnail index and purge list by prefix', {
        's3:prefix': prefix,
      }),
    ),
    call('api', 's3:ListBucket', testSourceBucket, 'Test Pipeline lists the sample videos', {
      's3:prefix': '',
    }),
    call('api', 's3:GetObject', thumbnails[0] ?? '', 'presigned thumbnail URLs'),
    call('api', 's3:GetObject', failure, 'reads failure records'),
    ...['s3:GetObject', 's3:PutObject'].map((action) =>
      call('api', action, object('leases/backfill.json'), 'the backfill lease (one sweeping replica)'),
    ),
    call('api', 's3:GetObject', `${testSourceBucket}/sample.mp4`, 'CopyObject reads the sample video'),
    call('api', 's3:PutObject', object(`${DEFAULT_UPLOAD_PREFIX}clip-1a2b3c4d.mp4`), 'presigned uploads'),
    call('api', 's3:PutObject', object(`${DEFAULT_UPLOAD_PREFIX}test-m0abc/sample.mp4`), 'CopyObject writes'),
    ...[object(SOURCE), thumbnails[0] ?? '', failure].map((key) =>
      call('api', 's3:DeleteObject', key, 'purge deletes uploads, thumbnails and failure records'),
    ),

    call('keda', 'sqs:GetQueueAttributes', queue, 'the scaler reads the queue depth'),

    call('s3.amazonaws.com', 'sqs:SendMessage', queue, 'upload notifications', {
      'aws:SourceArn': bucket,
      'aws:SourceAccount': deployment.accountId,
    }),
  ];
}

/** Calls that must be denied: what would let a bug or a compromised pod do damage beyond its job. */
export function forbiddenCalls(policies: RenderedPolicies, deployment = LOCAL_DEPLOYMENT): Call[] {
  const { bucket, testSourceBucket, queue, topic } = policies.arns;
  const object = (key: string) => `${bucket}/${key}`;
  const [thumbnail = ''] = thumbnailKeys(SOURCE).map(object);
  const call = (caller: Caller, action: string, resource: string, why: string, context = {}): Call => ({
    caller,
    action,
    resource,
    why,
    context,
  });
  const queueArn = (name: string) => `arn:aws:sqs:${deployment.region}:${deployment.accountId}:${name}`;
  return [
    call('worker', 's3:DeleteObject', object(SOURCE), 'the worker never deletes videos'),
    call('worker', 's3:PutObject', object(SOURCE), 'the worker never writes uploads'),
    call('worker', 'sqs:SendMessage', queue, 'the worker never creates jobs'),
    call('worker', 'sqs:PurgeQueue', queue, 'nothing purges the work queue'),
    call('worker', 'sqs:DeleteQueue', queue, 'nothing deletes the work queue'),
    call('worker', 'sns:Subscribe', topic, 'the worker only publishes events', {
      'sns:Endpoint': replicaQueue(deployment),
    }),

    call('api', 's3:PutObject', thumbnail, 'only the worker writes thumbnails'),
    call('api', 's3:PutObject', object(failureKey(SOURCE)), 'only the worker writes failure records'),
    call('api', 's3:PutObject', `${testSourceBucket}/sample.mp4`, 'the sample videos are read-only'),
    call('api', 'sqs:ReceiveMessage', queue, 'the API must not take jobs from the workers'),
    call('api', 'sqs:DeleteQueue', queue, 'nothing deletes the work queue'),
    call('api', 'sqs:PurgeQueue', queue, 'nothing purges the work queue'),
    call(
      'api',
      'sqs:CreateQueue',
      queueArn('thumbnail-jobs-2'),
      'the API creates only thumbnail-api-* queues',
    ),
    call('api', 'sns:Subscribe', topic, 'the topic lets only API replica queues subscribe', {
      'sns:Endpoint': queue,
      'sns:Protocol': 'sqs',
    }),
    call('api', 's3:GetObject', thumbnail, 'the buckets refuse plain HTTP', {
      'aws:SecureTransport': 'false',
    }),

    call('keda', 'sqs:ReceiveMessage', queue, 'KEDA only reads the queue depth'),
    call('keda', 'sns:Publish', topic, 'the topic policy admits the account, not every role in it'),
    call('keda', 's3:GetObject', object(SOURCE), 'KEDA has no business in the bucket'),

    ...COMPONENTS.map((caller) => call(caller, 's3:DeleteBucket', bucket, 'nothing deletes the bucket')),

    call('s3.amazonaws.com', 'sqs:SendMessage', queue, 'only the pipeline bucket may notify the work queue', {
      'aws:SourceArn': 'arn:aws:s3:::someone-elses-bucket',
      'aws:SourceAccount': deployment.accountId,
    }),
    call('s3.amazonaws.com', 'sqs:SendMessage', queue, 'only this account may notify the work queue', {
      'aws:SourceArn': bucket,
      'aws:SourceAccount': '111111111111',
    }),
  ];
}

function describeCall(call: Call): string {
  const context = Object.keys(call.context ?? {}).length > 0 ? ` ${JSON.stringify(call.context)}` : '';
  return `${call.caller}: ${call.action} on ${call.resource}${context}`;
}

/** Every call whose decision is not the expected one, with the evaluator's reason. */
export async function callProblems(
  policies: RenderedPolicies,
  calls: Call[],
  expected: 'allowed' | 'denied',
  deployment = LOCAL_DEPLOYMENT,
): Promise<string[]> {
  const problems: string[] = [];
  for (const call of calls) {
    const role = call.caller === 's3.amazonaws.com' ? undefined : policies.roles[call.caller];
    const resourcePolicy = resourcePolicyFor(policies, call.resource);
    const decision = await authorize({
      principal: role
        ? `arn:aws:sts::${deployment.accountId}:assumed-role/${role.name}/infra-check`
        : call.caller,
      identityPolicies: role ? [role.policy] : [],
      ...(resourcePolicy ? { resourcePolicy } : {}),
      action: call.action,
      resource: call.resource,
      resourceAccount: deployment.accountId,
      // The SDK always uses HTTPS, and AWS sets the key on every request.
      context: { 'aws:SecureTransport': 'true', ...call.context },
    });
    if (expected === 'allowed' && !decision.allowed)
      problems.push(`${describeCall(call)} is denied (${call.why}): ${decision.message}`);
    if (expected === 'denied' && decision.allowed)
      problems.push(`${describeCall(call)} is allowed (${call.why}): ${decision.message}`);
  }
  return problems;
}

/** Grants on every resource, or of every action of a service, in the components' roles. */
export function broadGrantProblems(policies: RenderedPolicies): string[] {
  const problems: string[] = [];
  for (const component of COMPONENTS) {
    for (const statement of policies.roles[component].policy.Statement) {
      if (statement.Effect !== 'Allow') continue;
      const name = `${component}: ${statement.Sid ?? 'a statement'}`;
      const list = (value: string | string[] | undefined) => [value ?? []].flat();
      if (list(statement.Resource).includes('*')) problems.push(`${name} applies to every resource`);
      const wildcards = list(statement.Action).filter((action) => action.includes('*'));
      if (wildcards.length > 0) problems.push(`${name} grants a wildcard action (${wildcards.join(', ')})`);
      if (statement.NotAction || statement.NotResource) problems.push(`${name} grants by exclusion`);
    }
  }
  return problems;
}

/** Every IAM problem of the Terraform (optionally with files replaced), each rule's in turn. */
export async function iamProblems(options: RenderOptions = {}): Promise<string[]> {
  const policies = await renderDeploymentPolicies(LOCAL_DEPLOYMENT, options);
  return [
    ...(await callProblems(policies, requiredCalls(policies), 'allowed')),
    ...(await callProblems(policies, forbiddenCalls(policies), 'denied')),
    ...broadGrantProblems(policies),
  ];
}
