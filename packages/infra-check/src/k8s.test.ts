import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { schemaProblems } from './k8s-schema.ts';
import {
  MANIFEST_VALUES,
  placeholdersIn,
  readManifestTexts,
  RenderError,
  renderManifests,
  type Manifest,
  type ManifestValues,
} from './manifests.ts';
import { repoPath } from './repo.ts';

const account = '123456789012';
const VALUES: ManifestValues = {
  AWS_REGION: 'us-east-1',
  ECR_REGISTRY: `${account}.dkr.ecr.us-east-1.amazonaws.com`,
  IMAGE_TAG: '1.0.5',
  S3_BUCKET: `thumbnail-pipeline-${account}`,
  TEST_SOURCE_BUCKET: `thumbnail-test-source-${account}`,
  SQS_QUEUE_URL: `https://sqs.us-east-1.amazonaws.com/${account}/thumbnail-jobs`,
  SQS_DLQ_URL: `https://sqs.us-east-1.amazonaws.com/${account}/thumbnail-jobs-dlq`,
  EVENTS_TOPIC_ARN: `arn:aws:sns:us-east-1:${account}:thumbnail-events`,
  WORKER_ROLE_ARN: `arn:aws:iam::${account}:role/thumbnail-worker`,
  API_ROLE_ARN: `arn:aws:iam::${account}:role/thumbnail-api`,
  AWS_ACCOUNT_ID: account,
  CLUSTER_NAME: 'thumbnail-cluster',
  MAX_RECEIVE_COUNT: '3',
  ADOT_COLLECTOR_ROLE_ARN: `arn:aws:iam::${account}:role/thumbnail-adot-collector`,
  POD_LOG_GROUP: '/aws/eks/thumbnail-cluster/pods',
  CERTIFICATE_ARN: `arn:aws:acm:us-east-1:${account}:certificate/0f1e2d3c`,
  DASHBOARD_ORIGIN: 'https://thumbnail.example.com',
  COGNITO_USER_POOL_ARN: `arn:aws:cognito-idp:us-east-1:${account}:userpool/us-east-1_AbCdEf123`,
  COGNITO_CLIENT_ID: '1example23456789',
  COGNITO_DOMAIN: `thumbnail-${account}`,
};
const {
  COGNITO_USER_POOL_ARN: _pool,
  COGNITO_CLIENT_ID: _client,
  COGNITO_DOMAIN: _domain,
  ...WITHOUT_COGNITO
} = VALUES;
const OIDC: ManifestValues = {
  ...WITHOUT_COGNITO,
  OIDC_ISSUER: 'https://idp.example.com',
  OIDC_AUTHORIZATION_ENDPOINT: 'https://idp.example.com/authorize',
  OIDC_TOKEN_ENDPOINT: 'https://idp.example.com/token',
  OIDC_USER_INFO_ENDPOINT: 'https://idp.example.com/userinfo',
};

const manifests = renderManifests(VALUES);
const find = <T = Manifest>(list: Manifest[], kind: string, name: string): T => {
  const found = list.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found as T;
};
// A copy of one rendered manifest, to break at any depth.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const copy = (kind: string, name: string): any => structuredClone(find(manifests, kind, name));

type Container = {
  name: string;
  ports?: { name?: string; containerPort: number }[];
  envFrom?: { configMapRef: { name: string } }[];
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  livenessProbe?: { httpGet?: { path: string } };
  readinessProbe?: { httpGet?: { path: string } };
};
type Deployment = {
  metadata: { name: string };
  spec: {
    selector: { matchLabels: Record<string, string> };
    template: {
      metadata: { labels: Record<string, string> };
      spec: { serviceAccountName: string; terminationGracePeriodSeconds: number; containers: Container[] };
    };
  };
};
type Service = {
  spec: { selector: Record<string, string>; ports: { port: number; targetPort: string | number }[] };
};
const deployments = manifests.filter((m) => m.kind === 'Deployment') as unknown as Deployment[];

describe('k8s: manifests validate against the Kubernetes and KEDA schemas', () => {
  it.each(manifests.map((m) => [`${m.kind} ${m.metadata.name}`, m] as const))('%s', (_name, manifest) => {
    expect(schemaProblems(manifest)).toEqual([]);
  });

  it('validates the OpenID Connect variant of the Ingress too', () => {
    expect(schemaProblems(find(renderManifests(OIDC), 'Ingress', 'thumbnail-pipeline'))).toEqual([]);
  });

  it('catches a misspelt field, which JSON schema alone lets through', () => {
    const deployment = copy('Deployment', 'thumbnail-worker');
    deployment.spec.template.spec.containers[0].resource =
      deployment.spec.template.spec.containers[0].resources;
    delete deployment.spec.template.spec.containers[0].resources;
    expect(schemaProblems(deployment)).toEqual([
      expect.stringMatching(/spec\.template\.spec\.containers\[0\]\.resource: unknown field/),
    ]);
  });

  it('catches a value of the wrong type', () => {
    const service = copy('Service', 'thumbnail-api');
    service.spec.ports[0].port = '8000';
    expect(schemaProblems(service).join('\n')).toMatch(/ports\/0\/port must be integer/);
  });

  it('catches a broken KEDA object', () => {
    const scaled = copy('ScaledObject', 'thumbnail-worker');
    scaled.spec.pollingInterval = '15s';
    expect(schemaProblems(scaled).join('\n')).toMatch(/pollingInterval must be integer/);
    const auth = copy('TriggerAuthentication', 'thumbnail-worker-sqs');
    auth.spec.podIdentity.provider = 'aws-iam';
    expect(schemaProblems(auth).join('\n')).toMatch(/provider must be equal to one of the allowed values/);
  });

  it('catches a kind that has no schema', () => {
    const deployment = copy('Deployment', 'thumbnail-api');
    deployment.apiVersion = 'apps/v1beta9';
    expect(schemaProblems(deployment)).toEqual([
      expect.stringMatching(/no schema for apps\/v1beta9 Deployment/),
    ]);
  });
});

describe('k8s: per-account values come from one place', () => {
  const texts = readManifestTexts();
  const used = new Set(Object.values(texts).flatMap(placeholdersIn));

  it('uses only declared values, and every declared value', () => {
    expect([...used].sort()).toEqual(
      Object.keys(MANIFEST_VALUES)
        .filter((k) => !/^(COGNITO|OIDC)_/.test(k))
        .sort(),
    );
  });

  it('fills every placeholder', () => {
    expect(JSON.stringify(manifests)).not.toMatch(/\$\{/);
    expect(JSON.stringify(manifests)).toContain(VALUES.SQS_QUEUE_URL);
  });

  it('names every missing value at once', () => {
    const { SQS_QUEUE_URL: _q, API_ROLE_ARN: _a, ...partial } = VALUES;
    expect(() => renderManifests(partial)).toThrow(RenderError);
    expect(() => renderManifests(partial)).toThrow(/SQS_QUEUE_URL is not set/);
    expect(() => renderManifests(partial)).toThrow(/API_ROLE_ARN is not set/);
  });

  it('rejects a placeholder that is not a declared value', () => {
    const broken = {
      ...texts,
      'config.yaml': texts['config.yaml']!.replace('${S3_BUCKET}', '${S3_BUCKET_NAME}'),
    };
    expect(() => renderManifests(VALUES, broken)).toThrow(
      /\$\{S3_BUCKET_NAME\} is not one of the manifest values/,
    );
  });

  it('cannot be broken by a value that looks like YAML', () => {
    const tricky = renderManifests({ ...VALUES, DASHBOARD_ORIGIN: 'x\nkind: Secret' });
    expect(
      find<{ data: Record<string, string> }>(tricky, 'ConfigMap', 'thumbnail-api').data.DASHBOARD_ORIGIN,
    ).toBe('x\nkind: Secret');
  });
});

type Ingress = {
  metadata: { annotations: Record<string, string> };
  spec: {
    ingressClassName: string;
    rules: {
      http: {
        paths: {
          path: string;
          pathType: string;
          backend: { service: { name: string; port: { number: number } } };
        }[];
      };
    }[];
  };
};

/** Where each path of the Ingress goes, checked against the Services and their pods' ports. */
function ingressProblems(list: Manifest[]): string[] {
  const ingress = find<Ingress>(list, 'Ingress', 'thumbnail-pipeline');
  const problems: string[] = [];
  for (const { path, backend } of ingress.spec.rules.flatMap((rule) => rule.http.paths)) {
    const service = list.find((m) => m.kind === 'Service' && m.metadata.name === backend.service.name) as
      (Manifest & Service) | undefined;
    const port = service?.spec.ports.find((p) => p.port === backend.service.port.number);
    if (!service || !port) {
      problems.push(`${path}: no Service port ${backend.service.name}:${backend.service.port.number}`);
      continue;
    }
    const pods = deployments.filter((d) =>
      Object.entries(service.spec.selector).every(([k, v]) => d.spec.template.metadata.labels[k] === v),
    );
    const served = pods.some((d) =>
      d.spec.template.spec.containers.some((c) =>
        c.ports?.some((p) => p.name === port.targetPort || p.containerPort === port.targetPort),
      ),
    );
    if (!served)
      problems.push(`${path}: no pod serves ${backend.service.name} port ${String(port.targetPort)}`);
  }
  return problems;
}

describe('k8s: ALB ingress', () => {
  const ingress = find<Ingress>(manifests, 'Ingress', 'thumbnail-pipeline');
  const annotations = ingress.metadata.annotations;
  const routes = Object.fromEntries(
    ingress.spec.rules
      .flatMap((rule) => rule.http.paths)
      .map((p) => [p.path, `${p.backend.service.name}:${p.backend.service.port.number}`]),
  );

  it('routes /api and /ws to the API and everything else to the web app', () => {
    expect(ingress.spec.ingressClassName).toBe('alb');
    expect(routes).toEqual({
      '/api': 'thumbnail-api:8000',
      '/ws': 'thumbnail-api:8000',
      '/': 'thumbnail-web:3000',
    });
    expect(ingressProblems(manifests)).toEqual([]);
  });

  it('catches a route to a port no Service has', () => {
    const broken = manifests.map((m) => (m.kind === 'Ingress' ? structuredClone(m) : m));
    const wrong = find<Ingress>(broken, 'Ingress', 'thumbnail-pipeline');
    wrong.spec.rules[0]!.http.paths[1]!.backend.service.port.number = 3000;
    expect(ingressProblems(broken)).toEqual(['/ws: no Service port thumbnail-api:3000']);
  });

  it('targets pods by IP, keeps idle WebSockets for an hour and checks /health', () => {
    expect(annotations['alb.ingress.kubernetes.io/target-type']).toBe('ip');
    expect(annotations['alb.ingress.kubernetes.io/scheme']).toBe('internet-facing');
    expect(annotations['alb.ingress.kubernetes.io/load-balancer-attributes']).toContain(
      'idle_timeout.timeout_seconds=3600',
    );
    expect(annotations['alb.ingress.kubernetes.io/healthcheck-path']).toBe('/health');
    for (const name of ['thumbnail-api', 'thumbnail-web']) {
      const service = find<{ metadata: { annotations: Record<string, string> } }>(manifests, 'Service', name);
      expect(service.metadata.annotations['alb.ingress.kubernetes.io/healthcheck-path']).toBe('/health');
    }
  });

  it('names the ALB as terraform-monitoring and route53 look it up', () => {
    const name = annotations['alb.ingress.kubernetes.io/load-balancer-name'];
    for (const stack of ['terraform-monitoring', 'route53']) {
      expect(readFileSync(repoPath(stack, 'variables.tf'), 'utf8')).toContain(`default     = "${name}"`);
    }
  });

  it('serves HTTPS only, redirecting HTTP, from the first deploy', () => {
    expect(JSON.parse(annotations['alb.ingress.kubernetes.io/listen-ports']!)).toEqual([
      { HTTP: 80 },
      { HTTPS: 443 },
    ]);
    expect(annotations['alb.ingress.kubernetes.io/certificate-arn']).toBe(VALUES.CERTIFICATE_ARN);
    expect(annotations['alb.ingress.kubernetes.io/ssl-redirect']).toBe('443');
    const { CERTIFICATE_ARN: _c, ...plain } = VALUES;
    expect(() => renderManifests(plain)).toThrow(/CERTIFICATE_ARN is not set/);
  });

  it('makes every viewer sign in at the ALB: Cognito, or an OpenID Connect provider', () => {
    expect(annotations['alb.ingress.kubernetes.io/auth-type']).toBe('cognito');
    expect(JSON.parse(annotations['alb.ingress.kubernetes.io/auth-idp-cognito']!)).toEqual({
      userPoolARN: VALUES.COGNITO_USER_POOL_ARN,
      userPoolClientID: VALUES.COGNITO_CLIENT_ID,
      userPoolDomain: VALUES.COGNITO_DOMAIN,
    });
    expect(annotations['alb.ingress.kubernetes.io/auth-on-unauthenticated-request']).toBe('authenticate');
    const oidc = find<Ingress>(renderManifests(OIDC), 'Ingress', 'thumbnail-pipeline').metadata.annotations;
    expect(oidc['alb.ingress.kubernetes.io/auth-type']).toBe('oidc');
    expect(JSON.parse(oidc['alb.ingress.kubernetes.io/auth-idp-oidc']!)).toMatchObject({
      issuer: OIDC.OIDC_ISSUER,
      secretName: 'thumbnail-oidc',
    });
    // A public dashboard is refused, not rendered.
    expect(() => renderManifests(WITHOUT_COGNITO)).toThrow(/viewers must sign in/);
  });

  it('has the API check the identity that this ALB signs', () => {
    const api = find<{ data: Record<string, string> }>(manifests, 'ConfigMap', 'thumbnail-api').data;
    const name = annotations['alb.ingress.kubernetes.io/load-balancer-name'];
    expect(api.ALB_IDENTITY_SIGNER).toBe(
      `arn:aws:elasticloadbalancing:us-east-1:${account}:loadbalancer/app/${name}/`,
    );
  });

  it("injects the load balancer's pod readiness gates where the ALB targets pods by IP", () => {
    expect(readinessGateProblems(manifests)).toEqual([]);
    const planted = manifests.map((m) => (m.kind === 'Namespace' ? structuredClone(m) : m));
    const namespace = find<{ metadata: { labels: Record<string, string> } }>(
      planted,
      'Namespace',
      'thumbnail-pipeline',
    );
    delete namespace.metadata.labels['elbv2.k8s.aws/pod-readiness-gate-inject'];
    expect(readinessGateProblems(planted)).toEqual([
      'namespace thumbnail-pipeline of Ingress thumbnail-pipeline (target-type ip) lacks the label elbv2.k8s.aws/pod-readiness-gate-inject: enabled',
    ]);
  });
});

/** Without readiness gates a rollout stops old pods before the ALB sends to the new ones: 5xx. */
function readinessGateProblems(list: Manifest[]): string[] {
  return list
    .filter(
      (m) =>
        m.kind === 'Ingress' && m.metadata.annotations?.['alb.ingress.kubernetes.io/target-type'] === 'ip',
    )
    .flatMap((ingress) => {
      const namespace = list.find(
        (m) => m.kind === 'Namespace' && m.metadata.name === ingress.metadata.namespace,
      ) as { metadata: { labels?: Record<string, string> } } | undefined;
      return namespace?.metadata.labels?.['elbv2.k8s.aws/pod-readiness-gate-inject'] === 'enabled'
        ? []
        : [
            `namespace ${ingress.metadata.namespace} of Ingress ${ingress.metadata.name} (target-type ip) lacks the label elbv2.k8s.aws/pod-readiness-gate-inject: enabled`,
          ];
    });
}

/** Metadata keys KEDA's aws-sqs-queue scaler reads; anything else is silently ignored by KEDA. */
const SQS_SCALER_KEYS = new Set([
  'queueURL',
  'queueURLFromEnv',
  'queueLength',
  'activationQueueLength',
  'awsRegion',
  'awsEndpoint',
  'identityOwner',
  'scaleOnInFlight',
  'scaleOnDelayed',
]);

type ScaledObject = {
  spec: {
    scaleTargetRef: { name: string; kind?: string };
    minReplicaCount: number;
    maxReplicaCount: number;
    pollingInterval: number;
    cooldownPeriod: number;
    triggers: { type: string; metadata: Record<string, string>; authenticationRef: { name: string } }[];
  };
};

function scaledObjectProblems(scaled: ScaledObject): string[] {
  const problems: string[] = [];
  const { spec } = scaled;
  const expect = (what: string, actual: unknown, wanted: unknown) => {
    if (actual !== wanted) problems.push(`${what} is ${String(actual)}, expected ${String(wanted)}`);
  };
  expect('minReplicaCount', spec.minReplicaCount, 0);
  expect('maxReplicaCount', spec.maxReplicaCount, 10);
  expect('pollingInterval', spec.pollingInterval, 15);
  expect('cooldownPeriod', spec.cooldownPeriod, 90);
  expect('triggers', spec.triggers.length, 1);
  const trigger = spec.triggers[0];
  expect('trigger type', trigger?.type, 'aws-sqs-queue');
  for (const key of Object.keys(trigger?.metadata ?? {})) {
    if (!SQS_SCALER_KEYS.has(key))
      problems.push(`trigger metadata "${key}" is not read by the aws-sqs-queue scaler`);
  }
  expect('queueLength', trigger?.metadata.queueLength, '3');
  expect('queueURL', trigger?.metadata.queueURL, VALUES.SQS_QUEUE_URL);
  if (!deployments.some((d) => d.metadata.name === spec.scaleTargetRef.name)) {
    problems.push(`scaleTargetRef ${spec.scaleTargetRef.name} is not a Deployment`);
  }
  if (
    !manifests.some(
      (m) => m.kind === 'TriggerAuthentication' && m.metadata.name === trigger?.authenticationRef.name,
    )
  ) {
    problems.push(`authenticationRef ${String(trigger?.authenticationRef.name)} does not exist`);
  }
  return problems;
}

describe('k8s: KEDA scales the worker on the SQS queue', () => {
  const scaled = find<ScaledObject>(manifests, 'ScaledObject', 'thumbnail-worker');

  it('0 → 10 pods, one per 3 messages, polling 15 s, cooldown 90 s', () => {
    expect(scaledObjectProblems(scaled)).toEqual([]);
    expect(scaled.spec.triggers[0]?.metadata.awsRegion).toBe(VALUES.AWS_REGION);
  });

  it('authenticates with the KEDA operator IRSA role', () => {
    const auth = find<{ spec: { podIdentity: Record<string, string> } }>(
      manifests,
      'TriggerAuthentication',
      'thumbnail-worker-sqs',
    );
    expect(auth.spec.podIdentity).toEqual({ provider: 'aws', identityOwner: 'keda' });
    expect(readFileSync(repoPath('scripts/install-controllers.sh'), 'utf8')).toMatch(
      /podIdentity\.aws\.irsa\.roleArn/,
    );
  });

  it('catches a misspelt scaler setting, a wrong bound and a dangling reference', () => {
    const broken = structuredClone(scaled);
    broken.spec.triggers[0]!.metadata = { ...broken.spec.triggers[0]!.metadata, queueLenght: '3' };
    delete broken.spec.triggers[0]!.metadata.queueLength;
    broken.spec.maxReplicaCount = 100;
    broken.spec.scaleTargetRef.name = 'worker';
    expect(scaledObjectProblems(broken)).toEqual([
      'maxReplicaCount is 100, expected 10',
      'trigger metadata "queueLenght" is not read by the aws-sqs-queue scaler',
      'queueLength is undefined, expected 3',
      'scaleTargetRef worker is not a Deployment',
    ]);
  });
});

type Hpa = {
  spec: {
    scaleTargetRef: { kind: string; name: string };
    minReplicas: number;
    maxReplicas: number;
    metrics: {
      type: string;
      resource: { name: string; target: { type: string; averageUtilization: number } };
    }[];
    behavior: { scaleDown: { stabilizationWindowSeconds: number } };
  };
};

function hpaProblems(hpa: Hpa): string[] {
  const { spec } = hpa;
  const problems: string[] = [];
  if (spec.minReplicas !== 1 || spec.maxReplicas !== 3)
    problems.push(`replicas ${spec.minReplicas}–${spec.maxReplicas}, expected 1–3`);
  const cpu = spec.metrics.find((m) => m.type === 'Resource' && m.resource.name === 'cpu');
  if (cpu?.resource.target.type !== 'Utilization' || cpu.resource.target.averageUtilization !== 70) {
    problems.push('expected a CPU utilization target of 70 %');
  }
  if (!(spec.behavior?.scaleDown?.stabilizationWindowSeconds > 0))
    problems.push('no scale-down stabilization window');
  if (
    spec.scaleTargetRef.kind !== 'Deployment' ||
    !deployments.some((d) => d.metadata.name === spec.scaleTargetRef.name)
  ) {
    problems.push(`scaleTargetRef ${spec.scaleTargetRef.name} is not a Deployment`);
  }
  return problems;
}

describe('k8s: HPA for api and web', () => {
  it.each(['thumbnail-api', 'thumbnail-web'])('%s: CPU 70 %%, 1 → 3, with a stabilization window', (name) => {
    const hpa = find<Hpa>(manifests, 'HorizontalPodAutoscaler', name);
    expect(hpa.spec.scaleTargetRef.name).toBe(name);
    expect(hpaProblems(hpa)).toEqual([]);
  });

  it('catches a wrong target and a missing window', () => {
    const hpa = structuredClone(find<Hpa>(manifests, 'HorizontalPodAutoscaler', 'thumbnail-api'));
    hpa.spec.metrics[0]!.resource.target.averageUtilization = 80;
    hpa.spec.behavior = {} as Hpa['spec']['behavior'];
    expect(hpaProblems(hpa)).toEqual([
      'expected a CPU utilization target of 70 %',
      'no scale-down stabilization window',
    ]);
  });
});

/** Deployments scaled by an HPA or a KEDA ScaledObject must leave `replicas` out: each apply would reset it. */
function replicasUnderAutoscalerProblems(list: Manifest[]): string[] {
  const scaled = list.flatMap((m) => {
    const target = (m as { spec?: { scaleTargetRef?: { name: string } } }).spec?.scaleTargetRef;
    return (m.kind === 'HorizontalPodAutoscaler' || m.kind === 'ScaledObject') && target
      ? [`${m.metadata.namespace}/${target.name}`]
      : [];
  });
  return list
    .filter((m) => m.kind === 'Deployment' && scaled.includes(`${m.metadata.namespace}/${m.metadata.name}`))
    .filter((m) => (m as Manifest & { spec: { replicas?: number } }).spec.replicas !== undefined)
    .map((m) => `Deployment ${m.metadata.name} sets replicas, which its autoscaler owns`);
}

describe('k8s: autoscalers own the replica count', () => {
  it('no Deployment under an HPA or ScaledObject sets replicas', () => {
    expect(replicasUnderAutoscalerProblems(manifests)).toEqual([]);
  });

  it('catches replicas: 1 beside an HPA', () => {
    const planted = manifests.map((m) =>
      m.kind === 'Deployment' && m.metadata.name === 'thumbnail-api'
        ? { ...m, spec: { ...(m as Manifest & { spec: object }).spec, replicas: 1 } }
        : m,
    );
    expect(replicasUnderAutoscalerProblems(planted)).toEqual([
      'Deployment thumbnail-api sets replicas, which its autoscaler owns',
    ]);
  });
});

describe('k8s: Fargate runs every pod', () => {
  it('has no DaemonSet (Fargate cannot run them)', () => {
    expect(manifests.filter((m) => m.kind === 'DaemonSet').map((m) => m.metadata.name)).toEqual([]);
  });

  it('ships pod logs to the log group that the pod execution role may write', async () => {
    const observability = find<{ metadata: { labels: Record<string, string> } }>(
      manifests,
      'Namespace',
      'aws-observability',
    );
    expect(observability.metadata.labels['aws-observability']).toBe('enabled');
    const logging = find<Manifest & { data: Record<string, string> }>(manifests, 'ConfigMap', 'aws-logging');
    expect(logging.metadata.namespace).toBe('aws-observability');
    const output = logging.data['output.conf'] ?? '';
    expect(output).toMatch(/Name\s+cloudwatch_logs/);
    expect(output).toMatch(new RegExp(`log_group_name\\s+${VALUES.POD_LOG_GROUP}\\n`));
    // Terraform: the group is the one the role's policy covers, and the deploy script passes its name.
    const cluster = readFileSync(repoPath('terraform/modules/cluster/main.tf'), 'utf8');
    expect(cluster).toContain('resources = ["${aws_cloudwatch_log_group.pods.arn}:*"]');
    expect(cluster).toContain('role   = aws_iam_role.pod_execution.id');
    expect(readFileSync(repoPath('scripts/deploy-manifests.sh'), 'utf8')).toContain(
      'POD_LOG_GROUP="$(tf_output terraform pod_log_group)"',
    );
  });
});

describe('k8s: pods', () => {
  it('every Deployment has a PodDisruptionBudget and Services select its pods', () => {
    for (const deployment of deployments) {
      const labels = deployment.spec.template.metadata.labels;
      expect(deployment.spec.selector.matchLabels).toEqual({ app: deployment.metadata.name });
      expect(labels.app).toBe(deployment.metadata.name);
      const pdb = find<{ spec: { selector: { matchLabels: Record<string, string> } } }>(
        manifests,
        'PodDisruptionBudget',
        deployment.metadata.name,
      );
      expect(pdb.spec.selector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
    }
  });

  /** Fargate's sizes: vCPU → the memory sizes it offers, in MiB. */
  const FARGATE: Record<string, number[]> = {
    '250m': [512, 1024, 2048],
    '500m': [1, 2, 3, 4].map((g) => g * 1024),
    '1': [2, 3, 4, 5, 6, 7, 8].map((g) => g * 1024),
    '2': Array.from({ length: 13 }, (_, i) => (i + 4) * 1024),
  };
  const mib = (memory: string) =>
    memory.endsWith('Gi') ? Number(memory.slice(0, -2)) * 1024 : Number(memory.replace(/Mi$/, ''));

  /** Fargate bills the requests plus 256 MiB, rounded up to a size: anything short of a size is paid, unused. */
  function fargateSizeProblems(deployment: Deployment): string[] {
    const problems: string[] = [];
    for (const container of deployment.spec.template.spec.containers) {
      const { requests, limits } = container.resources;
      if (JSON.stringify(limits) !== JSON.stringify(requests))
        problems.push(`${container.name}: limits differ from requests`);
      const sizes = FARGATE[requests.cpu ?? ''];
      if (!sizes) problems.push(`${container.name}: cpu ${requests.cpu} is not a Fargate size`);
      else if (!sizes.includes(mib(requests.memory ?? '0') + 256))
        problems.push(
          `${container.name}: ${requests.memory} + 256 MiB is not a Fargate size for ${requests.cpu}`,
        );
    }
    return problems;
  }

  it.each(deployments.map((d) => [d.metadata.name, d] as const))(
    '%s is sized for Fargate',
    (_name, deployment) => {
      expect(fargateSizeProblems(deployment)).toEqual([]);
    },
  );

  it('catches requests that Fargate rounds up', () => {
    const api = copy('Deployment', 'thumbnail-api') as Deployment;
    api.spec.template.spec.containers[0]!.resources = {
      requests: { cpu: '250m', memory: '512Mi' },
      limits: { cpu: '250m', memory: '512Mi' },
    };
    expect(fargateSizeProblems(api)).toEqual(['api: 512Mi + 256 MiB is not a Fargate size for 250m']);
  });

  it('api and web have liveness and readiness probes', () => {
    for (const name of ['thumbnail-api', 'thumbnail-web']) {
      const container = deployments.find((d) => d.metadata.name === name)!.spec.template.spec.containers[0]!;
      expect(container.livenessProbe?.httpGet?.path).toBe('/health');
      expect(container.readinessProbe?.httpGet?.path).toMatch(/^\/(health|ready)$/);
    }
  });

  it('gives the worker time to finish its job after SIGTERM', () => {
    const worker = deployments.find((d) => d.metadata.name === 'thumbnail-worker')!;
    const config = find<{ data: Record<string, string> }>(manifests, 'ConfigMap', 'thumbnail-worker').data;
    const graceMs = Number(config.WORKER_SHUTDOWN_GRACE_MS);
    expect(graceMs).toBeGreaterThanOrEqual(Number(config.FFMPEG_TIMEOUT_SECONDS) * 1000);
    expect(worker.spec.template.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThanOrEqual(
      graceMs + 15_000,
    );
  });

  it('service accounts carry IRSA roles that Terraform creates for exactly them', () => {
    const terraform = readFileSync(repoPath('terraform/main.tf'), 'utf8');
    for (const [name, role] of [
      ['thumbnail-worker', VALUES.WORKER_ROLE_ARN],
      ['thumbnail-api', VALUES.API_ROLE_ARN],
    ] as const) {
      const sa = find<{ metadata: { annotations: Record<string, string> } }>(
        manifests,
        'ServiceAccount',
        name,
      );
      expect(sa.metadata.annotations['eks.amazonaws.com/role-arn']).toBe(role);
      expect(terraform).toContain(`name = "${name}"`);
    }
    for (const deployment of deployments) {
      const name = deployment.spec.template.spec.serviceAccountName;
      expect(manifests.some((m) => m.kind === 'ServiceAccount' && m.metadata.name === name)).toBe(true);
    }
  });

  it('lets the API get, list and watch pods', () => {
    const role = find<{ rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] }>(
      manifests,
      'Role',
      'thumbnail-api-pod-reader',
    );
    expect(role.rules[0]).toEqual({ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] });
    const binding = find<{ subjects: { name: string }[] }>(
      manifests,
      'RoleBinding',
      'thumbnail-api-pod-reader',
    );
    expect(binding.subjects.map((s) => s.name)).toEqual(['thumbnail-api']);
  });
});

/** Names of environment variables that an app's configuration reads. */
function envNamesRead(files: string[]): Set<string> {
  const text = files.map((file) => readFileSync(repoPath(file), 'utf8')).join('\n');
  return new Set([...text.matchAll(/env\.\w+\('([A-Z0-9_]+)'/g)].map((m) => m[1] ?? ''));
}

function unreadKeys(configMaps: string[], read: Set<string>): string[] {
  return configMaps.flatMap((name) =>
    Object.keys(find<{ data: Record<string, string> }>(manifests, 'ConfigMap', name).data).filter(
      (key) => !read.has(key),
    ),
  );
}

describe('k8s: ConfigMaps set only variables the apps read', () => {
  const runtime = 'packages/runtime/src/config.ts';

  it.each([
    ['thumbnail-worker', ['apps/worker/src/config.ts', runtime]],
    ['thumbnail-api', ['apps/api/src/config.ts', runtime]],
  ] as const)('%s', (app, files) => {
    const deployment = deployments.find((d) => d.metadata.name === app)!;
    const maps = deployment.spec.template.spec.containers[0]!.envFrom!.map((e) => e.configMapRef.name);
    expect(unreadKeys(maps, envNamesRead([...files]))).toEqual([]);
  });

  it('catches a misspelt variable', () => {
    const read = envNamesRead(['apps/worker/src/config.ts', runtime]);
    read.delete('WORKER_SHUTDOWN_GRACE_MS');
    expect(unreadKeys(['thumbnail-worker'], read)).toEqual(['WORKER_SHUTDOWN_GRACE_MS']);
  });
});
