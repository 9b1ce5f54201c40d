import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@thumbs/runtime';
import { startEmulator } from './emulator.ts';

/** The worker tests' logger: silent unless TEST_LOG_LEVEL says otherwise. */
export function testLog() {
  const log = createLogger('worker-test');
  log.level = process.env.TEST_LOG_LEVEL ?? 'silent';
  return log;
}

export type Testbed = Awaited<ReturnType<typeof startEmulator>> & {
  /** A temporary folder for the test's own files. */
  dir: string;
  /** Stops the emulator and deletes the folder. */
  close(): Promise<void>;
};

/** The embedded emulator (as `startEmulator`) and a temporary folder named after `prefix`. */
export async function startTestbed(prefix: string): Promise<Testbed> {
  const emulator = await startEmulator();
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return {
    ...emulator,
    dir,
    async close() {
      await emulator.server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
