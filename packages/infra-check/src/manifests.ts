import { readFileSync } from 'node:fs';
import { parseAllDocuments, stringify } from 'yaml';
import { listFiles, repoPath } from './repo.ts';

export type Manifest = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
};

/**
 * The per-account values of the manifests: the only place they are named. scripts/k8s-values.sh fills them
 * from the Terraform outputs; templates refer to them as ${NAME}.
 */
export const MANIFEST_VALUES = {
  AWS_REGION: { required: true, about: 'region of every resource' },
  ECR_REGISTRY: { required: true, about: '<account>.dkr.ecr.<region>.amazonaws.com' },
  IMAGE_TAG: { required: true, about: 'tag of the three images (build-push)' },
  S3_BUCKET: { required: true, about: 'main bucket' },
  TEST_SOURCE_BUCKET: { required: true, about: 'bucket of sample videos' },
  SQS_QUEUE_URL: { required: true, about: 'work queue URL' },
  SQS_DLQ_URL: { required: true, about: 'dead-letter queue URL' },
  EVENTS_TOPIC_ARN: { required: true, about: 'SNS events topic ARN' },
  WORKER_ROLE_ARN: { required: true, about: 'IRSA role of the worker' },
  API_ROLE_ARN: { required: true, about: 'IRSA role of the API' },
  DASHBOARD_ORIGIN: { required: false, about: 'https://<host> of the dashboard, when it has a domain' },
  CERTIFICATE_ARN: { required: false, about: 'ACM certificate; when set the ALB serves HTTPS' },
} as const;

export type ManifestValues = Partial<Record<keyof typeof MANIFEST_VALUES | (string & {}), string>>;

/** Apply order: the namespace and what pods refer to come before the pods and what refers to them. */
export const MANIFEST_FILES = [
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
] as const;

const PLACEHOLDER = /\$\{([A-Za-z0-9_]+)\}/g;

/** What the Ingress gets once a certificate exists: an HTTPS listener and a redirect of HTTP to it. */
export function httpsAnnotations(certificateArn: string): Record<string, string> {
  return {
    'alb.ingress.kubernetes.io/listen-ports': '[{"HTTP": 80}, {"HTTPS": 443}]',
    'alb.ingress.kubernetes.io/certificate-arn': certificateArn,
    'alb.ingress.kubernetes.io/ssl-redirect': '443',
    'alb.ingress.kubernetes.io/ssl-policy': 'ELBSecurityPolicy-TLS13-1-2-2021-06',
  };
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
      if (filled.kind === 'Ingress' && values.CERTIFICATE_ARN) {
        filled.metadata.annotations = {
          ...filled.metadata.annotations,
          ...httpsAnnotations(values.CERTIFICATE_ARN),
        };
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
