/**
 * What other workspaces' tests and benchmarks use of the local stack (`@thumbs/local/testing`): the AWS
 * endpoint with each component's identity, the pods API, the whole stack, and test videos. Only apps/local
 * knows which emulator runs behind them.
 */
export { roleCredentials } from '../aws-auth/component-credentials.ts';
export { kubeconfigYaml, startKubeApi, type KubeApi } from '../kube-api.ts';
export { PodRegistry } from '../pods.ts';
export { ensurePipelineResources } from '../setup.ts';
export { startLocalStack, type LocalStack, type LocalStackOptions } from '../stack.ts';
export { webBuildIsStale } from '../web-build.ts';
export * from './clips.ts';
export * from './local-aws.ts';
