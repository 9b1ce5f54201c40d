import { isDateTime } from './date-time.ts';

/**
 * Checks a value against one of this package's schemas by reading the schema itself, so a browser can
 * validate messages without TypeBox's checker (about 70 KB gzip of first-load JavaScript). It knows only
 * the JSON Schema keywords the schemas here use and throws on any other, so a schema cannot quietly
 * outgrow it; the tests hold it to TypeBox's `Value.Check`.
 */
export function conforms(schema: object, value: unknown): boolean {
  const s = vet(schema);
  if (s.anyOf) return s.anyOf.some((option) => conforms(option, value));
  if ('const' in s && value !== s.const) return false;
  if (s.enum && !s.enum.includes(value)) return false;
  switch (s.type) {
    case 'null':
      return value === null;
    case 'boolean':
      return typeof value === 'boolean';
    case 'string':
      return typeof value === 'string' && stringConforms(s, value);
    case 'integer':
      return Number.isInteger(value) && numberConforms(s, value as number);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) && numberConforms(s, value);
    case 'array':
      return (
        Array.isArray(value) &&
        value.length >= (s.minItems ?? 0) &&
        value.length <= (s.maxItems ?? Infinity) &&
        (!s.uniqueItems || new Set(value.map((item) => JSON.stringify(item))).size === value.length) &&
        (!s.items || value.every((item) => conforms(s.items!, item)))
      );
    case 'object':
      return isRecord(value) && objectConforms(s, value);
    case undefined:
      return true;
    default:
      throw new Error(`conforms() does not know the JSON Schema type "${String(s.type)}"`);
  }
}

/** The JSON Schema keywords this package's schemas use (what `conforms` reads). */
export interface JsonSchema {
  description?: string;
  type?: string;
  anyOf?: JsonSchema[];
  const?: unknown;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  format?: string;
  pattern?: string;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  properties?: Record<string, JsonSchema>;
  patternProperties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean;
}

// `description` only documents; `$id` and friends never appear in this package's schemas.
const KNOWN = new Set([
  'type',
  'anyOf',
  'const',
  'enum',
  'minimum',
  'maximum',
  'minLength',
  'maxLength',
  'format',
  'pattern',
  'items',
  'minItems',
  'maxItems',
  'uniqueItems',
  'properties',
  'patternProperties',
  'required',
  'additionalProperties',
  'description',
]);

/** The formats this package's schemas use; another one is refused like an unknown keyword. */
const FORMATS: Record<string, (value: string) => boolean> = { 'date-time': isDateTime };

const vetted = new WeakSet<object>();

function vet(schema: object): JsonSchema {
  if (vetted.has(schema)) return schema as JsonSchema;
  for (const keyword of Object.keys(schema)) {
    if (!KNOWN.has(keyword)) throw new Error(`conforms() does not know the JSON Schema keyword "${keyword}"`);
  }
  const format = (schema as JsonSchema).format;
  if (format !== undefined && !Object.hasOwn(FORMATS, format))
    throw new Error(`conforms() does not know the format "${format}"`);
  vetted.add(schema);
  return schema as JsonSchema;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringConforms(s: JsonSchema, value: string): boolean {
  // Lengths count code points, as JSON Schema (and TypeBox) do.
  const length = s.minLength === undefined && s.maxLength === undefined ? 0 : [...value].length;
  if (s.minLength !== undefined && length < s.minLength) return false;
  if (s.maxLength !== undefined && length > s.maxLength) return false;
  if (s.format !== undefined && !FORMATS[s.format]!(value)) return false;
  if (s.pattern !== undefined && !new RegExp(s.pattern, 'u').test(value)) return false;
  return true;
}

function numberConforms(s: JsonSchema, value: number): boolean {
  return (s.minimum === undefined || value >= s.minimum) && (s.maximum === undefined || value <= s.maximum);
}

function objectConforms(s: JsonSchema, value: Record<string, unknown>): boolean {
  for (const name of s.required ?? []) if (!Object.hasOwn(value, name)) return false;
  for (const [name, field] of Object.entries(value)) {
    const declared = s.properties?.[name];
    if (declared) {
      if (!conforms(declared, field)) return false;
      continue;
    }
    const patterns = Object.entries(s.patternProperties ?? {}).filter(([pattern]) =>
      new RegExp(pattern, 'u').test(name),
    );
    if (patterns.length > 0) {
      if (!patterns.every(([, schema]) => conforms(schema, field))) return false;
      continue;
    }
    if (s.additionalProperties === false) return false;
  }
  return true;
}
