import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoPath } from './repo.ts';

// The registry's advisory endpoint does not answer on these machines (405), so the script's reading of
// npm's report is checked against reports in npm 11's `audit --json` format, printed by an `npm` on PATH
// that also records the arguments it was given.
const dir = mkdtempSync(join(tmpdir(), 'audit-prod-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runWith(report: unknown, env: Record<string, string> = {}) {
  writeFileSync(join(dir, 'report.json'), JSON.stringify(report));
  writeFileSync(join(dir, 'npm'), `#!/bin/sh\necho "$@" > "${dir}/args"\ncat "${dir}/report.json"\nexit 1\n`);
  chmodSync(join(dir, 'npm'), 0o755);
  const result = spawnSync(repoPath('scripts/audit-prod.sh'), {
    env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, ...env },
    encoding: 'utf8',
  });
  return { ...result, args: readFileSync(join(dir, 'args'), 'utf8').trim() };
}

const advisory = (name: string, severity: string) => ({
  name,
  severity,
  isDirect: false,
  via: [{ title: `${name} advisory`, severity, range: '<1.2.3' }],
  effects: [],
  range: '<1.2.3',
  nodes: [`node_modules/${name}`],
  fixAvailable: true,
});

const report = (vulnerabilities: ReturnType<typeof advisory>[]) => {
  const count = (severity: string) => vulnerabilities.filter((v) => v.severity === severity).length;
  return {
    auditReportVersion: 2,
    vulnerabilities: Object.fromEntries(vulnerabilities.map((v) => [v.name, v])),
    metadata: {
      vulnerabilities: {
        info: 0,
        low: count('low'),
        moderate: count('moderate'),
        high: count('high'),
        critical: count('critical'),
        total: vulnerabilities.length,
      },
    },
  };
};

describe('scripts/audit-prod.sh', () => {
  it('audits production dependencies only, even where ~/.npmrc turns audits off', () => {
    expect(runWith(report([])).args).toBe('audit --omit=dev --audit=true --json');
  });

  it('fails on a high or a critical advisory and names the package', () => {
    for (const severity of ['high', 'critical']) {
      const result = runWith(report([advisory('fast-xml-parser', severity), advisory('debug', 'low')]));
      expect(result.status, severity).toBe(1);
      expect(result.stderr).toContain(`${severity}: fast-xml-parser <1.2.3 (fix available)`);
      expect(result.stderr).not.toContain('debug');
    }
  });

  it('passes with moderate and low advisories only, and says what it found', () => {
    const result = runWith(report([advisory('a', 'moderate'), advisory('b', 'low')]));
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('production dependencies: 0 critical, 0 high, 1 moderate, 1 low');
  });

  it('fails when the advisory endpoint does not answer, unless told that is acceptable', () => {
    const unavailable = {
      message: '405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk',
      statusCode: 405,
      error: { summary: '', detail: '' },
    };
    const strict = runWith(unavailable);
    expect(strict.status).toBe(2);
    expect(strict.stderr).toContain('npm audit could not run: 405 Method Not Allowed');
    expect(runWith(unavailable, { AUDIT_UNAVAILABLE_OK: '1' }).status).toBe(0);
  });
});
