import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MANIFEST_VALUES, renderManifests, type Manifest } from './manifests.ts';
import { listFiles, repoPath } from './repo.ts';

/** What a leaked credential looks like in a file: a key id, a secret key, a token, a private key. */
const SECRET_PATTERNS: [string, RegExp][] = [
  ['AWS access key id', /\b(?:AKIA|ASIA|AIDA|AROA)[0-9A-Z]{16}\b/],
  ['AWS secret access key', /aws_?secret_?access_?key["']?\s*[:=]\s*["']?[A-Za-z0-9/+]{30,}/i],
  [
    'literal AWS credential variable',
    /\b(?:AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN)["']?\s*[:=]\s*["']?[A-Za-z0-9/+]{8,}/,
  ],
  ['Terraform provider static keys', /^\s*(?:access_key|secret_key|token)\s*=\s*"/m],
  ['private key', /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/],
  ['GitHub token', /\bgh[pousr]_[A-Za-z0-9]{36}\b/],
  ['literal admin token', /\bADMIN_TOKEN["']?\s*[:=]\s*["']?[A-Za-z0-9_-]{8,}/],
];

function secretsIn(text: string): string[] {
  return SECRET_PATTERNS.filter(([, pattern]) => pattern.test(text)).map(([what]) => what);
}

const deployed = [
  ...[
    'k8s',
    '.github/workflows',
    'terraform',
    'bootstrap-terraform',
    'terraform-monitoring',
    'route53',
    'scripts',
  ]
    .flatMap((dir) => listFiles(dir, () => true))
    .filter((file) => !file.endsWith('.terraform.lock.hcl')),
  ...listFiles('apps', (name) => name === 'Dockerfile'),
  '.dockerignore',
];
const read = (file: string) => readFileSync(repoPath(file), 'utf8');

const values = Object.fromEntries(
  Object.keys(MANIFEST_VALUES).map((name) => [
    name,
    name.endsWith('_ARN') ? `arn:aws:iam::1:role/${name}` : 'x',
  ]),
);
// Viewers sign in with Cognito here: the OIDC variant differs only in the Ingress's annotations.
const manifests = renderManifests({ ...values, OIDC_ISSUER: '' });

interface PodSpec {
  serviceAccountName?: string;
  containers: { name: string; env?: { name: string; value?: string }[] }[];
  initContainers?: PodSpec['containers'];
}
const podSpecs = manifests.flatMap((m: Manifest) => {
  const template = (m as { spec?: { template?: { spec?: PodSpec } } }).spec?.template?.spec;
  return template ? [{ name: m.metadata.name, spec: template }] : [];
});

describe('no credentials in images, manifests, workflows, Terraform or scripts', () => {
  it('finds the patterns it looks for (a planted key of each kind)', () => {
    expect(secretsIn('key = "AKIAIOSFODNN7EXAMPLE"')).toEqual(['AWS access key id']);
    expect(secretsIn('aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY')).toContain(
      'AWS secret access key',
    );
    expect(secretsIn('  - name: AWS_SECRET_ACCESS_KEY\n    value: x\nAWS_ACCESS_KEY_ID: abcdefgh12')).toEqual(
      ['literal AWS credential variable'],
    );
    expect(secretsIn('provider "aws" {\n  access_key = "x"\n}')).toEqual(['Terraform provider static keys']);
    expect(secretsIn('-----BEGIN RSA PRIVATE KEY-----')).toEqual(['private key']);
    expect(secretsIn(`ADMIN_TOKEN: ${'s3cret'.repeat(3)}`)).toEqual(['literal admin token']);
    expect(secretsIn('ADMIN_TOKEN: ${{ secrets.ADMIN_TOKEN }}\nAWS_REGION: us-east-1')).toEqual([]);
  });

  it.each(deployed)('%s holds no credential', (file) => {
    expect(secretsIn(read(file))).toEqual([]);
  });

  it('covers every kind of deployed file', () => {
    for (const prefix of ['k8s/', '.github/workflows/', 'terraform/', 'scripts/', 'apps/api/Dockerfile'])
      expect(
        deployed.some((file) => file.startsWith(prefix)),
        prefix,
      ).toBe(true);
  });

  it('keeps local secrets (.env, .data with the admin token) out of the image build context', () => {
    const ignored = read('.dockerignore').split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['.env', '.data']));
    for (const file of listFiles('apps', (name) => name === 'Dockerfile')) {
      expect(read(file), file).not.toMatch(/^\s*(?:ENV|ARG)\s+(?:AWS_|ADMIN_TOKEN)/m);
    }
  });
});

describe('IRSA only', () => {
  it('gives no pod AWS credentials through its environment', () => {
    expect(podSpecs.length).toBeGreaterThanOrEqual(3);
    for (const { name, spec } of podSpecs) {
      const env = [...spec.containers, ...(spec.initContainers ?? [])].flatMap((c) => c.env ?? []);
      expect(
        env.map((e) => e.name).filter((n) => /^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN)$/.test(n)),
        name,
      ).toEqual([]);
    }
  });

  it('runs the pods that call AWS under service accounts with an IAM role annotation', () => {
    for (const app of ['thumbnail-worker', 'thumbnail-api']) {
      const pod = podSpecs.find((p) => p.name === app);
      expect(pod?.spec.serviceAccountName, app).toBe(app);
      const account = manifests.find((m) => m.kind === 'ServiceAccount' && m.metadata.name === app);
      expect(account?.metadata.annotations?.['eks.amazonaws.com/role-arn'], app).toMatch(/^arn:aws:iam::/);
    }
  });

  it('has the roles trust the cluster OIDC provider, and the workflows assume a role through OIDC', () => {
    expect(read('terraform/modules/irsa_role/main.tf')).toContain('sts:AssumeRoleWithWebIdentity');
    for (const file of listFiles('.github/workflows', (name) => name.endsWith('.yml'))) {
      const text = read(file);
      expect(text, file).not.toMatch(/aws-access-key-id|aws-secret-access-key/);
      if (text.includes('configure-aws-credentials')) {
        expect(text, file).toMatch(/role-to-assume:/);
        expect(text, file).toMatch(/id-token: write/);
      }
    }
  });
});
