import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { actionlint } from './lint.ts';
import { listFiles, repoPath } from './repo.ts';

const workflows = listFiles('.github/workflows', (name) => name.endsWith('.yml'));
const read = (file: string) => readFileSync(repoPath(file), 'utf8');
type Workflow = {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  jobs: Record<
    string,
    { steps?: { uses?: string; with?: Record<string, unknown> }[]; uses?: string; needs?: string | string[] }
  >;
};
const workflow = (name: string) => parse(read(`.github/workflows/${name}`)) as Workflow;

describe('workflows pass actionlint', () => {
  it('has CI and every manual workflow of the deployment', () => {
    expect(workflows.map((f) => f.replace('.github/workflows/', ''))).toEqual([
      'bootstrap.yml',
      'build-push.yml',
      'ci.yml',
      'deploy-all.yml',
      'deploy-k8s.yml',
      'terraform-apply.yml',
      'terraform-destroy.yml',
      'terraform-global.yml',
      'terraform-monitoring.yml',
    ]);
  });

  it.each(workflows)('%s', async (file) => {
    expect(await actionlint(read(file), file)).toEqual([]);
  });

  it('catches an undefined input, a bad runner label and an unknown action input', async () => {
    const file = '.github/workflows/build-push.yml';
    const broken = read(file)
      .replace(
        '${{ inputs.image_tag }}\n          cache-from',
        '${{ inputs.imagetag }}\n          cache-from',
      )
      .replace('runs-on: ubuntu-24.04', 'runs-on: ubuntu-24.4')
      .replace('role-to-assume:', 'role-to-asume:');
    const problems = (await actionlint(broken, file)).join('\n');
    expect(problems).toMatch(/property "imagetag" is not defined/);
    expect(problems).toMatch(/label "ubuntu-24\.4" is unknown/);
    expect(problems).toMatch(/input "role-to-asume" is not defined/);
  });
});

describe('workflows do what the deployment needs', () => {
  it('CI runs lint, typecheck, tests and browser tests on every push and pull request', () => {
    const ci = workflow('ci.yml');
    expect(Object.keys(ci.on)).toEqual(['push', 'pull_request']);
    const text = read('.github/workflows/ci.yml');
    for (const command of ['npm run lint', 'npm run typecheck', 'npm test', 'npm run test:e2e'])
      expect(text).toContain(command);
    expect(text).toMatch(/apt-get install .*shellcheck/);
  });

  it.each(workflows.filter((f) => !f.endsWith('ci.yml')))(
    '%s is manual and signs in with OIDC only',
    (file) => {
      const parsed = parse(read(file)) as Workflow;
      expect(parsed.on).toHaveProperty('workflow_dispatch');
      expect(parsed.permissions).toEqual({ 'id-token': 'write', contents: 'read' });
      expect(read(file)).not.toMatch(/aws-access-key-id|AWS_SECRET_ACCESS_KEY/);
    },
  );

  it('build-push builds the three images with a matrix', () => {
    const job = workflow('build-push.yml').jobs.image as unknown as {
      strategy: { matrix: { app: string[] } };
    };
    expect(job.strategy.matrix.app).toEqual(['api', 'worker', 'web']);
  });

  it('deploy-all runs infrastructure, images, Kubernetes and alarms in order', () => {
    const { jobs } = workflow('deploy-all.yml');
    expect(jobs.kubernetes?.needs).toEqual(['infrastructure', 'images']);
    expect(jobs.monitoring?.needs).toBe('kubernetes');
    for (const job of Object.values(jobs)) {
      const called = job.uses!.replace('./', '');
      expect(parse(read(called)).on).toHaveProperty('workflow_call');
    }
  });

  it('terraform-destroy removes the Kubernetes resources (and so the ALB) before terraform destroy', () => {
    const text = read('.github/workflows/terraform-destroy.yml');
    const teardown = text.indexOf('scripts/teardown-k8s.sh');
    expect(teardown).toBeGreaterThan(0);
    expect(teardown).toBeLessThan(text.indexOf('terraform -chdir=terraform destroy'));
    expect(read('scripts/teardown-k8s.sh')).toMatch(/delete ingress[\s\S]*describe-load-balancers/);
  });

  it('every script a workflow runs exists', () => {
    for (const file of workflows) {
      for (const [script] of read(file).matchAll(/scripts\/[\w-]+\.sh/g)) {
        expect(() => read(script), `${file} runs ${script}`).not.toThrow();
      }
    }
  });
});
