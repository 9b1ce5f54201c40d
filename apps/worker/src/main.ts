import { createAwsClients, createLogger, exitOnConfigError } from '@thumbs/runtime';
import { loadWorkerConfig, type WorkerConfig } from './config.ts';
import { createWorker } from './worker.ts';

let config: WorkerConfig;
try {
  config = loadWorkerConfig();
} catch (error) {
  exitOnConfigError(error, 'worker');
}

const log = createLogger('worker', { worker: config.workerName });
const worker = createWorker(config, createAwsClients(config), log);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    log.info({ signal, graceMs: config.shutdownGraceMs }, 'stopping: finishing the current poll or job');
    void worker.stop(config.shutdownGraceMs);
  });
}

log.info({ bucket: config.bucket, queue: config.queueUrl ?? config.queueName }, 'worker starting');
await worker.run();
log.info('worker stopped');
process.exit(0);
