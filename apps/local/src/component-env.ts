/**
 * The environment each component of the local stack starts with. The shared settings are named by the
 * pipeline's own config spec; the few of one app alone are named here, as a Kubernetes manifest names them
 * (apps/local must not depend on the apps it runs: their tests depend on it).
 */
import { configEnv, pipelineSpec } from '@thumbs/runtime';
import { join } from 'node:path';
import type { LocalConfig } from './local-config.ts';
import type { PipelineResources } from './setup.ts';

export interface ComponentEnvInputs {
  config: LocalConfig;
  endpoint: string;
  resources: PipelineResources;
  kubeconfig: string;
  /** Extra variables from the caller (tests): they win over the machine's own, not over the pipeline's. */
  childEnv: Record<string, string>;
}

/**
 * What every child process shares. Nothing of the user's own AWS set-up may leak in: each component signs in
 * with its role, as with IRSA, and the machine's AWS CLI files are not read either.
 */
export function componentEnv(inputs: ComponentEnvInputs): NodeJS.ProcessEnv {
  const { config, endpoint, resources, kubeconfig, childEnv } = inputs;
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_')),
  ) as NodeJS.ProcessEnv;
  return {
    // The worker asks for the queue's visibility timeout on each receive, unless told otherwise.
    WORKER_VISIBILITY_TIMEOUT: String(Math.max(3, config.visibilityTimeoutSeconds)),
    ...inherited,
    ...childEnv,
    AWS_DEFAULT_REGION: config.region,
    AWS_CONFIG_FILE: join(config.dataDir, 'aws-config-none'),
    AWS_SHARED_CREDENTIALS_FILE: join(config.dataDir, 'aws-credentials-none'),
    KUBECONFIG: kubeconfig,
    ...configEnv(pipelineSpec, {
      ...config,
      endpoint,
      queueUrl: resources.queueUrl,
      dlqUrl: resources.dlqUrl,
      eventsTopicArn: resources.topicArn,
    }),
    K8S_NAMESPACE: config.namespace,
  };
}

/** The API's own variables on top of the shared ones. */
export function apiEnv(values: { port: number; adminToken: string; dashboardOrigin: string }) {
  return {
    API_PORT: String(values.port),
    ADMIN_TOKEN: values.adminToken,
    DASHBOARD_ORIGIN: values.dashboardOrigin,
  };
}
