import { describe, expect, it } from 'vitest';
import { authorize, type AuthorizationRequest } from './evaluate.ts';
import { renderDeploymentPolicies, resourcePolicyFor, type PolicyDocument } from './terraform-policies.ts';

const ACCOUNT = '000000000000';
const policies = await renderDeploymentPolicies({
  region: 'us-east-1',
  accountId: ACCOUNT,
  bucketName: 'thumbnail-pipeline',
  testSourceBucketName: 'thumbnail-test-source',
  queueName: 'thumbnail-jobs',
  eventsTopicName: 'thumbnail-events',
  uploadAllowedOrigins: ['*'],
});
const { arns } = policies;
const session = (role: string) => `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/test`;

function as(
  role: 'worker' | 'api' | 'keda',
  action: string,
  resource: string,
  context: Record<string, string | string[]> = {},
): AuthorizationRequest {
  const resourcePolicy = resourcePolicyFor(policies, resource);
  return {
    principal: session(policies.roles[role].name),
    identityPolicies: [policies.roles[role].policy],
    ...(resourcePolicy ? { resourcePolicy } : {}),
    action,
    resource,
    resourceAccount: ACCOUNT,
    context,
  };
}

const object = (key: string) => `${arns.bucket}/${key}`;
const https = { 'aws:SecureTransport': 'true' };

describe('authorize', () => {
  it('allows what an identity policy grants, naming the statement', async () => {
    const decision = await authorize(as('worker', 's3:GetObject', object('uploads/clip.mp4'), https));
    expect(decision).toEqual({
      allowed: true,
      result: 'Allowed',
      statement: 'ReadUploads',
      message: `User: ${session('thumbnail-worker')} is allowed to perform: s3:GetObject on resource: "${object('uploads/clip.mp4')}" by an identity-based policy`,
    });
  });

  it('denies implicitly, in AWS words, what no policy grants', async () => {
    const decision = await authorize(as('worker', 's3:DeleteObject', object('uploads/clip.mp4'), https));
    expect(decision).toEqual({
      allowed: false,
      result: 'ImplicitlyDenied',
      deniedBy: 'identity',
      message: `User: ${session('thumbnail-worker')} is not authorized to perform: s3:DeleteObject on resource: "${object('uploads/clip.mp4')}" because no identity-based policy allows the s3:DeleteObject action`,
    });
  });

  it('aws:SecureTransport (Bool): the buckets refuse plain HTTP with an explicit deny', async () => {
    const decision = await authorize(
      as('api', 's3:GetObject', object('thumbnails/a.mp4/10.jpg'), { 'aws:SecureTransport': 'false' }),
    );
    expect(decision).toMatchObject({
      allowed: false,
      result: 'ExplicitlyDenied',
      deniedBy: 'resource',
      statement: 'DenyInsecureTransport',
    });
    expect(decision.message).toMatch(/ with an explicit deny in a resource-based policy$/);
    // IAM evaluates a condition on a missing key as not matching: the caller must always pass the key.
    expect((await authorize(as('api', 's3:GetObject', object('thumbnails/a.mp4/10.jpg')))).allowed).toBe(
      true,
    );
  });

  it('aws:SourceArn (ArnEquals) and aws:SourceAccount: only the bucket may notify the work queue', async () => {
    const delivery = (context: Record<string, string>) =>
      authorize({
        principal: 's3.amazonaws.com',
        identityPolicies: [],
        resourcePolicy: policies.queuePolicies[arns.queue] as PolicyDocument,
        action: 'sqs:SendMessage',
        resource: arns.queue,
        resourceAccount: ACCOUNT,
        context,
      });
    expect((await delivery({ 'aws:SourceArn': arns.bucket, 'aws:SourceAccount': ACCOUNT })).allowed).toBe(
      true,
    );
    const other = await delivery({
      'aws:SourceArn': 'arn:aws:s3:::other-bucket',
      'aws:SourceAccount': ACCOUNT,
    });
    expect(other).toMatchObject({ allowed: false, result: 'ImplicitlyDenied', deniedBy: 'resource' });
    expect(other.message).toBe(
      `User: s3.amazonaws.com is not authorized to perform: sqs:SendMessage on resource: "${arns.queue}" because no resource-based policy allows the sqs:SendMessage action`,
    );
    expect(
      (await delivery({ 'aws:SourceArn': arns.bucket, 'aws:SourceAccount': '111111111111' })).allowed,
    ).toBe(false);
    expect((await delivery({})).allowed).toBe(false);
  });

  it('sns:Endpoint (StringNotLike): the topic lets only the API replica queues subscribe', async () => {
    const subscribe = (endpoint?: string) =>
      authorize(as('api', 'sns:Subscribe', arns.topic, endpoint ? { 'sns:Endpoint': endpoint } : {}));
    const own = 'arn:aws:sqs:us-east-1:000000000000:thumbnail-api-host-1a2b3c4d';
    expect(await subscribe(own)).toMatchObject({ allowed: true, statement: 'EventsTopic' });
    const stolen = await subscribe(arns.queue);
    expect(stolen).toMatchObject({
      allowed: false,
      deniedBy: 'resource',
      statement: 'OnlyApiQueuesSubscribe',
    });
    // A negated operator on a missing key matches, so a subscription without an endpoint is denied too.
    expect((await subscribe()).allowed).toBe(false);
  });

  it('a topic policy naming the account delegates to the identity policies', async () => {
    expect((await authorize(as('worker', 'sns:Publish', arns.topic))).allowed).toBe(true);
    expect(await authorize(as('keda', 'sns:Publish', arns.topic))).toMatchObject({
      allowed: false,
      deniedBy: 'identity',
    });
  });

  it('takes a "*" in a resource literally, as AWS does', async () => {
    const policy: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: [object('thumbnails/*')] }],
    };
    const request = (key: string): AuthorizationRequest => ({
      principal: session('thumbnail-api'),
      identityPolicies: [policy],
      action: 's3:GetObject',
      resource: object(key),
      resourceAccount: ACCOUNT,
    });
    expect((await authorize(request('thumbnails/a*b.jpg'))).allowed).toBe(true);
    const star = await authorize(request('thumb*'));
    expect(star.allowed).toBe(false);
    expect(star.message).toContain(`"${object('thumb*')}"`);
  });

  it('throws for a request iam-simulate cannot evaluate, instead of deciding', async () => {
    await expect(authorize(as('worker', 's3:HeadObject', object('uploads/a.mp4')))).rejects.toThrow(
      /could not decide s3:HeadObject .*invalid\.action/,
    );
    const broken = { Version: '2012-10-17', Statement: [{ Effect: 'Allow' }] } as PolicyDocument;
    await expect(
      authorize({ ...as('worker', 's3:GetObject', object('uploads/a.mp4')), identityPolicies: [broken] }),
    ).rejects.toThrow(/policy\.errors/);
  });
});
