import { ConfigError } from '@thumbs/runtime';
import type { Log } from './log.ts';
import { loadLocalConfig, type LocalConfig } from './local-config.ts';
import { PortInUseError, StartAbortedError, startLocalStack, type LocalStack } from './stack.ts';

const colour = process.stdout.isTTY
  ? {
      dim: '\x1b[2m',
      bold: '\x1b[1m',
      yellow: '\x1b[33m',
      red: '\x1b[31m',
      cyan: '\x1b[36m',
      reset: '\x1b[0m',
    }
  : { dim: '', bold: '', yellow: '', red: '', cyan: '', reset: '' };

const log: Log = (level, message) => {
  const time = new Date().toTimeString().slice(0, 8);
  const tint = level === 'error' ? colour.red : level === 'warn' ? colour.yellow : '';
  const stream = level === 'info' ? process.stdout : process.stderr;
  stream.write(`${colour.dim}${time}${colour.reset} ${tint}${message}${colour.reset}\n`);
};

function banner(stack: LocalStack): string {
  const { urls, config } = stack;
  const row = (label: string, value: string) => `  ${label.padEnd(22)} ${value}`;
  return [
    '',
    `${colour.bold}Thumbnail pipeline — local stack is up${colour.reset}`,
    '',
    row('Dashboard', urls.dashboard ? `${colour.cyan}${urls.dashboard}${colour.reset}` : 'not started'),
    row('API (REST + /ws)', urls.api ?? 'not started'),
    ...(urls.api ? [row('API reference (OpenAPI)', `${urls.api}/docs  (JSON: ${urls.api}/docs/json)`)] : []),
    row(
      'AWS (S3, SQS, SNS, STS)',
      `${urls.aws.replace('127.0.0.1', 'localhost')}  region ${config.region}, ` +
        (config.enforceAws
          ? 'IAM enforced (operator key test/test = the deploy role)'
          : 'LOCAL_AWS_ENFORCE=false: any credentials, no IAM'),
    ),
    row(
      'Pods API (Kubernetes)',
      `${urls.kube.replace('127.0.0.1', 'localhost')}  KUBECONFIG=${stack.kubeconfig}`,
    ),
    row('Admin token', stack.token),
    '',
    row('Buckets', `${config.bucket} (upload to ${config.uploadPrefix}), ${config.testSourceBucket}`),
    row('Queues', `${config.queueName} → ${config.dlqName} after ${config.maxReceiveCount} receives`),
    row(
      'Worker fleet',
      `0…${config.maxWorkers}, 1 per ${config.messagesPerPod} messages, poll ${config.pollMs} ms, cooldown ${config.cooldownMs} ms`,
    ),
    row('State', config.dataDir),
    row('Process logs', stack.logDir),
    '',
    `  Try it: AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test aws --endpoint-url ${urls.aws.replace('127.0.0.1', 'localhost')} s3 cp clip.mp4 s3://${config.bucket}/${config.uploadPrefix}`,
    '  Ctrl-C stops everything; the next start resumes with the same state.',
    '',
  ].join('\n');
}

let config: LocalConfig;
try {
  config = loadLocalConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    log('error', `local stack: ${error.message}`);
    process.exit(78);
  }
  throw error;
}

log('info', `starting the local stack (state in ${config.dataDir})`);
const started = Date.now();
const startup = new AbortController();
let stack: LocalStack | undefined;
let stopping = false;

// Installed before start-up, so that Ctrl-C at any moment stops whatever has started.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) {
      log('warn', 'stopping now without waiting');
      process.exit(130);
    }
    stopping = true;
    log(
      'info',
      `${signal}: stopping workers, API and dashboard, then the AWS emulator (Ctrl-C again to force) …`,
    );
    if (!stack) return startup.abort();
    stack.stop().then(
      () => {
        log('info', 'stopped');
        process.exit(0);
      },
      (error: Error) => {
        log('error', `stop failed: ${error.message}`);
        process.exit(1);
      },
    );
  });
}

try {
  stack = await startLocalStack({ log, signal: startup.signal });
} catch (error) {
  if (error instanceof StartAbortedError) {
    log('info', 'stopped');
    process.exit(0);
  }
  log('error', error instanceof PortInUseError ? error.message : `cannot start: ${(error as Error).stack}`);
  process.exit(1);
}
process.stdout.write(banner(stack));
log('info', `started in ${((Date.now() - started) / 1000).toFixed(1)} s`);
