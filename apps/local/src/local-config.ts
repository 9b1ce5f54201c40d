/** What the local stack reads from the environment (every setting has a local default). */
import { env, loadConfig, pipelineSpec, type ConfigOf } from '@thumbs/runtime';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export const localSpec = {
  ...pipelineSpec,
  dataDir: env.string('DATA_DIR', join(repoRoot, '.data')),
  awsPort: env.int('LOCAL_AWS_PORT', 4566, { min: 0, max: 65535 }),
  kubePort: env.int('LOCAL_K8S_PORT', 8001, { min: 0, max: 65535 }),
  apiPort: env.int('API_PORT', 8000, { min: 0, max: 65535 }),
  webPort: env.int('WEB_PORT', 3000, { min: 0, max: 65535 }),
  namespace: env.string('K8S_NAMESPACE', 'thumbnail-pipeline'),
  adminToken: env.optionalString('ADMIN_TOKEN'),
  visibilityTimeoutSeconds: env.int('LOCAL_VISIBILITY_TIMEOUT', 60, { min: 1, max: 43_200 }),
  maxWorkers: env.int('FLEET_MAX_WORKERS', 4, { min: 0, max: 64 }),
  pollMs: env.int('FLEET_POLL_MS', 1000, { min: 100, max: 600_000 }),
  cooldownMs: env.int('FLEET_COOLDOWN_MS', 15_000, { min: 0, max: 3_600_000 }),
  messagesPerPod: env.int('FLEET_MESSAGES_PER_POD', 3, { min: 1, max: 10_000 }),
  activation: env.int('FLEET_ACTIVATION', 0, { min: 0, max: 10_000 }),
  workerStopGraceMs: env.int('FLEET_STOP_GRACE_MS', 30_000, { min: 0, max: 3_600_000 }),
  samples: env.bool('LOCAL_SAMPLES', true),
  startApi: env.bool('LOCAL_START_API', true),
  startWeb: env.bool('LOCAL_START_WEB', true),
  /** Check every request's signature and authorize it against the caller's IAM role, as AWS does. */
  enforceAws: env.bool('LOCAL_AWS_ENFORCE', true),
  /** Lifetime of the temporary credentials each component gets (IRSA's are about an hour). */
  credentialSeconds: env.int('LOCAL_CREDENTIAL_SECONDS', 3600, { min: 60, max: 43_200 }),
  /** Origins the buckets' CORS rule allows (Terraform's upload_allowed_origins); default: the dashboard's. */
  corsOrigins: env.optionalString('LOCAL_AWS_CORS_ORIGINS'),
};

export type LocalConfig = ConfigOf<typeof localSpec>;

export function loadLocalConfig(source: Record<string, string | undefined> = process.env): LocalConfig {
  return loadConfig(localSpec, source);
}
