import { readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bashSyntax, shellcheck, shellcheckAvailable, shellcheckSource } from './lint.ts';
import { listFiles, repoPath } from './repo.ts';
import { STACKS } from './terraform.ts';

const scripts = listFiles('scripts', (name) => name.endsWith('.sh'));
const read = (file: string) => readFileSync(repoPath(file), 'utf8');
const hasShellcheck = shellcheckAvailable();

describe('deploy scripts', () => {
  it.each(scripts)('%s parses (bash -n)', (file) => {
    expect(bashSyntax(read(file))).toEqual({ ok: true, output: '' });
  });

  it('bash -n catches an unclosed block', () => {
    const broken = read('scripts/deploy-manifests.sh').replace(/\ndone\n/, '\n');
    const result = bashSyntax(broken);
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/syntax error/);
  });

  it.each(scripts.filter((f) => !f.endsWith('lib.sh')))(
    '%s is strict, executable and says how to use it',
    (file) => {
      const text = read(file);
      expect(text.startsWith('#!/usr/bin/env bash\n')).toBe(true);
      expect(text).toMatch(/source "\$\(dirname "\$\{BASH_SOURCE\[0\]\}"\)\/lib\.sh"/);
      expect(statSync(repoPath(file)).mode & 0o111).not.toBe(0);
    },
  );

  it('lib.sh sets -euo pipefail for every script', () => {
    expect(read('scripts/lib.sh')).toMatch(/^set -euo pipefail$/m);
  });

  it('Helm charts are pinned', () => {
    const text = read('scripts/install-controllers.sh');
    expect(text).toMatch(/^KEDA_CHART_VERSION="\d+\.\d+\.\d+"$/m);
    expect(text).toMatch(/^LOAD_BALANCER_CONTROLLER_CHART_VERSION="\d+\.\d+\.\d+"$/m);
    for (const release of text.matchAll(/helm upgrade --install[^\n]*\\\n\s+--version "\$(\w+)"/g)) {
      expect(text).toContain(`${release[1]}=`);
    }
    expect([...text.matchAll(/helm upgrade --install/g)]).toHaveLength(2);
  });

  it('reads only Terraform outputs that exist', async () => {
    const outputs = (stack: string) =>
      new Set([...read(`${stack}/outputs.tf`).matchAll(/^output "(\w+)"/gm)].map((m) => m[1]));
    const missing = (text: string) =>
      [...text.matchAll(/tf_output(?:_or_empty)? ([\w-]+) (\w+)/g)]
        .filter(
          ([, stack, name]) => !(STACKS as readonly string[]).includes(stack!) || !outputs(stack!).has(name),
        )
        .map(([, stack, name]) => `${stack}.${name}`);
    const all = scripts.map(read).join('\n');
    expect(all).toMatch(/tf_output terraform queue_url/);
    expect(missing(all)).toEqual([]);
    expect(missing(all.replace('tf_output terraform queue_url', 'tf_output terraform queue'))).toEqual([
      'terraform.queue',
    ]);
  });
});

/** scripts/*.sh named in the deployment's files (Terraform, manifests, workflows, checks, docs) that do not exist. */
function missingScripts(texts: Record<string, string>): string[] {
  return Object.entries(texts).flatMap(([file, text]) =>
    [...text.matchAll(/scripts\/[\w-]+\.sh/g)]
      .filter(([script]) => !scripts.includes(script))
      .map(([script]) => `${file} names ${script}, which does not exist`),
  );
}

describe('scripts named anywhere exist', () => {
  const files = [
    ...STACKS.flatMap((stack) => listFiles(stack, (name) => name.endsWith('.tf'))),
    ...listFiles('k8s', (name) => name.endsWith('.yaml')),
    ...listFiles('.github/workflows', (name) => name.endsWith('.yml')),
    ...listFiles('packages/infra-check/src', (name) => name.endsWith('.ts') && !name.endsWith('.test.ts')),
    ...listFiles('docs', (name) => name.endsWith('.md')),
    ...scripts,
  ];
  const texts = Object.fromEntries(files.map((file) => [file, read(file)]));

  it('in every file of the deployment', () => {
    expect(missingScripts(texts)).toEqual([]);
  });

  it('catches the script that terraform/outputs.tf once named', () => {
    const planted = { 'terraform/outputs.tf': '# Read by scripts/k8s-values.sh\n' };
    expect(missingScripts(planted)).toEqual([
      'terraform/outputs.tf names scripts/k8s-values.sh, which does not exist',
    ]);
  });
});

describe.skipIf(!hasShellcheck)('deploy scripts pass shellcheck', () => {
  it.each(scripts)('%s', (file) => {
    expect(shellcheck([file])).toEqual({ ok: true, output: '' });
  });

  it('catches an unquoted expansion', () => {
    const broken = read('scripts/create-state-bucket.sh').replace(
      '--bucket "$TF_STATE_BUCKET"',
      '--bucket $TF_STATE_BUCKET',
    );
    const result = shellcheckSource(
      broken.replace(/^# shellcheck source=.*\nsource .*\n/m, 'set -euo pipefail\n'),
    );
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/SC2086/);
  });
});

it.runIf(!hasShellcheck)(
  'shellcheck is not installed: skipped (CI installs it with apt-get install shellcheck)',
  () => {
    console.warn(
      'shellcheck not found on PATH: install Debian package "shellcheck" to lint the deploy scripts',
    );
  },
);
