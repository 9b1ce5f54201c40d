import * as clientNode from '@kubernetes/client-node';
import * as keda from '@kubernetes-models/keda';
import * as kubernetes from 'kubernetes-models';
import type { Manifest } from './manifests.ts';

interface ModelClass {
  apiVersion: string;
  kind: string;
  new (data: unknown): { validate(): void };
}

/** Every model class of kubernetes-models and @kubernetes-models/keda, by "apiVersion/kind". */
function modelRegistry(): Map<string, ModelClass> {
  const registry = new Map<string, ModelClass>();
  const visit = (namespace: unknown, depth: number): void => {
    if (!namespace || typeof namespace !== 'object' || depth > 3) return;
    for (const value of Object.values(namespace)) {
      if (typeof value === 'function' && 'apiVersion' in value && 'kind' in value) {
        const model = value as unknown as ModelClass;
        registry.set(`${model.apiVersion}/${model.kind}`, model);
      } else {
        visit(value, depth + 1);
      }
    }
  };
  visit(kubernetes, 0);
  visit(keda, 0);
  return registry;
}

const models = modelRegistry();

interface Attribute {
  baseName: string;
  type: string;
}
type Typed = { getAttributeTypeMap(): Attribute[] };

const PRIMITIVES = new Set(['string', 'number', 'boolean', 'Date', 'any', 'object', 'IntOrString']);

/** Field names the Kubernetes API server would reject (it validates fields strictly); JSON schema allows them. */
function unknownFields(value: unknown, type: string, path: string, out: string[]): void {
  if (value === null || value === undefined || PRIMITIVES.has(type)) return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (Array.isArray(value))
      value.forEach((item, i) => unknownFields(item, array[1] ?? 'any', `${path}[${i}]`, out));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    for (const [key, item] of Object.entries(value))
      unknownFields(item, map[1] ?? 'any', `${path}.${key}`, out);
    return;
  }
  const model = (clientNode as unknown as Record<string, Typed | undefined>)[type];
  if (!model?.getAttributeTypeMap || typeof value !== 'object') return;
  const attributes = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const [key, item] of Object.entries(value)) {
    const itemType = attributes.get(key);
    if (itemType === undefined) out.push(`${path}.${key}: unknown field`);
    else unknownFields(item, itemType, `${path}.${key}`, out);
  }
}

function clientNodeType(manifest: Manifest): string {
  const version = manifest.apiVersion.split('/').pop() ?? '';
  return `${version.charAt(0).toUpperCase()}${version.slice(1)}${manifest.kind}`;
}

/**
 * Problems of one manifest against the schemas of its kind: the OpenAPI schema of Kubernetes (or KEDA's
 * CRD schema) through kubernetes-models, and, for built-in kinds, fields the API server does not know.
 */
export function schemaProblems(manifest: Manifest): string[] {
  const name = `${manifest.kind ?? '?'} ${manifest.metadata?.name ?? '?'}`;
  const model = models.get(`${manifest.apiVersion}/${manifest.kind}`);
  if (!model) return [`${name}: no schema for ${manifest.apiVersion} ${manifest.kind}`];
  const problems: string[] = [];
  try {
    new model(manifest).validate();
  } catch (error) {
    problems.push(`${name}: ${(error as Error).message}`);
  }
  const unknown: string[] = [];
  unknownFields(manifest, clientNodeType(manifest), '', unknown);
  problems.push(...unknown.map((problem) => `${name}: ${problem.slice(1)}`));
  return problems;
}
