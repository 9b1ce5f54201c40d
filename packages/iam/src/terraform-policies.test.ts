import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  LOCAL_DEPLOYMENT,
  localOidcIssuer,
  localOidcProviderArn,
  renderDeploymentPolicies,
  resourcePolicyFor,
} from './terraform-policies.ts';

const local = LOCAL_DEPLOYMENT;

const repoFile = (file: string) => readFileSync(new URL(`../../../${file}`, import.meta.url), 'utf8');

/** A file of the repository with one edit, checked to have changed something. */
function edited(file: string, from: string | RegExp, to: string): Record<string, string> {
  const original = repoFile(file);
  const changed = original.replace(from, to);
  expect(changed).not.toBe(original);
  return { [file]: changed };
}

const policies = await renderDeploymentPolicies(local);

describe('renderDeploymentPolicies', () => {
  it('resolves every reference of the role policies to the deployment', () => {
    const worker = policies.roles.worker;
    expect(worker.name).toBe('thumbnail-worker');
    expect(worker.arn).toBe('arn:aws:iam::000000000000:role/thumbnail-worker');
    expect(worker.policy.Statement.find((s) => s.Sid === 'ConsumeJobs')).toEqual({
      Sid: 'ConsumeJobs',
      Effect: 'Allow',
      Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility'],
      Resource: ['arn:aws:sqs:us-east-1:000000000000:thumbnail-jobs'],
    });
    expect(worker.policy.Statement.find((s) => s.Sid === 'KnowMissingKeys')).toEqual({
      Sid: 'KnowMissingKeys',
      Effect: 'Allow',
      Action: ['s3:ListBucket'],
      Resource: ['arn:aws:s3:::thumbnail-pipeline'],
    });
    const api = policies.roles.api.policy.Statement;
    expect(api.find((s) => s.Sid === 'OwnReplicaEventQueue')?.Resource).toEqual([
      'arn:aws:sqs:us-east-1:000000000000:thumbnail-api-*',
    ]);
    expect(api.find((s) => s.Sid === 'ReadQueues')?.Resource).toEqual([
      'arn:aws:sqs:us-east-1:000000000000:thumbnail-jobs',
      'arn:aws:sqs:us-east-1:000000000000:thumbnail-jobs-dlq',
    ]);
    expect(policies.roles.keda.name).toBe('thumbnail-keda');
    expect(policies.roles.deployer.name).toBe('thumbnail-github-actions');
    expect(policies.roles.deployer.policy.Statement[0]?.Resource).toEqual(['*']);
    const everything = JSON.stringify(policies);
    expect(everything).not.toContain('${');
  });

  it('gives the IRSA roles a trust policy on the local OIDC provider', () => {
    expect(localOidcIssuer(local)).toBe('oidc.eks.us-east-1.amazonaws.com/id/LOCAL');
    expect(policies.roles.api.trustPolicy).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: ['sts:AssumeRoleWithWebIdentity'],
          Principal: { Federated: [localOidcProviderArn(local)] },
          Condition: {
            // Two condition blocks with the same test share one operator, as Terraform writes them.
            StringEquals: {
              'oidc.eks.us-east-1.amazonaws.com/id/LOCAL:sub': [
                'system:serviceaccount:thumbnail-pipeline:thumbnail-api',
              ],
              'oidc.eks.us-east-1.amazonaws.com/id/LOCAL:aud': ['sts.amazonaws.com'],
            },
          },
        },
      ],
    });
    expect(localOidcProviderArn(local)).toBe(
      'arn:aws:iam::000000000000:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/LOCAL',
    );
    expect(policies.roles.keda.trustPolicy?.Statement[0]?.Condition?.StringEquals).toMatchObject({
      'oidc.eks.us-east-1.amazonaws.com/id/LOCAL:sub': ['system:serviceaccount:keda:keda-operator'],
    });
  });

  it('renders the resource policies, keyed by ARN, and the CORS rules', () => {
    expect(policies.arns).toEqual({
      bucket: 'arn:aws:s3:::thumbnail-pipeline',
      testSourceBucket: 'arn:aws:s3:::thumbnail-test-source',
      queue: 'arn:aws:sqs:us-east-1:000000000000:thumbnail-jobs',
      dlq: 'arn:aws:sqs:us-east-1:000000000000:thumbnail-jobs-dlq',
      topic: 'arn:aws:sns:us-east-1:000000000000:thumbnail-events',
    });
    expect(Object.keys(policies.queuePolicies)).toEqual([policies.arns.queue]);
    expect(policies.queuePolicies[policies.arns.queue]?.Statement[0]).toMatchObject({
      Principal: { Service: ['s3.amazonaws.com'] },
      Condition: {
        ArnEquals: { 'aws:SourceArn': ['arn:aws:s3:::thumbnail-pipeline'] },
        StringEquals: { 'aws:SourceAccount': ['000000000000'] },
      },
    });
    expect(Object.keys(policies.topicPolicies)).toEqual([policies.arns.topic]);
    expect(policies.topicPolicies[policies.arns.topic]?.Statement[1]).toMatchObject({
      Effect: 'Deny',
      Principal: '*',
      Condition: {
        StringNotLike: { 'sns:Endpoint': ['arn:aws:sqs:us-east-1:000000000000:thumbnail-api-*'] },
      },
    });
    expect(Object.keys(policies.bucketPolicies)).toEqual([
      policies.arns.bucket,
      policies.arns.testSourceBucket,
    ]);
    expect(policies.bucketPolicies[policies.arns.testSourceBucket]?.Statement[0]).toMatchObject({
      Resource: ['arn:aws:s3:::thumbnail-test-source', 'arn:aws:s3:::thumbnail-test-source/*'],
      Condition: { Bool: { 'aws:SecureTransport': ['false'] } },
    });
    expect(policies.bucketCors).toEqual({
      'thumbnail-pipeline': [
        {
          allowedMethods: ['PUT'],
          allowedOrigins: ['http://localhost:3000'],
          allowedHeaders: ['*'],
          exposeHeaders: ['ETag'],
          maxAgeSeconds: 3600,
        },
      ],
    });
  });

  it('finds the resource policy AWS would apply to a resource', () => {
    expect(resourcePolicyFor(policies, 'arn:aws:s3:::thumbnail-pipeline/uploads/a.mp4')).toBe(
      policies.bucketPolicies['arn:aws:s3:::thumbnail-pipeline'],
    );
    expect(resourcePolicyFor(policies, policies.arns.queue)).toBe(
      policies.queuePolicies[policies.arns.queue],
    );
    expect(resourcePolicyFor(policies, policies.arns.topic)).toBe(
      policies.topicPolicies[policies.arns.topic],
    );
    expect(resourcePolicyFor(policies, policies.arns.dlq)).toBeUndefined();
  });

  it('takes every name, the region and the account from the deployment', async () => {
    const other = await renderDeploymentPolicies({
      region: 'eu-west-1',
      accountId: '123456789012',
      bucketName: 'b',
      testSourceBucketName: 't',
      queueName: 'jobs',
      eventsTopicName: 'events',
      uploadAllowedOrigins: ['https://app.example'],
    });
    expect(other.arns).toEqual({
      bucket: 'arn:aws:s3:::b',
      testSourceBucket: 'arn:aws:s3:::t',
      queue: 'arn:aws:sqs:eu-west-1:123456789012:jobs',
      dlq: 'arn:aws:sqs:eu-west-1:123456789012:jobs-dlq',
      topic: 'arn:aws:sns:eu-west-1:123456789012:events',
    });
    expect(other.roles.worker.arn).toBe('arn:aws:iam::123456789012:role/thumbnail-worker');
    expect(other.roles.worker.trustPolicy?.Statement[0]?.Principal).toEqual({
      Federated: ['arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/LOCAL'],
    });
    expect(other.bucketCors.b?.[0]?.allowedOrigins).toEqual(['https://app.example']);
    expect(JSON.stringify(other)).not.toMatch(/000000000000|us-east-1|:::thumbnail-pipeline/);
  });

  it('renders once per deployment and overrides, and freezes the result', async () => {
    expect(await renderDeploymentPolicies({ ...local })).toBe(policies);
    expect(Object.isFrozen(policies.roles.worker.policy.Statement[0])).toBe(true);
    const overrides = edited('terraform/iam.tf', '"sqs:ChangeMessageVisibility"]', ']');
    const changed = await renderDeploymentPolicies(local, { overrides });
    expect(changed).not.toBe(policies);
    expect(changed.roles.worker.policy.Statement[0]?.Action).toEqual([
      'sqs:ReceiveMessage',
      'sqs:DeleteMessage',
    ]);
    expect(await renderDeploymentPolicies(local, { overrides: { ...overrides } })).toBe(changed);
  });

  it('follows the module calls, so a role gets whatever policy its call passes', async () => {
    const swapped = await renderDeploymentPolicies(local, {
      overrides: edited(
        'terraform/iam.tf',
        'policy_json       = data.aws_iam_policy_document.keda.json',
        'policy_json       = data.aws_iam_policy_document.worker.json',
      ),
    });
    expect(swapped.roles.keda.policy).toEqual(policies.roles.worker.policy);
    // Without policy_json the module's aws_iam_role_policy has count 0: the role has no inline policy.
    const none = await renderDeploymentPolicies(local, {
      overrides: edited(
        'terraform/iam.tf',
        '  policy_json       = data.aws_iam_policy_document.keda.json\n',
        '',
      ),
    });
    expect(none.roles.keda.policy).toEqual({ Version: '2012-10-17', Statement: [] });
  });

  it('throws, naming the file and expression, for a reference that does not resolve', async () => {
    const misspelt = edited(
      'terraform/iam.tf',
      '"${local.bucket_arn}/uploads/*"',
      '"${local.bucket}/uploads/*"',
    );
    await expect(renderDeploymentPolicies(local, { overrides: misspelt })).rejects.toThrow(
      'terraform/iam.tf: ${local.bucket}/uploads/*: terraform has no local value "bucket"',
    );
    const output = edited(
      'terraform/modules/queues/main.tf',
      'value = aws_sqs_queue.jobs.arn',
      'value = aws_sqs_queue.jobs.rn',
    );
    await expect(renderDeploymentPolicies(local, { overrides: output })).rejects.toThrow(
      /^terraform\/modules\/queues\/main\.tf: \$\{aws_sqs_queue\.jobs\.rn\}: module\.queues\.aws_sqs_queue\.jobs has no argument or known attribute "rn"$/,
    );
    const unsupported = edited(
      'terraform/modules/events/main.tf',
      'values   = ["arn:aws:sqs:${var.region}',
      'values   = ["arn:aws:sqs:${upper(var.region)}',
    );
    await expect(renderDeploymentPolicies(local, { overrides: unsupported })).rejects.toThrow(
      /terraform\/modules\/events\/main\.tf: .*function upper\(\) is not supported/,
    );
  });

  it('refuses what it cannot render faithfully', async () => {
    const managed = edited(
      'terraform/iam.tf',
      'policy_json       = data.aws_iam_policy_document.worker.json',
      'policy_json       = data.aws_iam_policy_document.worker.json\n  managed_policy_arns = ["arn:aws:iam::aws:policy/AmazonS3FullAccess"]',
    );
    await expect(renderDeploymentPolicies(local, { overrides: managed })).rejects.toThrow(
      'role thumbnail-worker has managed policies (arn:aws:iam::aws:policy/AmazonS3FullAccess)',
    );
    await expect(renderDeploymentPolicies(local, { overrides: { 'terraform/nope.tf': '' } })).rejects.toThrow(
      'overrides for files that are not part of a stack: terraform/nope.tf',
    );
    const twice = edited(
      'terraform/modules/queues/main.tf',
      'resource "aws_sqs_queue_policy" "jobs" {',
      'resource "aws_sqs_queue_policy" "again" {\n  queue_url = aws_sqs_queue.jobs.id\n  policy    = data.aws_iam_policy_document.s3_may_send.json\n}\n\nresource "aws_sqs_queue_policy" "jobs" {',
    );
    await expect(renderDeploymentPolicies(local, { overrides: twice })).rejects.toThrow(
      'two aws_sqs_queue_policy resources for arn:aws:sqs:us-east-1:000000000000:thumbnail-jobs',
    );
    const source = edited(
      'terraform/modules/queues/main.tf',
      'data "aws_iam_policy_document" "s3_may_send" {',
      'data "aws_iam_policy_document" "s3_may_send" {\n  source_policy_documents = []',
    );
    await expect(renderDeploymentPolicies(local, { overrides: source })).rejects.toThrow(
      '"source_policy_documents" is not supported in policy documents',
    );
  });
});
