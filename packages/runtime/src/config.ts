/**
 * Configuration from the environment. Every app declares what it reads as a spec of fields; loading
 * collects every problem at once and throws one ConfigError that names each variable and what it expects.
 */
type Env = Record<string, string | undefined>;
/** Reads one variable; `variable` names it, so that a launcher can set it without retyping the name. */
type Field<T> = ((env: Env) => T) & { variable: string };

function field<T>(variable: string, read: (env: Env) => T): Field<T> {
  return Object.assign(read, { variable });
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

class FieldProblem extends Error {}

function raw(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function problem(name: string, expected: string, got: string): never {
  throw new FieldProblem(`${name}: expected ${expected}, got ${JSON.stringify(got)}`);
}

export const env = {
  string(name: string, fallback: string): Field<string> {
    return field(name, (e) => raw(e, name) ?? fallback);
  },
  optionalString(name: string): Field<string | undefined> {
    return field(name, (e) => raw(e, name));
  },
  requiredString(name: string): Field<string> {
    return field(name, (e) => raw(e, name) ?? problem(name, 'a value', ''));
  },
  int(name: string, fallback: number, { min = -Infinity, max = Infinity } = {}): Field<number> {
    return field(name, (e) => {
      const value = raw(e, name);
      if (value === undefined) return fallback;
      const parsed = Number(value);
      if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
        const range = [min > -Infinity ? `≥ ${min}` : '', max < Infinity ? `≤ ${max}` : ''].filter(Boolean);
        return problem(name, `an integer${range.length ? ` ${range.join(' and ')}` : ''}`, value);
      }
      return parsed;
    });
  },
  bool(name: string, fallback: boolean): Field<boolean> {
    return field(name, (e) => {
      const value = raw(e, name);
      if (value === undefined) return fallback;
      if (/^(1|true|yes|on)$/i.test(value)) return true;
      if (/^(0|false|no|off)$/i.test(value)) return false;
      return problem(name, 'true or false', value);
    });
  },
  optionalUrl(name: string): Field<string | undefined> {
    return field(name, (e) => {
      const value = raw(e, name);
      if (value === undefined) return undefined;
      if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) {
        return problem(name, 'an http(s) URL', value);
      }
      return value.replace(/\/+$/, '');
    });
  },
  /** An http(s) URL's origin (scheme, host, port), whatever path the value carries. */
  optionalOrigin(name: string): Field<string | undefined> {
    const url = env.optionalUrl(name);
    return field(name, (e) => {
      const value = url(e);
      return value === undefined ? undefined : new URL(value).origin;
    });
  },
  oneOf<const T extends string>(name: string, values: readonly T[], fallback: T): Field<T> {
    return field(name, (e) => {
      const value = raw(e, name) ?? fallback;
      return (values as readonly string[]).includes(value)
        ? (value as T)
        : problem(name, values.join(' | '), value);
    });
  },
  /** A key prefix: non-empty, no leading slash, always ending in `/`. */
  prefix(name: string, fallback: string): Field<string> {
    return field(name, (e) => {
      const value = raw(e, name) ?? fallback;
      if (value.startsWith('/') || value === '/')
        return problem(name, 'a key prefix such as "thumbnails/"', value);
      return value.endsWith('/') ? value : `${value}/`;
    });
  },
};

export type ConfigSpec = Record<string, Field<unknown>>;
export type ConfigOf<S extends ConfigSpec> = { [K in keyof S]: ReturnType<S[K]> };

export function loadConfig<S extends ConfigSpec>(spec: S, source: Env = process.env): ConfigOf<S> {
  const problems: string[] = [];
  const result: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(spec)) {
    try {
      result[key] = field(source);
    } catch (error) {
      if (!(error instanceof FieldProblem)) throw error;
      problems.push(error.message);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return result as ConfigOf<S>;
}

/**
 * The environment that makes `loadConfig(spec)` read `values` back: how a launcher (the local stack) sets a
 * component's variables without retyping their names. Unset values are left out.
 */
export function configEnv<S extends ConfigSpec>(
  spec: S,
  values: { [K in keyof S]?: ReturnType<S[K]> },
): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) {
    const variable = spec[key]?.variable;
    if (variable !== undefined && value !== undefined) result[variable] = String(value);
  }
  return result;
}

/** Settings every part of the pipeline shares: where the bucket, queues and events topic are. */
export const pipelineSpec = {
  region: env.string('AWS_REGION', 'us-east-1'),
  endpoint: env.optionalUrl('AWS_ENDPOINT_URL'),
  bucket: env.string('S3_BUCKET', 'thumbnail-pipeline'),
  uploadPrefix: env.prefix('S3_UPLOAD_PREFIX', 'uploads/'),
  thumbnailPrefix: env.prefix('S3_THUMBNAIL_PREFIX', 'thumbnails/'),
  failurePrefix: env.prefix('S3_FAILURE_PREFIX', 'failures/'),
  testSourceBucket: env.string('TEST_SOURCE_BUCKET', 'thumbnail-test-source'),
  queueUrl: env.optionalUrl('SQS_QUEUE_URL'),
  queueName: env.string('SQS_QUEUE_NAME', 'thumbnail-jobs'),
  dlqUrl: env.optionalUrl('SQS_DLQ_URL'),
  dlqName: env.string('SQS_DLQ_NAME', 'thumbnail-jobs-dlq'),
  eventsTopicArn: env.optionalString('EVENTS_TOPIC_ARN'),
  eventsTopicName: env.string('EVENTS_TOPIC_NAME', 'thumbnail-events'),
  maxReceiveCount: env.int('MAX_RECEIVE_COUNT', 3, { min: 1, max: 1000 }),
};
export type PipelineConfig = ConfigOf<typeof pipelineSpec>;

/** Prints a configuration error plainly and exits non-zero; anything else is rethrown. */
export function exitOnConfigError(error: unknown, app: string): never {
  if (error instanceof ConfigError) {
    process.stderr.write(`${app}: ${error.message}\n`);
    process.exit(78);
  }
  throw error;
}
