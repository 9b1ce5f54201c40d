import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from '@cdktf/hcl2json';
import { evaluate, LazyObject, type Scope, type Value, type ValueMap } from './hcl-expression.ts';

/** Where the deployment lives: the values that Terraform would get from variables and the provider. */
export interface Deployment {
  region: string;
  accountId: string;
  bucketName: string;
  testSourceBucketName: string;
  queueName: string;
  eventsTopicName: string;
  uploadAllowedOrigins: string[];
}

/** The emulator's account (fauxqs puts it in every queue URL and ARN). */
export const LOCAL_ACCOUNT_ID = '000000000000';

/** Local mode's deployment: the names every component defaults to (packages/runtime, pipelineSpec). */
export const LOCAL_DEPLOYMENT: Deployment = Object.freeze({
  region: 'us-east-1',
  accountId: LOCAL_ACCOUNT_ID,
  bucketName: 'thumbnail-pipeline',
  testSourceBucketName: 'thumbnail-test-source',
  queueName: 'thumbnail-jobs',
  eventsTopicName: 'thumbnail-events',
  uploadAllowedOrigins: ['http://localhost:3000'],
});

export type RoleKey = 'worker' | 'api' | 'keda' | 'deployer';

export type PolicyPrincipal =
  '*' | Partial<Record<'AWS' | 'Service' | 'Federated' | 'CanonicalUser', string | string[]>>;

/** One statement in IAM's JSON grammar (rendered documents always use lists, never single strings). */
export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Principal?: PolicyPrincipal;
  NotPrincipal?: PolicyPrincipal;
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

export interface CorsRule {
  allowedMethods: string[];
  allowedOrigins: string[];
  allowedHeaders: string[];
  exposeHeaders: string[];
  maxAgeSeconds?: number;
}

export interface RenderedRole {
  name: string;
  arn: string;
  /** The role's inline policies as one document. */
  policy: PolicyDocument;
  trustPolicy?: PolicyDocument;
  /** The Kubernetes service account an IRSA role is for (the irsa_role module's namespace and service_account). */
  serviceAccount?: { namespace: string; name: string };
}

export interface RenderedPolicies {
  roles: Record<RoleKey, RenderedRole>;
  /** By queue ARN. */
  queuePolicies: Record<string, PolicyDocument>;
  /** By topic ARN. */
  topicPolicies: Record<string, PolicyDocument>;
  /** By bucket ARN. */
  bucketPolicies: Record<string, PolicyDocument>;
  /** By bucket name. */
  bucketCors: Record<string, CorsRule[]>;
  arns: { bucket: string; testSourceBucket: string; queue: string; dlq: string; topic: string };
}

export interface RenderOptions {
  /** Repository-relative file (`terraform/iam.tf`) → text that replaces the file's own before parsing. */
  overrides?: Record<string, string>;
}

/** The repository root (this file is packages/iam/src/terraform-policies.ts). */
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * Local mode has no EKS cluster: its OIDC issuer (an attribute AWS assigns) gets this stand-in, and the
 * IRSA roles' trust policies name the provider ARN derived from it the way IAM does.
 */
export function localOidcIssuer(deployment: Pick<Deployment, 'region'>): string {
  return `oidc.eks.${deployment.region}.amazonaws.com/id/LOCAL`;
}

export function localOidcProviderArn(deployment: Pick<Deployment, 'region' | 'accountId'>): string {
  return `arn:aws:iam::${deployment.accountId}:oidc-provider/${localOidcIssuer(deployment)}`;
}

type Json = Record<string, unknown>;

interface Block {
  file: string;
  body: Json;
}

interface ModuleFiles {
  /** Repository-relative directory. */
  dir: string;
  variables: Map<string, Block>;
  locals: Map<string, { file: string; raw: unknown }>;
  outputs: Map<string, Block>;
  resources: Map<string, Block>;
  data: Map<string, Block>;
  calls: Map<string, Block>;
}

function bodies(value: unknown): Json[] {
  return Array.isArray(value) ? (value as Json[]) : [];
}

function entries(value: unknown): [string, unknown][] {
  return value && typeof value === 'object' ? Object.entries(value as Json) : [];
}

/** Parses every module directory a stack uses, applying the overrides. */
class Sources {
  private readonly overrides: Record<string, string>;
  private readonly used = new Set<string>();
  readonly modules = new Map<string, ModuleFiles>();

  constructor(overrides: Record<string, string>) {
    this.overrides = overrides;
  }

  async loadStack(dir: string): Promise<void> {
    if (this.modules.has(dir)) return;
    const files = await this.load(dir);
    this.modules.set(dir, files);
    for (const call of files.calls.values()) {
      const source = call.body.source;
      if (typeof source === 'string' && source.startsWith('.')) await this.loadStack(join(dir, source));
    }
  }

  /** Overrides that matched no file read: a typo in a test would otherwise test nothing. */
  unusedOverrides(): string[] {
    return Object.keys(this.overrides).filter((file) => !this.used.has(file));
  }

  private async load(dir: string): Promise<ModuleFiles> {
    const files: ModuleFiles = {
      dir,
      variables: new Map(),
      locals: new Map(),
      outputs: new Map(),
      resources: new Map(),
      data: new Map(),
      calls: new Map(),
    };
    for (const name of readdirSync(join(REPO_ROOT, dir))
      .filter((n) => n.endsWith('.tf'))
      .sort()) {
      const file = join(dir, name);
      const override = this.overrides[file];
      if (override !== undefined) this.used.add(file);
      const json = (await parse(file, override ?? readFileSync(join(REPO_ROOT, file), 'utf8'))) as Json;
      const first = (value: unknown): Block => ({ file, body: bodies(value)[0] ?? {} });
      for (const [key, body] of entries(json.variable)) files.variables.set(key, first(body));
      for (const [key, body] of entries(json.output)) files.outputs.set(key, first(body));
      for (const [key, body] of entries(json.module)) files.calls.set(key, first(body));
      for (const locals of bodies(json.locals))
        for (const [key, raw] of Object.entries(locals)) files.locals.set(key, { file, raw });
      for (const [kind, map] of [
        ['resource', files.resources],
        ['data', files.data],
      ] as const) {
        for (const [type, named] of entries(json[kind]))
          for (const [label, body] of entries(named)) map.set(`${type}.${label}`, first(body));
      }
    }
    return files;
  }
}

interface StackContext {
  deployment: Deployment;
  sources: Sources;
}

const META_ARGUMENTS = new Set(['for_each', 'count', 'depends_on', 'provider', 'lifecycle']);

function text(value: Value, what: string): string {
  if (typeof value !== 'string') throw new Error(`${what} is not a string`);
  return value;
}

/** Attributes that AWS computes, by resource type; every other attribute is the argument of that name. */
const RESOURCE_ATTRIBUTES: Record<
  string,
  Record<string, (argument: (name: string) => string, deployment: Deployment) => Value>
> = {
  aws_sqs_queue: {
    arn: (arg, d) => `arn:aws:sqs:${d.region}:${d.accountId}:${arg('name')}`,
    url: (arg, d) => `https://sqs.${d.region}.amazonaws.com/${d.accountId}/${arg('name')}`,
    id: (arg, d) => `https://sqs.${d.region}.amazonaws.com/${d.accountId}/${arg('name')}`,
  },
  aws_sns_topic: {
    arn: (arg, d) => `arn:aws:sns:${d.region}:${d.accountId}:${arg('name')}`,
    id: (arg, d) => `arn:aws:sns:${d.region}:${d.accountId}:${arg('name')}`,
  },
  aws_s3_bucket: {
    arn: (arg) => `arn:aws:s3:::${arg('bucket')}`,
    id: (arg) => arg('bucket'),
  },
  aws_iam_role: {
    arn: (arg, d) => `arn:aws:iam::${d.accountId}:role/${arg('name')}`,
    id: (arg) => arg('name'),
  },
  aws_iam_openid_connect_provider: {
    arn: (arg, d) => `arn:aws:iam::${d.accountId}:oidc-provider/${arg('url').replace(/^https:\/\//, '')}`,
  },
  aws_eks_cluster: {
    identity: (_arg, d) => [{ oidc: [{ issuer: `https://${localOidcIssuer(d)}` }] }],
  },
};

/** Attributes of data sources, by type; `instance` renders the source's own body. */
const DATA_ATTRIBUTES: Record<
  string,
  Record<string, (instance: Instance, deployment: Deployment) => Value>
> = {
  aws_caller_identity: {
    account_id: (_instance, d) => d.accountId,
    id: (_instance, d) => d.accountId,
  },
  aws_iam_policy_document: {
    json: (instance) => JSON.stringify(renderPolicyDocument(instance)),
  },
};

/** One instance of a resource or data source: its body, where it is, and how to evaluate in it. */
interface Instance {
  address: string;
  block: Block;
  value: (raw: unknown) => Value;
}

/** A module as called: the values of its variables come from the call (or the deployment, at the root). */
class ModuleInstance {
  private readonly context: StackContext;
  private readonly files: ModuleFiles;
  private readonly address: string;
  private readonly input: (name: string) => Value | undefined;
  private readonly children = new Map<string, ModuleInstance>();
  private readonly instances = new Map<string, Value>();
  private readonly roots: Record<string, LazyObject>;
  /** The module's outputs, as `module.<name>` exposes them to its caller. */
  readonly outputs: LazyObject;

  constructor(
    context: StackContext,
    dir: string,
    address: string,
    input: (name: string) => Value | undefined,
  ) {
    this.context = context;
    const files = context.sources.modules.get(dir);
    if (!files) throw new Error(`module directory ${dir} was not loaded`);
    this.files = files;
    this.address = address;
    this.input = input;
    const at = address ? `${address}.` : '';
    this.roots = {
      var: new LazyObject(`the variables of ${this.where}`, (name) => this.variable(name)),
      local: new LazyObject(`the local values of ${this.where}`, (name) => this.local(name)),
      module: new LazyObject(`the modules of ${this.where}`, (name) => this.child(name).outputs),
      data: new LazyObject(
        'data',
        (type) => new LazyObject(`${at}data.${type}`, (name) => this.resource('data', type, name)),
      ),
    };
    this.outputs = new LazyObject(this.where, (name) => {
      const output = this.files.outputs.get(name);
      if (!output) throw new Error(`${this.where} has no output "${name}"`);
      return this.evaluate(output.body.value, output.file);
    });
  }

  get dir(): string {
    return this.files.dir;
  }

  private get where(): string {
    return this.address || this.files.dir;
  }

  /** An expression's value in this module; `bound` gives `each` or `count` inside a repeated block. */
  evaluate(raw: unknown, file: string, bound: ValueMap = {}): Value {
    const scope: Scope = (root) => {
      const value = bound[root] ?? this.roots[root];
      if (value !== undefined) return value;
      if ([...this.files.resources.keys()].some((key) => key.startsWith(`${root}.`)))
        return new LazyObject(root, (name) => this.resource('resource', root, name));
      throw new Error(`"${root}" is not a variable, local, module, data source or resource of ${this.where}`);
    };
    return evaluate(raw, scope, file);
  }

  child(name: string): ModuleInstance {
    let child = this.children.get(name);
    if (!child) {
      const call = this.files.calls.get(name);
      if (!call) throw new Error(`${this.where} calls no module "${name}"`);
      const { source } = call.body;
      if (typeof source !== 'string' || !source.startsWith('.'))
        throw new Error(`${call.file}: module.${name}: only local module sources are supported`);
      if ('count' in call.body || 'for_each' in call.body)
        throw new Error(`${call.file}: module.${name}: count and for_each on modules are not supported`);
      const address = `${this.address ? `${this.address}.` : ''}module.${name}`;
      child = new ModuleInstance(this.context, join(this.files.dir, source), address, (variable) =>
        variable in call.body && !META_ARGUMENTS.has(variable)
          ? this.evaluate(call.body[variable], call.file)
          : undefined,
      );
      this.children.set(name, child);
    }
    return child;
  }

  /** Names of the modules this one calls. */
  get calls(): string[] {
    return [...this.files.calls.keys()];
  }

  /** The value of one of this module's variables, as the caller set it or by default. */
  variable(name: string): Value {
    const declaration = this.files.variables.get(name);
    if (!declaration) throw new Error(`${this.where} declares no variable "${name}"`);
    const given = this.input(name);
    if (given !== undefined) return given;
    if ('default' in declaration.body) return this.evaluate(declaration.body.default, declaration.file);
    throw new Error(`variable "${name}" of ${this.where} has no default and is not set`);
  }

  private local(name: string): Value {
    const local = this.files.locals.get(name);
    if (!local) throw new Error(`${this.where} has no local value "${name}"`);
    return this.evaluate(local.raw, local.file);
  }

  /** A resource's instances: one object, a map (for_each) or a list (count), as Terraform exposes them. */
  resource(kind: 'resource' | 'data', type: string, name: string): Value {
    const key = `${kind}.${type}.${name}`;
    if (!this.instances.has(key)) this.instances.set(key, this.expand(kind, type, name));
    return this.instances.get(key) ?? null;
  }

  /** Every instance of every resource of one type in this module. */
  resourcesOfType(type: string): LazyObject[] {
    return [...this.files.resources.keys()]
      .filter((key) => key.startsWith(`${type}.`))
      .flatMap((key) => {
        const value = this.resource('resource', type, key.slice(type.length + 1));
        const all = Array.isArray(value) ? value : isMap(value) ? Object.values(value) : [value];
        return all.filter((item): item is LazyObject => item instanceof LazyObject);
      });
  }

  private expand(kind: 'resource' | 'data', type: string, name: string): Value {
    const block = (kind === 'data' ? this.files.data : this.files.resources).get(`${type}.${name}`);
    const address = `${this.address ? `${this.address}.` : ''}${kind === 'data' ? 'data.' : ''}${type}.${name}`;
    if (!block)
      throw new Error(`${this.where} has no ${kind === 'data' ? 'data source' : 'resource'} ${type}.${name}`);
    const { for_each: forEach, count } = block.body;
    if (forEach !== undefined) {
      const collection = this.evaluate(forEach, block.file);
      let pairs: [string, Value][];
      if (Array.isArray(collection))
        pairs = collection.map((item) => [text(item, `an element of ${address}'s for_each`), item]);
      else if (isMap(collection)) pairs = Object.entries(collection);
      else throw new Error(`${block.file}: ${address}: for_each must be a map or a set of strings`);
      return Object.fromEntries(
        pairs.map(([key, value]) => [
          key,
          this.instance(kind, type, `${address}[${JSON.stringify(key)}]`, block, { each: { key, value } }),
        ]),
      );
    }
    if (count !== undefined) {
      const n = this.evaluate(count, block.file);
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0)
        throw new Error(`${block.file}: ${address}: count must be a whole number`);
      return Array.from({ length: n }, (_, index) =>
        this.instance(kind, type, `${address}[${index}]`, block, { count: { index } }),
      );
    }
    return this.instance(kind, type, address, block, {});
  }

  private instance(
    kind: 'resource' | 'data',
    type: string,
    address: string,
    block: Block,
    bound: ValueMap,
  ): LazyObject {
    const self: Instance = { address, block, value: (raw) => this.evaluate(raw, block.file, bound) };
    const argument = (name: string): Value => {
      if (!(name in block.body) || META_ARGUMENTS.has(name))
        throw new Error(`${address} has no argument or known attribute "${name}"`);
      return self.value(block.body[name]);
    };
    const { deployment } = this.context;
    return new LazyObject(address, (name) => {
      if (kind === 'data') {
        const computed = DATA_ATTRIBUTES[type]?.[name];
        return computed ? computed(self, deployment) : argument(name);
      }
      const computed = RESOURCE_ATTRIBUTES[type]?.[name];
      return computed
        ? computed((arg) => text(argument(arg), `${address}.${arg}`), deployment)
        : argument(name);
    });
  }
}

function isMap(value: Value): value is ValueMap {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof LazyObject)
  );
}

function strings(value: Value, what: string): string[] | undefined {
  if (value === null) return undefined;
  if (!Array.isArray(value)) throw new Error(`${what} must be a list of strings`);
  return value.map((item) =>
    typeof item === 'number' || typeof item === 'boolean'
      ? String(item)
      : text(item, `an element of ${what}`),
  );
}

const STATEMENT_FIELDS = new Set([
  'sid',
  'effect',
  'actions',
  'not_actions',
  'resources',
  'not_resources',
  'principals',
  'not_principals',
  'condition',
]);

function renderPrincipals(
  blocks: unknown,
  value: (raw: unknown) => Value,
  what: string,
): PolicyPrincipal | undefined {
  const list = bodies(blocks);
  if (list.length === 0) return undefined;
  const byType: Record<string, string[]> = {};
  for (const block of list) {
    const type = text(value(block.type), `${what}.type`);
    byType[type] = [
      ...(byType[type] ?? []),
      ...(strings(value(block.identifiers), `${what}.identifiers`) ?? []),
    ];
  }
  const { '*': anyone, ...named } = byType;
  if (anyone) {
    // Terraform writes type "*" with identifiers ["*"] as "Principal": "*", and nothing else with it.
    if (anyone.some((id) => id !== '*') || Object.keys(named).length > 0)
      throw new Error(`${what}: type "*" takes only the identifier "*"`);
    return '*';
  }
  for (const type of Object.keys(named)) {
    if (!['AWS', 'Service', 'Federated', 'CanonicalUser'].includes(type))
      throw new Error(`${what}: unknown principal type "${type}"`);
  }
  return named;
}

/** An `aws_iam_policy_document` as the JSON document Terraform would produce. */
function renderPolicyDocument(instance: Instance): PolicyDocument {
  const { address, block, value } = instance;
  const what = `${block.file}: ${address}`;
  for (const key of Object.keys(block.body)) {
    if (!['statement', 'version', 'for_each'].includes(key))
      throw new Error(`${what}: "${key}" is not supported in policy documents`);
  }
  if (block.body.version !== undefined && value(block.body.version) !== '2012-10-17')
    throw new Error(`${what}: only version 2012-10-17 is supported`);
  const Statement = bodies(block.body.statement).map((statement, index): PolicyStatement => {
    const at = `${what} statement ${index + 1}`;
    for (const key of Object.keys(statement))
      if (!STATEMENT_FIELDS.has(key)) throw new Error(`${at}: "${key}" is not supported`);
    const field = (key: string) => (statement[key] === undefined ? null : value(statement[key]));
    const effect = field('effect') ?? 'Allow';
    if (effect !== 'Allow' && effect !== 'Deny') throw new Error(`${at}: effect must be Allow or Deny`);
    const sid = field('sid');
    const rendered: PolicyStatement = {
      ...(sid === null ? {} : { Sid: text(sid, `${at}: sid`) }),
      Effect: effect,
    };
    const lists = [
      ['actions', 'Action'],
      ['not_actions', 'NotAction'],
      ['resources', 'Resource'],
      ['not_resources', 'NotResource'],
    ] as const;
    for (const [key, name] of lists) {
      const list = strings(field(key), `${at}: ${key}`);
      if (list) rendered[name] = list;
    }
    const principal = renderPrincipals(statement.principals, value, `${at}: principals`);
    if (principal) rendered.Principal = principal;
    const notPrincipal = renderPrincipals(statement.not_principals, value, `${at}: not_principals`);
    if (notPrincipal) rendered.NotPrincipal = notPrincipal;
    const conditions = bodies(statement.condition);
    if (conditions.length > 0) {
      // Conditions with the same test share one operator block, as in Terraform's output.
      const Condition: Record<string, Record<string, string[]>> = {};
      for (const condition of conditions) {
        const test = text(value(condition.test), `${at}: condition test`);
        const variable = text(value(condition.variable), `${at}: condition variable`);
        const operator = (Condition[test] ??= {});
        if (variable in operator) throw new Error(`${at}: two ${test} conditions on ${variable}`);
        operator[variable] = strings(value(condition.values), `${at}: condition values`) ?? [];
      }
      rendered.Condition = Condition;
    }
    return rendered;
  });
  return { Version: '2012-10-17', Statement };
}

function parsePolicy(value: Value, what: string): PolicyDocument {
  return JSON.parse(text(value, what)) as PolicyDocument;
}

/** Every module instance of a stack, the root first. */
function moduleTree(root: ModuleInstance): ModuleInstance[] {
  return [root, ...root.calls.flatMap((name) => moduleTree(root.child(name)))];
}

type Stack = 'terraform' | 'bootstrap-terraform';

/** Where each role is declared: its stack, the module call path, and the aws_iam_role in that module. */
const ROLES: Record<RoleKey, { stack: Stack; modules: string[]; role: string; trust: boolean }> = {
  worker: { stack: 'terraform', modules: ['worker_role'], role: 'this', trust: true },
  api: { stack: 'terraform', modules: ['api_role'], role: 'this', trust: true },
  keda: { stack: 'terraform', modules: ['keda_role'], role: 'this', trust: true },
  // github_trust needs var.github_repository (no default) and a for expression; nothing local assumes it.
  deployer: { stack: 'bootstrap-terraform', modules: [], role: 'github_actions', trust: false },
};

function renderRole(root: ModuleInstance, modules: string[], label: string, trust: boolean): RenderedRole {
  const module = modules.reduce((instance, name) => instance.child(name), root);
  const role = module.resource('resource', 'aws_iam_role', label);
  if (!(role instanceof LazyObject))
    throw new Error(`${module.dir}: aws_iam_role.${label} must be a single role`);
  const name = text(role.attribute('name'), `aws_iam_role.${label}.name`);
  const ofRole = (resource: LazyObject) => resource.attribute('role') === name;
  const managed = module.resourcesOfType('aws_iam_role_policy_attachment').filter(ofRole);
  if (managed.length > 0) {
    const arns = managed.map((attachment) => String(attachment.attribute('policy_arn')));
    throw new Error(
      `role ${name} has managed policies (${arns.join(', ')}), which cannot be rendered locally`,
    );
  }
  const inline = module
    .resourcesOfType('aws_iam_role_policy')
    .filter(ofRole)
    .map((policy) => parsePolicy(policy.attribute('policy'), `${policy.what}.policy`));
  return {
    name,
    arn: text(role.attribute('arn'), `aws_iam_role.${label}.arn`),
    policy: { Version: '2012-10-17', Statement: inline.flatMap((policy) => policy.Statement) },
    ...(trust
      ? {
          trustPolicy: parsePolicy(role.attribute('assume_role_policy'), `${role.what}.assume_role_policy`),
          serviceAccount: {
            namespace: text(module.variable('namespace'), `${module.dir}: var.namespace`),
            name: text(module.variable('service_account'), `${module.dir}: var.service_account`),
          },
        }
      : {}),
  };
}

/** SQS names a queue policy's queue by URL; the policy is keyed by the queue's ARN. */
function queueArnFromUrl(url: string): string {
  const match = /^https:\/\/sqs\.([a-z0-9-]+)\.amazonaws\.com\/(\d{12})\/([A-Za-z0-9_.-]+)$/.exec(url);
  if (!match) throw new Error(`${url} is not an SQS queue URL`);
  return `arn:aws:sqs:${match[1]}:${match[2]}:${match[3]}`;
}

function corsRules(value: Value, what: string): CorsRule[] {
  if (!Array.isArray(value)) throw new Error(`${what} must be a list of cors_rule blocks`);
  return value.map((rule, index) => {
    if (!isMap(rule)) throw new Error(`${what}[${index}] is not a block`);
    const list = (key: string) => strings(rule[key] ?? null, `${what}[${index}].${key}`) ?? [];
    const maxAge = rule.max_age_seconds;
    if (maxAge !== undefined && typeof maxAge !== 'number')
      throw new Error(`${what}[${index}].max_age_seconds is not a number`);
    return {
      allowedMethods: list('allowed_methods'),
      allowedOrigins: list('allowed_origins'),
      allowedHeaders: list('allowed_headers'),
      exposeHeaders: list('expose_headers'),
      ...(maxAge === undefined ? {} : { maxAgeSeconds: maxAge }),
    };
  });
}

/** Root variables that the deployment sets; the main stack must declare every one of them. */
function deploymentVariables(deployment: Deployment): ValueMap {
  return {
    region: deployment.region,
    bucket_name: deployment.bucketName,
    test_source_bucket_name: deployment.testSourceBucketName,
    upload_allowed_origins: [...deployment.uploadAllowedOrigins],
    queue_name: deployment.queueName,
    events_topic_name: deployment.eventsTopicName,
  };
}

function rootModule(context: StackContext, stack: Stack, requireAll: boolean): ModuleInstance {
  const values = deploymentVariables(context.deployment);
  const declared = context.sources.modules.get(stack)?.variables;
  if (requireAll) {
    const missing = Object.keys(values).filter((name) => !declared?.has(name));
    if (missing.length > 0)
      throw new Error(`${stack} declares no variable ${missing.join(', ')} for the deployment`);
  }
  return new ModuleInstance(context, stack, '', (name) => values[name]);
}

/** A record of the pairs; AWS keeps one such policy per resource, so a second one is a mistake. */
function keyed<T>(what: string, pairs: [string, T][]): Record<string, T> {
  const record: Record<string, T> = {};
  for (const [key, value] of pairs) {
    if (key in record) throw new Error(`two ${what} for ${key}`);
    record[key] = value;
  }
  return record;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}

async function render(deployment: Deployment, overrides: Record<string, string>): Promise<RenderedPolicies> {
  const sources = new Sources(overrides);
  await sources.loadStack('terraform');
  await sources.loadStack('bootstrap-terraform');
  const unused = sources.unusedOverrides();
  if (unused.length > 0)
    throw new Error(`overrides for files that are not part of a stack: ${unused.join(', ')}`);

  const context: StackContext = { deployment, sources };
  const main = rootModule(context, 'terraform', true);
  const roots: Record<Stack, ModuleInstance> = {
    terraform: main,
    'bootstrap-terraform': rootModule(context, 'bootstrap-terraform', false),
  };
  const roles = Object.fromEntries(
    Object.entries(ROLES).map(([key, role]) => [
      key,
      renderRole(roots[role.stack], role.modules, role.role, role.trust),
    ]),
  ) as Record<RoleKey, RenderedRole>;

  const tree = moduleTree(main);
  const policiesOf = (type: string, target: string, key: (target: string) => string) =>
    keyed(
      `${type} resources`,
      tree.flatMap((module) =>
        module
          .resourcesOfType(type)
          .map((resource): [string, PolicyDocument] => [
            key(text(resource.attribute(target), `${resource.what}.${target}`)),
            parsePolicy(resource.attribute('policy'), `${resource.what}.policy`),
          ]),
      ),
    );

  const output = (expression: string) => text(main.evaluate(expression, 'terraform'), expression);
  return deepFreeze({
    roles,
    queuePolicies: policiesOf('aws_sqs_queue_policy', 'queue_url', queueArnFromUrl),
    topicPolicies: policiesOf('aws_sns_topic_policy', 'arn', (arn) => arn),
    bucketPolicies: policiesOf('aws_s3_bucket_policy', 'bucket', (bucket) => `arn:aws:s3:::${bucket}`),
    bucketCors: keyed(
      'aws_s3_bucket_cors_configuration resources',
      tree.flatMap((module) =>
        module
          .resourcesOfType('aws_s3_bucket_cors_configuration')
          .map((cors): [string, CorsRule[]] => [
            text(cors.attribute('bucket'), `${cors.what}.bucket`),
            corsRules(cors.attribute('cors_rule'), `${cors.what}.cors_rule`),
          ]),
      ),
    ),
    arns: {
      bucket: output('${module.storage.bucket_arn}'),
      testSourceBucket: output('${module.storage.test_source_bucket_arn}'),
      queue: output('${module.queues.queue_arn}'),
      dlq: output('${module.queues.dlq_arn}'),
      topic: output('${module.events.topic_arn}'),
    },
  });
}

const cache = new Map<string, Promise<RenderedPolicies>>();

/**
 * The IAM policies that Terraform (terraform/ and bootstrap-terraform/) defines, as JSON documents with
 * every reference resolved for this deployment. Rendered once per deployment and overrides; the result is
 * frozen. Anything Terraform would resolve that this cannot throws, naming the file and expression.
 */
export function renderDeploymentPolicies(
  deployment: Deployment,
  options: RenderOptions = {},
): Promise<RenderedPolicies> {
  const d = deployment;
  const overrides = options.overrides ?? {};
  const key = JSON.stringify([
    [d.region, d.accountId, d.bucketName, d.testSourceBucketName, d.queueName, d.eventsTopicName],
    d.uploadAllowedOrigins,
    Object.entries(overrides).sort(([a], [b]) => a.localeCompare(b)),
  ]);
  let rendered = cache.get(key);
  if (!rendered) {
    rendered = render({ ...d, uploadAllowedOrigins: [...d.uploadAllowedOrigins] }, overrides);
    rendered.catch(() => cache.delete(key));
    cache.set(key, rendered);
  }
  return rendered;
}

/** The resource-based policy AWS would evaluate for a resource ARN (an object's is its bucket's), if any. */
export function resourcePolicyFor(policies: RenderedPolicies, resource: string): PolicyDocument | undefined {
  if (resource.startsWith('arn:aws:s3:::')) {
    const bucket = resource.slice('arn:aws:s3:::'.length).split('/')[0] ?? '';
    return policies.bucketPolicies[`arn:aws:s3:::${bucket}`];
  }
  return policies.queuePolicies[resource] ?? policies.topicPolicies[resource];
}
