// The GitHub Actions deploy role, evaluated as IAM would: it builds the stack but cannot become admin.
import { readFileSync } from 'node:fs';
import { authorize, LOCAL_DEPLOYMENT, renderDeploymentPolicies, type RenderedPolicies } from '@thumbs/iam';
import { describe, expect, it } from 'vitest';
import { repoPath } from './repo.ts';
import { parseTerraformFile } from './terraform.ts';

const account = LOCAL_DEPLOYMENT.accountId;
const role = (name: string) => `arn:aws:iam::${account}:role/${name}`;
const BOUNDARY = `arn:aws:iam::${account}:policy/thumbnail-permissions-boundary`;
const ADMIN_POLICY = 'arn:aws:iam::aws:policy/AdministratorAccess';

interface DeployCall {
  action: string;
  resource: string;
  context?: Record<string, string>;
  why: string;
}

const ALLOWED: DeployCall[] = [
  {
    action: 'iam:CreateRole',
    resource: role('thumbnail-api'),
    context: { 'iam:PermissionsBoundary': BOUNDARY },
    why: 'terraform/ creates its roles with the boundary',
  },
  {
    action: 'iam:PutRolePolicy',
    resource: role('thumbnail-worker'),
    context: { 'iam:PermissionsBoundary': BOUNDARY },
    why: 'and their inline policies',
  },
  {
    action: 'iam:PassRole',
    resource: role('thumbnail-cluster-control-plane'),
    context: { 'iam:PassedToService': 'eks.amazonaws.com' },
    why: 'the cluster role goes to EKS',
  },
  {
    action: 'iam:CreateOpenIDConnectProvider',
    resource: `arn:aws:iam::${account}:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC`,
    why: "the cluster's IRSA provider",
  },
  { action: 'iam:GetRole', resource: role('thumbnail-github-actions'), why: 'plans read everything' },
  { action: 'sqs:CreateQueue', resource: `arn:aws:sqs:us-east-1:${account}:thumbnail-jobs`, why: 'queues' },
];

const DENIED: DeployCall[] = [
  { action: 'iam:PutRolePolicy', resource: role('thumbnail-github-actions'), why: 'rewrite its own policy' },
  {
    action: 'iam:AttachRolePolicy',
    resource: role('thumbnail-github-actions'),
    context: { 'iam:PermissionsBoundary': BOUNDARY, 'iam:PolicyARN': ADMIN_POLICY },
    why: 'attach admin to itself',
  },
  {
    action: 'iam:CreateRole',
    resource: role('thumbnail-escape'),
    why: 'a project role without the boundary, which it could then assume',
  },
  { action: 'iam:CreateRole', resource: role('admin'), why: 'a role outside the project' },
  {
    action: 'iam:PassRole',
    resource: role('thumbnail-api'),
    context: { 'iam:PassedToService': 'ec2.amazonaws.com' },
    why: 'hand a role to a service that would run code with it',
  },
  { action: 'iam:CreatePolicyVersion', resource: BOUNDARY, why: 'widen the boundary' },
  { action: 'iam:DeleteRolePermissionsBoundary', resource: role('thumbnail-api'), why: 'drop the boundary' },
  { action: 'iam:CreateUser', resource: `arn:aws:iam::${account}:user/me`, why: 'users with keys' },
];

async function problems(policies: RenderedPolicies, calls: DeployCall[], expected: boolean) {
  const found: string[] = [];
  for (const call of calls) {
    const decision = await authorize({
      principal: `arn:aws:sts::${account}:assumed-role/thumbnail-github-actions/deploy`,
      identityPolicies: [policies.roles.deployer.policy],
      action: call.action,
      resource: call.resource,
      resourceAccount: account,
      context: { 'aws:SecureTransport': 'true', ...call.context },
    });
    if (decision.allowed !== expected)
      found.push(
        `${call.action} on ${call.resource} is ${decision.allowed ? 'allowed' : 'denied'} (${call.why})`,
      );
  }
  return found;
}

describe('the deploy role', () => {
  it('may build the stack', async () => {
    const policies = await renderDeploymentPolicies(LOCAL_DEPLOYMENT);
    expect(await problems(policies, ALLOWED, true)).toEqual([]);
  });

  it('cannot make itself or anything else admin', async () => {
    const policies = await renderDeploymentPolicies(LOCAL_DEPLOYMENT);
    expect(await problems(policies, DENIED, false)).toEqual([]);
  });

  it('catches iam:* on every resource', async () => {
    const file = 'bootstrap-terraform/github_oidc.tf';
    const text = readFileSync(repoPath(file), 'utf8').replace(
      '"cognito-idp:*",',
      '"cognito-idp:*",\n      "iam:*",',
    );
    const planted = await renderDeploymentPolicies(LOCAL_DEPLOYMENT, { overrides: { [file]: text } });
    expect(await problems(planted, DENIED, false)).toEqual([
      expect.stringMatching(/^iam:CreateRole on .*thumbnail-escape is allowed/),
      expect.stringMatching(/^iam:CreateRole on .*role\/admin is allowed/),
      expect.stringMatching(/^iam:PassRole on .*thumbnail-api is allowed/),
      expect.stringMatching(/^iam:CreateUser on .* is allowed/),
    ]);
  });
});

describe('the permissions boundary on every role of terraform/', () => {
  const actionsOf = (statements: { Action?: string | string[]; Effect: string }[]) =>
    statements.filter((st) => st.Effect === 'Allow').flatMap((st) => [st.Action ?? []].flat());
  const covers = (patterns: string[], action: string) =>
    patterns.some((p) =>
      new RegExp(`^${p.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*')}$`, 'i').test(action),
    );
  const boundary = async (text = readFileSync(repoPath('bootstrap-terraform/github_oidc.tf'), 'utf8')) => {
    const json = (await parseTerraformFile('github_oidc.tf', text)) as {
      data: { aws_iam_policy_document: { boundary: { statement: { actions: string[] }[] }[] } };
    };
    return json.data.aws_iam_policy_document.boundary[0]!.statement.flatMap((st) => st.actions);
  };
  const missing = (patterns: string[]) => {
    const published = JSON.parse(
      readFileSync(repoPath('terraform/load_balancer_controller_iam_policy.json'), 'utf8'),
    ) as { Statement: { Action?: string | string[]; Effect: string }[] };
    return actionsOf(published.Statement).filter((action) => !covers(patterns, action));
  };

  it('leaves the load balancer controller every action of its published policy', async () => {
    expect(missing(await boundary())).toEqual([]);
  });

  it('catches an action the boundary would take away', async () => {
    const text = readFileSync(repoPath('bootstrap-terraform/github_oidc.tf'), 'utf8').replace(
      '      "shield:CreateProtection",\n',
      '',
    );
    expect(missing(await boundary(text))).toEqual(['shield:CreateProtection']);
  });
});
