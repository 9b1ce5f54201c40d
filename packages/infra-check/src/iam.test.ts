import { readFileSync } from 'node:fs';
import { LOCAL_DEPLOYMENT, renderDeploymentPolicies } from '@thumbs/iam';
import { describe, expect, it } from 'vitest';
import { broadGrantProblems, callProblems, forbiddenCalls, iamProblems, requiredCalls } from './iam.ts';
import { repoPath } from './repo.ts';

const policies = await renderDeploymentPolicies(LOCAL_DEPLOYMENT);

/** The rendered policies with one Terraform file edited: a planted mistake. */
async function planted(file: string, from: string | RegExp, to: string) {
  const original = readFileSync(repoPath(file), 'utf8');
  const text = original.replace(from, to);
  expect(text).not.toBe(original);
  return renderDeploymentPolicies(LOCAL_DEPLOYMENT, { overrides: { [file]: text } });
}

const allowedProblems = async (p: typeof policies) => callProblems(p, requiredCalls(p), 'allowed');
const deniedProblems = async (p: typeof policies) => callProblems(p, forbiddenCalls(p), 'denied');

describe('IAM: what each part must be able to do, and must not', () => {
  it('every call the code makes is allowed', async () => {
    const calls = requiredCalls(policies);
    expect(new Set(calls.map((c) => c.caller))).toEqual(
      new Set(['worker', 'api', 'keda', 's3.amazonaws.com']),
    );
    expect(await allowedProblems(policies)).toEqual([]);
  });

  it('every call that must not happen is denied', async () => {
    expect(await deniedProblems(policies)).toEqual([]);
  });

  it('no role grants every resource or a wildcard action', () => {
    expect(broadGrantProblems(policies)).toEqual([]);
  });

  it('the per-replica queue the calls use is named the way the API names it', () => {
    const events = readFileSync(repoPath('apps/api/src/feeds/events.ts'), 'utf8');
    expect(events).toMatch(/return `thumbnail-api-\$\{/);
    expect(requiredCalls(policies).some((c) => c.resource.includes(':thumbnail-api-'))).toBe(true);
  });

  it('iamProblems runs every rule on the Terraform as it is', async () => {
    expect(await iamProblems()).toEqual([]);
  });
});

describe('IAM: each rule reports its planted mistake', () => {
  it('a missing grant: the worker without ListBucket would get 403 for thumbnails not made yet', async () => {
    const p = await planted(
      'terraform/iam.tf',
      /\n {2}statement \{\n {4}sid {7}= "KnowMissingKeys"[^}]*\}\n/,
      '\n',
    );
    expect(await allowedProblems(p)).toEqual([
      'worker: s3:ListBucket on arn:aws:s3:::thumbnail-pipeline is denied (a HEAD of a thumbnail not made yet must be 404, not 403): ' +
        'User: arn:aws:sts::000000000000:assumed-role/thumbnail-worker/infra-check is not authorized to perform: ' +
        's3:ListBucket on resource: "arn:aws:s3:::thumbnail-pipeline" because no identity-based policy allows the s3:ListBucket action',
    ]);
  });

  it('a wildcard grant: s3:* lets the worker delete and overwrite uploads', async () => {
    const p = await planted(
      'terraform/iam.tf',
      'sid       = "ClearResults"\n    actions   = ["s3:DeleteObject"]\n    resources = ["${local.bucket_arn}/thumbnails/*", "${local.bucket_arn}/failures/*"]',
      'sid       = "ClearResults"\n    actions   = ["s3:*"]\n    resources = ["${local.bucket_arn}/*"]',
    );
    const denied = await deniedProblems(p);
    expect(denied).toEqual([
      expect.stringMatching(
        /^worker: s3:DeleteObject on arn:aws:s3:::thumbnail-pipeline\/uploads\/clip\.mp4 is allowed \(the worker never deletes videos\)/,
      ),
      expect.stringMatching(
        /^worker: s3:PutObject on arn:aws:s3:::thumbnail-pipeline\/uploads\/clip\.mp4 is allowed \(the worker never writes uploads\)/,
      ),
    ]);
    expect(broadGrantProblems(p)).toEqual(['worker: ClearResults grants a wildcard action (s3:*)']);
  });

  it('a grant on every resource', async () => {
    const p = await planted(
      'terraform/iam.tf',
      'sid       = "ReadQueueDepth"\n    actions   = ["sqs:GetQueueAttributes"]\n    resources = [module.queues.queue_arn]',
      'sid       = "ReadQueueDepth"\n    actions   = ["sqs:GetQueueAttributes"]\n    resources = ["*"]',
    );
    expect(broadGrantProblems(p)).toEqual(['keda: ReadQueueDepth applies to every resource']);
  });

  it("a queue policy without its SourceArn condition takes notifications from anyone's bucket", async () => {
    const p = await planted(
      'terraform/modules/queues/main.tf',
      /\n {4}condition \{\n {6}test {5}= "ArnEquals"[^}]*\}\n/,
      '\n',
    );
    expect(await deniedProblems(p)).toEqual([
      expect.stringMatching(
        /^s3\.amazonaws\.com: sqs:SendMessage on arn:aws:sqs:us-east-1:000000000000:thumbnail-jobs \{"aws:SourceArn":"arn:aws:s3:::someone-elses-bucket".* is allowed \(only the pipeline bucket may notify the work queue\)/,
      ),
    ]);
  });

  it('a topic policy without its deny lets any queue subscribe', async () => {
    const p = await planted('terraform/modules/events/main.tf', 'effect    = "Deny"', 'effect    = "Allow"');
    expect(await deniedProblems(p)).toEqual([
      expect.stringMatching(
        /^api: sns:Subscribe on arn:aws:sns:us-east-1:000000000000:thumbnail-events \{"sns:Endpoint":"arn:aws:sqs:us-east-1:000000000000:thumbnail-jobs".* is allowed/,
      ),
    ]);
  });

  it('a TLS-only bucket policy that allows instead of denying lets plain HTTP in', async () => {
    const p = await planted('terraform/modules/storage/main.tf', '    effect    = "Deny"\n', '');
    expect(await deniedProblems(p)).toEqual([
      expect.stringMatching(
        /^api: s3:GetObject on .* \{"aws:SecureTransport":"false"\} is allowed \(the buckets refuse plain HTTP\)/,
      ),
    ]);
  });

  it('a bucket policy allowing everyone opens the bucket to every role of the account', async () => {
    const p = await planted(
      'terraform/modules/storage/main.tf',
      / {4}effect {4}= "Deny"\n([^]*?)\n {4}condition \{[^}]*\}\n/,
      '$1\n',
    );
    expect(await deniedProblems(p)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^worker: s3:DeleteObject on .*uploads\/clip\.mp4 is allowed .* by a resource-based policy$/,
        ),
        expect.stringMatching(/^keda: s3:GetObject on .* is allowed/),
        expect.stringMatching(/^api: s3:DeleteBucket on arn:aws:s3:::thumbnail-pipeline is allowed/),
      ]),
    );
  });
});
