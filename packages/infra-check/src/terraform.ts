import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { getReferencesInExpression, parse } from '@cdktf/hcl2json';
import { REPO_ROOT } from './repo.ts';

/** hcl2json's JSON form of a Terraform file: block type → labels → list of bodies. */
type Json = Record<string, unknown>;

export interface TerraformModule {
  dir: string;
  files: Record<string, Json>;
  variables: Map<string, Json>;
  locals: Set<string>;
  outputs: Map<string, Json>;
  resources: Map<string, Json>;
  data: Map<string, Json>;
  modules: Map<string, Json>;
  providers: Set<string>;
  requiredProviders: Set<string>;
}

/** Argument names of a module block that are Terraform's own, not the child module's variables. */
const MODULE_META_ARGUMENTS = new Set(['source', 'version', 'providers', 'depends_on', 'count', 'for_each']);

/** Names that Terraform defines in expressions without a declaration. */
const BUILTIN_ROOTS = new Set(['each', 'count', 'self', 'path', 'terraform']);

function bodies(value: unknown): Json[] {
  return Array.isArray(value) ? (value as Json[]) : [];
}

function entries(block: unknown): [string, unknown][] {
  return block && typeof block === 'object' ? Object.entries(block as Json) : [];
}

/** Parses one file; a syntax error throws with file, line and column. */
export async function parseTerraformFile(name: string, contents: string): Promise<Json> {
  return (await parse(name, contents)) as Json;
}

/** Reads every `.tf` file of one module directory (not its subdirectories). */
export async function loadModule(
  dir: string,
  overrides: Record<string, string> = {},
): Promise<TerraformModule> {
  const names = readdirSync(dir).filter((name) => name.endsWith('.tf'));
  const module: TerraformModule = {
    dir,
    files: {},
    variables: new Map(),
    locals: new Set(),
    outputs: new Map(),
    resources: new Map(),
    data: new Map(),
    modules: new Map(),
    providers: new Set(),
    requiredProviders: new Set(),
  };
  for (const name of names) {
    const contents = overrides[name] ?? readFileSync(join(dir, name), 'utf8');
    const json = await parseTerraformFile(relative(REPO_ROOT, join(dir, name)), contents);
    module.files[name] = json;
    for (const [key, body] of entries(json.variable)) module.variables.set(key, bodies(body)[0] ?? {});
    for (const body of bodies(json.locals)) for (const key of Object.keys(body)) module.locals.add(key);
    for (const [key, body] of entries(json.output)) module.outputs.set(key, bodies(body)[0] ?? {});
    for (const [key, body] of entries(json.module)) module.modules.set(key, bodies(body)[0] ?? {});
    for (const [key] of entries(json.provider)) module.providers.add(key);
    for (const [type, named] of entries(json.resource)) {
      for (const [label, body] of entries(named))
        module.resources.set(`${type}.${label}`, bodies(body)[0] ?? {});
    }
    for (const [type, named] of entries(json.data)) {
      for (const [label, body] of entries(named)) module.data.set(`${type}.${label}`, bodies(body)[0] ?? {});
    }
    for (const settings of bodies(json.terraform)) {
      for (const required of bodies(settings.required_providers)) {
        for (const key of Object.keys(required)) module.requiredProviders.add(key);
      }
    }
  }
  return module;
}

/** Every string in a parsed body with the names of the `dynamic` blocks (iterators) around it. */
function collectStrings(
  value: unknown,
  iterators: string[],
  out: { text: string; iterators: string[] }[],
): void {
  if (typeof value === 'string') {
    if (value.includes('${')) out.push({ text: value, iterators });
  } else if (Array.isArray(value)) {
    for (const item of value) collectStrings(item, iterators, out);
  } else if (value && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      if (key === 'dynamic') {
        for (const [name, blocks] of entries(child)) {
          for (const block of bodies(blocks)) {
            const iterator = typeof block.iterator === 'string' ? block.iterator : name;
            collectStrings(block, [...iterators, iterator], out);
          }
        }
      } else {
        collectStrings(child, iterators, out);
      }
    }
  }
}

function moduleSourceDir(module: TerraformModule, call: Json): string | undefined {
  const source = call.source;
  return typeof source === 'string' && source.startsWith('.') ? resolve(module.dir, source) : undefined;
}

/** Problems in one module: references that resolve to nothing, and calls of local modules that do not fit. */
export async function checkModule(module: TerraformModule): Promise<string[]> {
  const problems: string[] = [];
  const where = (file: string) => relative(REPO_ROOT, join(module.dir, file));

  const children = new Map<string, TerraformModule>();
  for (const [name, call] of module.modules) {
    const dir = moduleSourceDir(module, call);
    if (!dir) continue;
    if (!existsSync(dir)) {
      problems.push(
        `${relative(REPO_ROOT, module.dir)}: module.${name} source ${String(call.source)} does not exist`,
      );
      continue;
    }
    const child = await loadModule(dir);
    children.set(name, child);
    for (const argument of Object.keys(call)) {
      if (!MODULE_META_ARGUMENTS.has(argument) && !child.variables.has(argument)) {
        problems.push(`module.${name}: argument "${argument}" is not a variable of ${String(call.source)}`);
      }
    }
    for (const [variable, declaration] of child.variables) {
      if (!('default' in declaration) && !(variable in call)) {
        problems.push(`module.${name}: required variable "${variable}" of ${String(call.source)} is not set`);
      }
    }
  }

  for (const [file, json] of Object.entries(module.files)) {
    const strings: { text: string; iterators: string[] }[] = [];
    // A variable's `type` (string, list(string), …) is a type constraint, not an expression; `moved` and
    // `removed` name addresses that are no longer in the configuration (only a move's target must exist).
    for (const [key, value] of Object.entries(json)) {
      if (key === 'moved') for (const move of bodies(value)) collectStrings(move.to, [], strings);
      else if (key !== 'variable' && key !== 'removed') collectStrings(value, [], strings);
    }
    for (const [, body] of entries(json.variable)) {
      for (const declaration of bodies(body)) {
        const { type: _type, ...rest } = declaration;
        collectStrings(rest, [], strings);
      }
    }
    for (const { text, iterators } of strings) {
      const references = await getReferencesInExpression(where(file), text);
      for (const { value } of references) {
        const problem = resolveReference(module, children, value.split('.'), iterators);
        if (problem) problems.push(`${where(file)}: ${value}: ${problem}`);
      }
    }
  }

  const declared = new Set([...module.requiredProviders, ...module.providers]);
  if (declared.size > 0) {
    for (const address of [...module.resources.keys(), ...module.data.keys()]) {
      const provider = address.split('_')[0] ?? '';
      if (!module.requiredProviders.has(provider)) {
        problems.push(
          `${relative(REPO_ROOT, module.dir)}: ${address} uses provider "${provider}" missing from required_providers`,
        );
      }
    }
  }
  return problems;
}

function resolveReference(
  module: TerraformModule,
  children: Map<string, TerraformModule>,
  parts: string[],
  iterators: string[],
): string | undefined {
  const [root = '', name = '', third] = parts;
  if (BUILTIN_ROOTS.has(root) || iterators.includes(root)) return undefined;
  switch (root) {
    case 'var':
      return module.variables.has(name) ? undefined : 'no such variable';
    case 'local':
      return module.locals.has(name) ? undefined : 'no such local value';
    case 'module': {
      if (!module.modules.has(name)) return 'no such module';
      const child = children.get(name);
      if (child && third !== undefined && !child.outputs.has(third)) return `module has no output "${third}"`;
      return undefined;
    }
    case 'data':
      return module.data.has(`${name}.${third ?? ''}`) ? undefined : 'no such data source';
    default:
      return module.resources.has(`${root}.${name}`) ? undefined : 'no such resource';
  }
}

/** A stack (root module) and every local module it calls, checked. */
export async function checkStack(rootDir: string): Promise<string[]> {
  const problems: string[] = [];
  const seen = new Set<string>();
  const visit = async (dir: string): Promise<void> => {
    if (seen.has(dir)) return;
    seen.add(dir);
    const module = await loadModule(dir);
    problems.push(...(await checkModule(module)));
    for (const call of module.modules.values()) {
      const child = moduleSourceDir(module, call);
      if (child && existsSync(child)) await visit(child);
    }
  };
  await visit(rootDir);
  return problems;
}

/** The four stacks of the deployment. */
export const STACKS = ['terraform', 'bootstrap-terraform', 'terraform-monitoring', 'route53'] as const;

/**
 * EKS add-ons whose agents run as DaemonSets (one pod per EC2 node): on a cluster without node groups
 * Fargate cannot schedule them, and the add-on stays DEGRADED until the apply times out.
 */
export const DAEMONSET_ADDONS = new Set([
  'amazon-cloudwatch-observability',
  'aws-ebs-csi-driver',
  'aws-efs-csi-driver',
  'aws-guardduty-agent',
  'aws-mountpoint-s3-csi-driver',
  'eks-node-monitoring-agent',
  'eks-pod-identity-agent',
  'kube-proxy',
  'vpc-cni',
]);

/** DaemonSet-based add-ons in a stack (its modules included) that runs pods on Fargate only. */
export async function fargateAddonProblems(
  rootDir: string,
  overrides: Record<string, Record<string, string>> = {},
): Promise<string[]> {
  const modules: TerraformModule[] = [];
  const visit = async (dir: string): Promise<void> => {
    if (modules.some((m) => m.dir === dir)) return;
    const module = await loadModule(dir, overrides[relative(REPO_ROOT, dir)] ?? {});
    modules.push(module);
    for (const call of module.modules.values()) {
      const child = moduleSourceDir(module, call);
      if (child && existsSync(child)) await visit(child);
    }
  };
  await visit(rootDir);
  const addresses = modules.flatMap((m) => [...m.resources.entries()]);
  if (addresses.some(([address]) => address.startsWith('aws_eks_node_group.'))) return [];
  return addresses
    .filter(
      ([address, body]) =>
        address.startsWith('aws_eks_addon.') && DAEMONSET_ADDONS.has(String(body.addon_name)),
    )
    .map(
      ([address, body]) => `${address}: ${String(body.addon_name)} runs DaemonSets, which Fargate cannot run`,
    );
}
