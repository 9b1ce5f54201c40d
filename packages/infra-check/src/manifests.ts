import { readFileSync } from 'node:fs';
import { parseAllDocuments, stringify } from 'yaml';
import { listFiles, repoPath } from './repo.ts';

export type Manifest = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
};

/**
 * The per-account values of the manifests: the only place they are named. scripts/deploy-manifests.sh fills
 * them from the Terraform outputs; templates refer to them as ${NAME}.
 */
export const MANIFEST_VALUES = {
  AWS_REGION: { required: true, about: 'region of every resource' },
  AWS_ACCOUNT_ID: { required: true, about: 'account of the ALB whose identity header the API trusts' },
  CLUSTER_NAME: { required: true, about: 'EKS cluster (Container Insights dimension)' },
  ECR_REGISTRY: { required: true, about: '<account>.dkr.ecr.<region>.amazonaws.com' },
  IMAGE_TAG: { required: true, about: 'tag of the three images (build-push)' },
  S3_BUCKET: { required: true, about: 'main bucket' },
  TEST_SOURCE_BUCKET: { required: true, about: 'bucket of sample videos' },
  SQS_QUEUE_URL: { required: true, about: 'work queue URL' },
  SQS_DLQ_URL: { required: true, about: 'dead-letter queue URL' },
  MAX_RECEIVE_COUNT: { required: true, about: "the work queue's maxReceiveCount (Terraform output)" },
  EVENTS_TOPIC_ARN: { required: true, about: 'SNS events topic ARN' },
  WORKER_ROLE_ARN: { required: true, about: 'IRSA role of the worker' },
  API_ROLE_ARN: { required: true, about: 'IRSA role of the API' },
  ADOT_COLLECTOR_ROLE_ARN: { required: true, about: 'IRSA role of the Container Insights collector' },
  POD_LOG_GROUP: { required: true, about: 'CloudWatch log group of the pods (Fargate logging)' },
  CERTIFICATE_ARN: {
    required: true,
    about: 'ACM certificate of the dashboard host (route53 output, or one you bring): HTTPS only',
  },
  DASHBOARD_ORIGIN: { required: false, about: 'https://<host> of the dashboard' },
  COGNITO_USER_POOL_ARN: {
    required: false,
    about: 'viewers sign in with this Cognito pool (Terraform output)',
  },
  COGNITO_CLIENT_ID: { required: false, about: "the ALB's app client of the pool" },
  COGNITO_DOMAIN: { required: false, about: "the pool's hosted sign-in domain (prefix)" },
  OIDC_ISSUER: { required: false, about: 'or viewers sign in with this OpenID Connect provider' },
  OIDC_AUTHORIZATION_ENDPOINT: { required: false, about: "the provider's authorization endpoint" },
  OIDC_TOKEN_ENDPOINT: { required: false, about: "the provider's token endpoint" },
  OIDC_USER_INFO_ENDPOINT: { required: false, about: "the provider's user info endpoint" },
} as const;

/** The Secret with the OIDC client's clientID and clientSecret (scripts/deploy-manifests.sh creates it). */
export const OIDC_SECRET = 'thumbnail-oidc';

export type ManifestValues = Partial<Record<keyof typeof MANIFEST_VALUES | (string & {}), string>>;

/** Apply order: the namespace and what pods refer to come before the pods and what refers to them. */
export const MANIFEST_FILES = [
  // Fargate reads its logging configuration when a pod starts: before any pod.
  'aws-observability.yaml',
  'namespace.yaml',
  'service-accounts.yaml',
  'rbac.yaml',
  'config.yaml',
  'api.yaml',
  'web.yaml',
  'worker.yaml',
  'hpa.yaml',
  'pdb.yaml',
  'keda.yaml',
  'ingress.yaml',
  'container-insights.yaml',
] as const;

const PLACEHOLDER = /\$\{([A-Za-z0-9_]+)\}/g;

const AUTH = 'alb.ingress.kubernetes.io/auth-';

/**
 * How viewers sign in at the ALB: Cognito (the pool Terraform creates when no OpenID Connect provider is
 * given) or that provider. The dashboard is private by default, so a render without either fails.
 */
export function authAnnotations(values: ManifestValues): Record<string, string> {
  const common = {
    [`${AUTH}on-unauthenticated-request`]: 'authenticate',
    [`${AUTH}scope`]: 'openid email profile',
    [`${AUTH}session-timeout`]: '43200',
  };
  const cognito = values.COGNITO_USER_POOL_ARN;
  const oidc = values.OIDC_ISSUER;
  if (cognito && oidc) throw new RenderError('set either COGNITO_* or OIDC_* values, not both');
  if (cognito) {
    return {
      ...common,
      [`${AUTH}type`]: 'cognito',
      [`${AUTH}idp-cognito`]: JSON.stringify({
        userPoolARN: cognito,
        userPoolClientID: values.COGNITO_CLIENT_ID ?? '',
        userPoolDomain: values.COGNITO_DOMAIN ?? '',
      }),
    };
  }
  if (oidc) {
    return {
      ...common,
      [`${AUTH}type`]: 'oidc',
      [`${AUTH}idp-oidc`]: JSON.stringify({
        issuer: oidc,
        authorizationEndpoint: values.OIDC_AUTHORIZATION_ENDPOINT ?? '',
        tokenEndpoint: values.OIDC_TOKEN_ENDPOINT ?? '',
        userInfoEndpoint: values.OIDC_USER_INFO_ENDPOINT ?? '',
        secretName: OIDC_SECRET,
      }),
    };
  }
  throw new RenderError(
    'viewers must sign in at the ALB: set COGNITO_USER_POOL_ARN, COGNITO_CLIENT_ID and COGNITO_DOMAIN ' +
      '(terraform outputs) or the OIDC_* values',
  );
}

export class RenderError extends Error {}

/** Parses one manifest file into its objects; YAML errors throw with the file name. */
export function parseManifests(name: string, text: string): Manifest[] {
  return parseAllDocuments(text).flatMap((document) => {
    if (document.errors.length > 0) throw new RenderError(`${name}: ${document.errors[0]?.message}`);
    const value = document.toJS() as Manifest | null;
    return value === null ? [] : [value];
  });
}

function substitute(value: unknown, values: ManifestValues, problems: Set<string>): unknown {
  if (typeof value === 'string') {
    return value.replace(PLACEHOLDER, (_match, name: string) => {
      if (!(name in MANIFEST_VALUES)) problems.add(`\${${name}} is not one of the manifest values`);
      const given = values[name];
      if (given === undefined || given === '') {
        const spec = MANIFEST_VALUES[name as keyof typeof MANIFEST_VALUES];
        if (spec?.required) problems.add(`${name} is not set (${spec.about})`);
        return '';
      }
      return given;
    });
  }
  if (Array.isArray(value)) return value.map((item) => substitute(item, values, problems));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, values, problems)]));
  }
  return value;
}

/** Placeholder names used in a text. */
export function placeholdersIn(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((match) => match[1] ?? '');
}

/**
 * The manifests with the per-account values filled in. Values replace whole or partial YAML string scalars
 * after parsing, so a value can never change the YAML's structure. Every problem is reported at once.
 */
export function renderManifests(
  values: ManifestValues,
  texts: Record<string, string> = readManifestTexts(),
): Manifest[] {
  const problems = new Set<string>();
  const rendered: Manifest[] = [];
  for (const [name, text] of Object.entries(texts)) {
    for (const manifest of parseManifests(name, text)) {
      const filled = substitute(manifest, values, problems) as Manifest;
      if (filled.kind === 'Ingress') {
        try {
          filled.metadata.annotations = { ...filled.metadata.annotations, ...authAnnotations(values) };
        } catch (error) {
          if (!(error instanceof RenderError)) throw error;
          problems.add(error.message);
        }
      }
      rendered.push(filled);
    }
  }
  if (problems.size > 0) throw new RenderError([...problems].join('\n'));
  return rendered;
}

/** The manifest files in apply order; a file in k8s/ that is missing from the order is an error. */
export function readManifestTexts(dir = 'k8s'): Record<string, string> {
  const present = listFiles(dir, (name) => name.endsWith('.yaml')).map((file) => file.slice(dir.length + 1));
  const unordered = present.filter((file) => !(MANIFEST_FILES as readonly string[]).includes(file));
  if (unordered.length > 0)
    throw new RenderError(`not in MANIFEST_FILES (apply order): ${unordered.join(', ')}`);
  return Object.fromEntries(MANIFEST_FILES.map((file) => [file, readFileSync(repoPath(dir, file), 'utf8')]));
}

export function toYamlStream(manifests: Manifest[]): string {
  return manifests.map((manifest) => stringify(manifest, { lineWidth: 0 })).join('---\n');
}
