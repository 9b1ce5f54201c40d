/**
 * The whole pipeline on one machine: emulated AWS (with S3 event notifications), the worker fleet, the
 * Kubernetes-shaped pods API, the API and the dashboard. `main.ts` runs it for people; tests run it on
 * random ports in a temporary DATA_DIR.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOCAL_ACCOUNT_ID, renderDeploymentPolicies, type Deployment } from '@thumbs/iam';
import { startAwsEmulator, type AwsEmulator } from './aws-emulator.ts';
import { irsaEnv, roleCredentials } from './aws-auth/component-credentials.ts';
import type { IdentityAuthority } from './aws-auth/identities.ts';
import { apiEnv, componentEnv } from './component-env.ts';
import { ensureDashboardBuilt, nextBin } from './dashboard-build.ts';
import { WorkerFleet } from './fleet.ts';
import { kubeconfigYaml, startKubeApi } from './kube-api.ts';
import { loadLocalConfig, repoRoot, type LocalConfig } from './local-config.ts';
import { silentLog, type Log } from './log.ts';
import { ManagedProcess, type ProcessSpec } from './managed-process.ts';
import { podName, templateHash } from './pod-names.ts';
import { PodRegistry } from './pods.ts';
import { assertPortFree, freePort, listenOrExplain, PortInUseError, waitForHttp } from './ports.ts';
import { generateSamples, uploadSamples } from './samples.ts';
import { ensurePipelineResources, type PipelineResources } from './setup.ts';
import { WEB_DIR } from './web-build.ts';

export { PortInUseError };

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

/** Stops what has started, last first: on stop(), and when start-up fails or is aborted part way. */
class Teardown {
  readonly #steps: (() => Promise<void>)[] = [];
  add(step: () => Promise<void>): void {
    this.#steps.push(step);
  }
  async run(): Promise<void> {
    for (const step of this.#steps.splice(0).reverse()) await step();
  }
}

/** What start-up steps share. */
interface Context {
  config: LocalConfig;
  log: Log;
  logDir: string;
  teardown: Teardown;
  signal?: AbortSignal;
}

function checkpoint(context: Context): void {
  if (context.signal?.aborted) throw new StartAbortedError('start-up interrupted');
}

function prepareDataDir(config: LocalConfig): string {
  const logDir = join(config.dataDir, 'logs');
  mkdirSync(config.dataDir, { recursive: true });
  rmSync(logDir, { recursive: true, force: true });
  mkdirSync(logDir, { recursive: true });
  return logDir;
}

function adminToken(config: LocalConfig): string {
  if (config.adminToken) return config.adminToken;
  const file = join(config.dataDir, 'admin-token');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const token = randomBytes(24).toString('base64url');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
}

/** The names and origins Terraform would be given for this stack. */
function localDeployment(config: LocalConfig, webUrl: string): Deployment {
  return {
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
}

/** The emulated AWS, which fault tests can take down and bring back on the same port and DATA_DIR. */
async function startAws(context: Context, deployment: Deployment) {
  const { config, log } = context;
  const options = {
    dataDir: config.dataDir,
    region: config.region,
    deployment,
    enforce: config.enforceAws,
    sessionSeconds: config.credentialSeconds,
    log,
  };
  let emulator: AwsEmulator | undefined = await listenOrExplain(
    () => startAwsEmulator({ ...options, port: config.awsPort }),
    config.awsPort,
    'AWS endpoint',
    'LOCAL_AWS_PORT',
  );
  const { port, endpoint, authority } = emulator;
  const stop = async (): Promise<void> => {
    const running = emulator;
    emulator = undefined;
    await running?.stop();
  };
  context.teardown.add(stop);
  const start = async (): Promise<void> => {
    emulator ??= await startAwsEmulator({ ...options, port });
  };
  return { endpoint, authority, stop, start };
}

/** Creates and seeds resources as Terraform and the deploy workflow do: with the deploy role. */
async function createResources(
  context: Context,
  aws: { endpoint: string; authority: IdentityAuthority },
  policies: Awaited<ReturnType<typeof renderDeploymentPolicies>>,
) {
  const { config, log } = context;
  const deployer = {
    endpoint: aws.endpoint,
    region: config.region,
    credentials: roleCredentials(aws.authority, 'deployer', config.credentialSeconds),
  };
  const s3 = new S3Client({ ...deployer, forcePathStyle: true });
  const sqs = new SQSClient(deployer);
  const sns = new SNSClient(deployer);
  context.teardown.add(async () => [s3, sqs, sns].forEach((client) => client.destroy()));
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
  log('info', `AWS resources ready${resources.notificationApplied ? ' (bucket notification applied)' : ''}`);
  return { resources, s3 };
}

/** The Kubernetes-shaped pods API, and the kubeconfig that points the API at it. */
async function startPodsApi(context: Context, registry: PodRegistry) {
  const { config } = context;
  const kube = await listenOrExplain(
    () => startKubeApi({ port: config.kubePort, namespace: config.namespace, registry }),
    config.kubePort,
    'pods API',
    'LOCAL_K8S_PORT',
  );
  context.teardown.add(() => kube.stop());
  const kubeconfig = join(config.dataDir, 'kubeconfig');
  writeFileSync(kubeconfig, kubeconfigYaml(kube.url, config.namespace));
  return { kube, kubeconfig };
}

/** The worker pods, scaled on the queue by KEDA's rule, each signing in as the worker role. */
function startFleet(
  context: Context,
  inputs: {
    aws: { endpoint: string; authority: IdentityAuthority };
    queueUrl: string;
    env: NodeJS.ProcessEnv;
    registry: PodRegistry;
  },
): WorkerFleet {
  const { config, log, logDir } = context;
  const scaler = new SQSClient({
    endpoint: inputs.aws.endpoint,
    region: config.region,
    credentials: roleCredentials(inputs.aws.authority, 'keda', config.credentialSeconds),
  });
  const fleet = new WorkerFleet({
    sqs: scaler,
    queueUrl: inputs.queueUrl,
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
      env: inputs.env,
      cwd: repoRoot,
      logDir,
      stopGraceMs: config.workerStopGraceMs,
    },
    registry: inputs.registry,
    log,
  });
  if (!existsSync(WORKER_MAIN)) log('warn', 'apps/worker/src/main.ts not found: the worker fleet stays at 0');
  fleet.start();
  context.teardown.add(async () => {
    await fleet.stop();
    scaler.destroy();
  });
  return fleet;
}

async function seedSamples(context: Context, s3: S3Client): Promise<void> {
  const { config, log } = context;
  const paths = await generateSamples(join(config.dataDir, 'samples'), (p) => {
    const size = p.bytes !== undefined ? ` ${(p.bytes / 1024).toFixed(0)} KiB` : '';
    if (p.state === 'generating')
      log('info', `sample videos [${p.index}/${p.total}] generating ${p.sample.name} …`);
    if (p.state === 'generated') {
      log('info', `sample videos [${p.index}/${p.total}] ${p.sample.name}:${size} in ${p.ms} ms`);
    }
  });
  const uploaded = await uploadSamples(s3, config.testSourceBucket, paths);
  log('info', `sample videos: ${paths.length} in s3://${config.testSourceBucket} (${uploaded} uploaded now)`);
}

/** A long-running process shown as a pod of its own Deployment (name with the template hash). */
function startService(
  context: Context,
  registry: PodRegistry,
  app: string,
  container: string,
  spec: Omit<ProcessSpec, 'app' | 'container' | 'logDir' | 'stopGraceMs'>,
): ManagedProcess {
  const hash = templateHash({ app, args: spec.args });
  const pod = new ManagedProcess(
    podName(app, hash),
    { ...spec, app, container, logDir: context.logDir, stopGraceMs: 10_000 },
    registry,
    context.log,
    { 'pod-template-hash': hash },
  );
  context.teardown.add(() => pod.stop());
  pod.start();
  return pod;
}

/** Logs whether a started service answers within a minute. */
async function announce(
  context: Context,
  service: { name: string; url: string; probe: string; logFile: string },
): Promise<void> {
  const up = await waitForHttp(service.probe, 60_000, context.signal);
  checkpoint(context);
  if (up) context.log('info', `${service.name} ready on ${service.url}`);
  else context.log('warn', `${service.name} not answering yet; see ${service.logFile}`);
}

async function startApi(
  context: Context,
  registry: PodRegistry,
  inputs: { env: NodeJS.ProcessEnv; port: number; url: string },
): Promise<ManagedProcess | undefined> {
  if (!existsSync(API_MAIN)) {
    context.log('warn', 'apps/api/src/main.ts not found: the API is not started');
    return undefined;
  }
  await assertPortFree(inputs.port, 'API', 'API_PORT');
  const api = startService(context, registry, 'thumbnail-api', 'api', {
    command: process.execPath,
    args: [API_MAIN],
    env: inputs.env,
    cwd: repoRoot,
  });
  const probe = `http://127.0.0.1:${inputs.port}/health`;
  await announce(context, { name: 'API', url: inputs.url, probe, logFile: api.logFile });
  return api;
}

/** Builds the dashboard when stale, then serves it; false when it could not be started. */
async function startDashboard(
  context: Context,
  registry: PodRegistry,
  inputs: { env: NodeJS.ProcessEnv; port: number; url: string },
): Promise<boolean> {
  const next = nextBin();
  if (!existsSync(join(WEB_DIR, 'package.json')) || !next) {
    context.log('warn', 'apps/web is not ready (no package.json or no next): the dashboard is not started');
    return false;
  }
  await assertPortFree(inputs.port, 'dashboard', 'WEB_PORT');
  const env = {
    ...inputs.env,
    WEB_PORT: String(inputs.port),
    PORT: String(inputs.port),
    // Local mode sends nothing off the machine.
    NEXT_TELEMETRY_DISABLED: '1',
  };
  const { log, logDir, signal } = context;
  const built = await ensureDashboardBuilt({ env, logDir, log, signal });
  checkpoint(context);
  if (!built) return false;
  const web = startService(context, registry, 'thumbnail-web', 'web', {
    command: process.execPath,
    args: [next, 'start', '-p', String(inputs.port)],
    env,
    cwd: WEB_DIR,
  });
  const probe = `http://127.0.0.1:${inputs.port}/`;
  await announce(context, { name: 'dashboard', url: inputs.url, probe, logFile: web.logFile });
  return true;
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const { log = silentLog, childEnv = {}, signal, ...overrides } = options;
  const config: LocalConfig = { ...loadLocalConfig(), ...overrides };
  const logDir = prepareDataDir(config);
  const token = adminToken(config);
  const teardown = new Teardown();
  const context: Context = { config, log, logDir, teardown, signal };
  const stop = () => teardown.run();
  try {
    const apiPort = config.apiPort || (await freePort());
    const webPort = config.webPort || (await freePort());
    const apiUrl = `http://localhost:${apiPort}`;
    const webUrl = `http://localhost:${webPort}`;
    const deployment = localDeployment(config, webUrl);

    const aws = await startAws(context, deployment);
    checkpoint(context);
    const policies = await renderDeploymentPolicies(deployment);
    const { resources, s3 } = await createResources(context, aws, policies);
    checkpoint(context);
    const registry = new PodRegistry();
    const { kube, kubeconfig } = await startPodsApi(context, registry);
    const env = componentEnv({ config, endpoint: aws.endpoint, resources, kubeconfig, childEnv });
    const tokenDir = join(config.dataDir, 'tokens');
    const roleEnv = (role: 'worker' | 'api') => irsaEnv(aws.authority, policies, role, tokenDir);
    const fleet = startFleet(context, {
      aws,
      queueUrl: resources.queueUrl,
      env: { ...env, ...roleEnv('worker') },
      registry,
    });
    if (config.samples) {
      checkpoint(context);
      await seedSamples(context, s3);
      checkpoint(context);
    }

    const urls: LocalStack['urls'] = { aws: aws.endpoint, kube: kube.url };
    const api = config.startApi
      ? await startApi(context, registry, {
          env: {
            ...env,
            ...roleEnv('api'),
            ...apiEnv({ port: apiPort, adminToken: token, dashboardOrigin: webUrl }),
          },
          port: apiPort,
          url: apiUrl,
        })
      : undefined;
    if (api) urls.api = apiUrl;
    if (config.startWeb) {
      const webEnv = { ...env, API_PUBLIC_URL: urls.api ?? '' };
      if (await startDashboard(context, registry, { env: webEnv, port: webPort, url: webUrl })) {
        urls.web = webUrl;
        urls.dashboard = `${webUrl}/#token=${token}`;
      }
    }

    return {
      config,
      urls,
      token,
      authority: aws.authority,
      kubeconfig,
      resources,
      registry,
      fleet,
      api,
      logDir,
      stopAws: aws.stop,
      startAws: aws.start,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
