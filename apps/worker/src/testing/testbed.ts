import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@thumbs/runtime';
import {
  startLocalAws,
  type LocalAws,
  type LocalAwsOptions,
  type EmulatorControl,
} from '@thumbs/local/testing';

/** The worker tests' logger: silent unless TEST_LOG_LEVEL says otherwise. */
export function testLog() {
  const log = createLogger('worker-test');
  log.level = process.env.TEST_LOG_LEVEL ?? 'silent';
  return log;
}

export interface Testbed {
  /** The local AWS endpoint, enforcing each role's Terraform policy; `local.clients(role, …)` sign as a role. */
  local: LocalAws;
  /** The emulator behind it, for what Terraform and AWS themselves do (creating resources, queueing S3 events). */
  server: EmulatorControl;
  /** A temporary folder for the test's own files. */
  dir: string;
  /** Stops the local AWS and deletes the folder. */
  close(): Promise<void>;
}

/** The local AWS (`options` as for startLocalAws) and a temporary folder named after `prefix`. */
export async function startTestbed(prefix: string, options: LocalAwsOptions = {}): Promise<Testbed> {
  const local = await startLocalAws(options);
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return {
    local,
    server: local.emulator,
    dir,
    async close() {
      await local.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
