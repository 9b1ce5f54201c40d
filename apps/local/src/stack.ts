/**
 * The whole pipeline on one machine: emulated AWS (with S3 event notifications), the worker fleet, the
 * Kubernetes-shaped pods API, the API and the dashboard. `main.ts` runs it for people; tests run it on
 * random ports in a temporary DATA_DIR.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { LOCAL_ACCOUNT_ID, renderDeploymentPolicies, type Deployment } from '@thumbs/iam';
import { startAwsEmulator, type AwsEmulator } from './aws-emulator.ts';
import { irsaEnv, roleCredentials } from './aws-auth/component-credentials.ts';
import type { IdentityAuthority } from './aws-auth/identities.ts';
import { WorkerFleet } from './fleet.ts';
import { kubeconfigYaml, startKubeApi, type KubeApi } from './kube-api.ts';
import { loadLocalConfig, repoRoot, type LocalConfig } from './local-config.ts';
import { silentLog, type Log } from './log.ts';
import { ManagedProcess, type ProcessSpec } from './managed-process.ts';
import { podName, templateHash } from './pod-names.ts';
import { PodRegistry } from './pods.ts';
import { assertPortFree, freePort, PortInUseError, portInUseMessage } from './ports.ts';

export { PortInUseError };
import { generateSamples, uploadSamples } from './samples.ts';
import { ensurePipelineResources, type PipelineResources } from './setup.ts';
import { webBuildIsStale } from './web-build.ts';

export interface LocalStackOptions extends Partial<LocalConfig> {
  log?: Log;
  /** Extra environment for every child process (e.g. faster worker polling in tests). */
  childEnv?: Record<string, string>;
  /** Aborting during start-up stops what has started and rejects with StartAbortedError. */
  signal?: AbortSignal;
}

export class StartAbortedError extends Error {}

export interface LocalStack {
  config: LocalConfig;
  urls: { aws: string; kube: string; api?: string; web?: string; dashboard?: string };
  token: string;
  /** Issues credentials for the roles of this stack's deployment (what tests and tooling sign with). */
  authority: IdentityAuthority;
  kubeconfig: string;
  resources: PipelineResources;
  registry: PodRegistry;
  fleet: WorkerFleet;
  /** The API process, when started (fault tests kill and restart it). */
  api?: ManagedProcess;
  logDir: string;
  /** Takes the emulated AWS down (clients get connection refused) until startAws; for fault tests. */
  stopAws(): Promise<void>;
  /** Brings the emulated AWS back on the same port, from the same DATA_DIR. */
  startAws(): Promise<void>;
  stop(): Promise<void>;
}

const API_MAIN = join(repoRoot, 'apps/api/src/main.ts');
const WORKER_MAIN = join(repoRoot, 'apps/worker/src/main.ts');
const WEB_DIR = join(repoRoot, 'apps/web');

function adminToken(config: LocalConfig): string {
  if (config.adminToken) return config.adminToken;
  const file = join(config.dataDir, 'admin-token');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const token = randomBytes(24).toString('base64url');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
}

async function waitForHttp(url: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !signal?.aborted) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await response.body?.cancel();
      if (response.status < 500) return true;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  return false;
}

function nextBin(): string | undefined {
  try {
    return createRequire(join(WEB_DIR, 'package.json')).resolve('next/dist/bin/next');
  } catch {
    return undefined;
  }
}

/**
 * Runs a command to completion with its output in `logFile`; resolves with the exit code. In its own process
 * group, so that aborting stops the whole tree (npm → sh → next build → tsc).
 */
function runLogged(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; logFile: string; signal?: AbortSignal },
) {
  return new Promise<number>((resolve) => {
    const out = openSync(options.logFile, 'w');
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', out, out],
      detached: true,
    });
    closeSync(out);
    const abort = (): void => {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
    };
    options.signal?.addEventListener('abort', abort, { once: true });
    child.on('error', () => resolve(127));
    child.on('close', (code) => {
      options.signal?.removeEventListener('abort', abort);
      resolve(code ?? 1);
    });
  });
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const { log = silentLog, childEnv = {}, signal, ...overrides } = options;
  const config: LocalConfig = { ...loadLocalConfig(), ...overrides };
  const logDir = join(config.dataDir, 'logs');
  mkdirSync(config.dataDir, { recursive: true });
  rmSync(logDir, { recursive: true, force: true });
  mkdirSync(logDir, { recursive: true });
  const token = adminToken(config);

  const stops: (() => Promise<void>)[] = [];
  const checkpoint = (): void => {
    if (signal?.aborted) throw new StartAbortedError('start-up interrupted');
  };
  const stop = async (): Promise<void> => {
    for (const step of stops.splice(0).reverse()) await step();
  };

  const apiPort = config.apiPort || (await freePort());
  const webPort = config.webPort || (await freePort());
  const apiUrl = `http://localhost:${apiPort}`;
  const webUrl = `http://localhost:${webPort}`;
  const deployment: Deployment = {
    region: config.region,
    accountId: LOCAL_ACCOUNT_ID,
    bucketName: config.bucket,
    testSourceBucketName: config.testSourceBucket,
    queueName: config.queueName,
    eventsTopicName: config.eventsTopicName,
    uploadAllowedOrigins: config.corsOrigins?.split(',').map((o) => o.trim()) ?? [
      webUrl,
      webUrl.replace('localhost', '127.0.0.1'),
    ],
  };
  const awsOptions = {
    dataDir: config.dataDir,
    region: config.region,
    deployment,
    enforce: config.enforceAws,
    sessionSeconds: config.credentialSeconds,
    log,
  };

  let emulator: AwsEmulator | undefined;
  const stopAws = async (): Promise<void> => {
    const running = emulator;
    emulator = undefined;
    await running?.stop();
  };
  try {
    try {
      emulator = await startAwsEmulator({ ...awsOptions, port: config.awsPort });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
        throw new PortInUseError(portInUseMessage(config.awsPort, 'AWS endpoint', 'LOCAL_AWS_PORT'));
      }
      throw error;
    }
    const awsPort = emulator.port;
    const endpoint = emulator.endpoint;
    const startAws = async (): Promise<void> => {
      emulator ??= await startAwsEmulator({ ...awsOptions, port: awsPort });
    };
    stops.push(stopAws);
    checkpoint();

    const { authority } = emulator;
    const policies = await renderDeploymentPolicies(deployment);
    // The local tooling creates and seeds resources as Terraform and the deploy workflow do: the deploy role.
    const deployer = {
      endpoint,
      region: config.region,
      credentials: roleCredentials(authority, 'deployer', config.credentialSeconds),
    };
    const s3 = new S3Client({ ...deployer, forcePathStyle: true });
    const sqs = new SQSClient(deployer);
    const sns = new SNSClient(deployer);
    const scaler = new SQSClient({
      endpoint,
      region: config.region,
      credentials: roleCredentials(authority, 'keda', config.credentialSeconds),
    });
    stops.push(async () => [s3, sqs, sns, scaler].forEach((client) => client.destroy()));
    const resources = await ensurePipelineResources(
      { s3, sqs, sns },
      {
        bucket: config.bucket,
        testSourceBucket: config.testSourceBucket,
        uploadPrefix: config.uploadPrefix,
        queueName: config.queueName,
        dlqName: config.dlqName,
        topicName: config.eventsTopicName,
        maxReceiveCount: config.maxReceiveCount,
        visibilityTimeoutSeconds: config.visibilityTimeoutSeconds,
        queuePolicy: policies.queuePolicies[policies.arns.queue],
        topicPolicy: policies.topicPolicies[policies.arns.topic],
      },
    );
    checkpoint();
    log(
      'info',
      `AWS resources ready${resources.notificationApplied ? ' (bucket notification applied)' : ''}`,
    );

    const registry = new PodRegistry();
    let kube: KubeApi;
    try {
      kube = await startKubeApi({ port: config.kubePort, namespace: config.namespace, registry });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
        throw new PortInUseError(portInUseMessage(config.kubePort, 'pods API', 'LOCAL_K8S_PORT'));
      }
      throw error;
    }
    stops.push(() => kube.stop());
    const kubeconfig = join(config.dataDir, 'kubeconfig');
    writeFileSync(kubeconfig, kubeconfigYaml(kube.url, config.namespace));

    // Nothing of the user's own AWS set-up may leak in: each component signs in with its role, as with IRSA.
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_')),
    ) as NodeJS.ProcessEnv;
    // The worker asks for the queue's visibility timeout on each receive, unless told otherwise.
    const baseEnv: NodeJS.ProcessEnv = {
      WORKER_VISIBILITY_TIMEOUT: String(Math.max(3, config.visibilityTimeoutSeconds)),
      ...inherited,
      ...childEnv,
    };
    Object.assign(baseEnv, {
      AWS_REGION: config.region,
      AWS_DEFAULT_REGION: config.region,
      AWS_ENDPOINT_URL: endpoint,
      // Files of the machine's own AWS CLI set-up are not read either.
      AWS_CONFIG_FILE: join(config.dataDir, 'aws-config-none'),
      AWS_SHARED_CREDENTIALS_FILE: join(config.dataDir, 'aws-credentials-none'),
      S3_BUCKET: config.bucket,
      S3_UPLOAD_PREFIX: config.uploadPrefix,
      S3_THUMBNAIL_PREFIX: config.thumbnailPrefix,
      S3_FAILURE_PREFIX: config.failurePrefix,
      TEST_SOURCE_BUCKET: config.testSourceBucket,
      SQS_QUEUE_URL: resources.queueUrl,
      SQS_DLQ_URL: resources.dlqUrl,
      EVENTS_TOPIC_ARN: resources.topicArn,
      MAX_RECEIVE_COUNT: String(config.maxReceiveCount),
      K8S_NAMESPACE: config.namespace,
      KUBECONFIG: kubeconfig,
    });

    const tokenDir = join(config.dataDir, 'tokens');
    const fleet = new WorkerFleet({
      sqs: scaler,
      queueUrl: resources.queueUrl,
      settings: {
        maxReplicas: existsSync(WORKER_MAIN) ? config.maxWorkers : 0,
        messagesPerPod: config.messagesPerPod,
        activationThreshold: config.activation,
        cooldownMs: config.cooldownMs,
      },
      pollMs: config.pollMs,
      worker: {
        command: process.execPath,
        args: [WORKER_MAIN],
        env: { ...baseEnv, ...irsaEnv(authority, policies, 'worker', tokenDir) },
        cwd: repoRoot,
        logDir,
        stopGraceMs: config.workerStopGraceMs,
      },
      registry,
      log,
    });
    if (!existsSync(WORKER_MAIN))
      log('warn', 'apps/worker/src/main.ts not found: the worker fleet stays at 0');
    fleet.start();
    stops.push(() => fleet.stop());

    if (config.samples) {
      checkpoint();
      const paths = await generateSamples(join(config.dataDir, 'samples'), (p) => {
        const size = p.bytes !== undefined ? ` ${(p.bytes / 1024).toFixed(0)} KiB` : '';
        if (p.state === 'generating')
          log('info', `sample videos [${p.index}/${p.total}] generating ${p.sample.name} …`);
        if (p.state === 'generated') {
          log('info', `sample videos [${p.index}/${p.total}] ${p.sample.name}:${size} in ${p.ms} ms`);
        }
      });
      const uploaded = await uploadSamples(s3, config.testSourceBucket, paths);
      checkpoint();
      log(
        'info',
        `sample videos: ${paths.length} in s3://${config.testSourceBucket} (${uploaded} uploaded now)`,
      );
    }

    const service = (app: string, container: string, spec: Omit<ProcessSpec, 'app' | 'container'>) => {
      const hash = templateHash({ app, args: spec.args });
      const pod = new ManagedProcess(podName(app, hash), { ...spec, app, container }, registry, log, {
        'pod-template-hash': hash,
      });
      stops.push(() => pod.stop());
      pod.start();
      return pod;
    };

    const urls: LocalStack['urls'] = { aws: endpoint, kube: kube.url };
    let api: ManagedProcess | undefined;

    if (config.startApi && existsSync(API_MAIN)) {
      await assertPortFree(apiPort, 'API', 'API_PORT');
      api = service('thumbnail-api', 'api', {
        command: process.execPath,
        args: [API_MAIN],
        env: {
          ...baseEnv,
          ...irsaEnv(authority, policies, 'api', tokenDir),
          API_PORT: String(apiPort),
          ADMIN_TOKEN: token,
          DASHBOARD_ORIGIN: webUrl,
          API_PUBLIC_URL: apiUrl,
        },
        cwd: repoRoot,
        logDir,
        stopGraceMs: 10_000,
      });
      urls.api = apiUrl;
      const up = await waitForHttp(`http://127.0.0.1:${apiPort}/health`, 60_000, signal);
      checkpoint();
      log(up ? 'info' : 'warn', up ? `API ready on ${apiUrl}` : `API not answering yet; see ${api.logFile}`);
    } else if (config.startApi) {
      log('warn', 'apps/api/src/main.ts not found: the API is not started');
    }

    const next = nextBin();
    if (config.startWeb && existsSync(join(WEB_DIR, 'package.json')) && next) {
      await assertPortFree(webPort, 'dashboard', 'WEB_PORT');
      const webEnv = {
        ...baseEnv,
        WEB_PORT: String(webPort),
        PORT: String(webPort),
        API_PUBLIC_URL: urls.api ?? '',
        // Local mode sends nothing off the machine.
        NEXT_TELEMETRY_DISABLED: '1',
      };
      let built = true;
      if (webBuildIsStale(WEB_DIR, [WEB_DIR, join(repoRoot, 'packages/model/src')])) {
        log(
          'info',
          'building the dashboard (npm run build -w @thumbs/web) — the first time takes a minute or two …',
        );
        const started = Date.now();
        const buildLog = join(logDir, 'web-build.log');
        const code = await runLogged('npm', ['run', 'build', '-w', '@thumbs/web'], {
          cwd: repoRoot,
          env: webEnv,
          logFile: buildLog,
          signal,
        });
        checkpoint();
        built = code === 0;
        log(
          built ? 'info' : 'error',
          built
            ? `dashboard built in ${((Date.now() - started) / 1000).toFixed(0)} s`
            : `dashboard build failed (exit ${code}); see ${buildLog}`,
        );
      }
      if (built) {
        const web = service('thumbnail-web', 'web', {
          command: process.execPath,
          args: [next, 'start', '-p', String(webPort)],
          env: webEnv,
          cwd: WEB_DIR,
          logDir,
          stopGraceMs: 10_000,
        });
        urls.web = webUrl;
        urls.dashboard = `${webUrl}/#token=${token}`;
        const up = await waitForHttp(`http://127.0.0.1:${webPort}/`, 60_000, signal);
        checkpoint();
        log(
          up ? 'info' : 'warn',
          up ? `dashboard ready on ${webUrl}` : `dashboard not answering yet; see ${web.logFile}`,
        );
      }
    } else if (config.startWeb) {
      log('warn', 'apps/web is not ready (no package.json or no next): the dashboard is not started');
    }

    return {
      config,
      urls,
      token,
      authority,
      kubeconfig,
      resources,
      registry,
      fleet,
      api,
      logDir,
      stopAws,
      startAws,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
