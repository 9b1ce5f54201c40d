import fc from 'fast-check';
import { Check } from 'typebox/value';
import { describe, expect, it } from 'vitest';
import { conforms, type JsonSchema as Schema } from './conforms.ts';
import * as model from './schema.ts';

/** Values a schema accepts, built from the schema (so new fields and messages are covered unasked). */
function valid(schema: Schema): fc.Arbitrary<unknown> {
  if (schema.anyOf) return fc.oneof(...schema.anyOf.map(valid));
  if ('const' in schema) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  switch (schema.type) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'string':
      if (schema.pattern) return fc.stringMatching(new RegExp(schema.pattern, 'u'));
      return schema.format === 'date-time'
        ? fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }).map((d) => d.toISOString())
        : fc.string({ unit: 'grapheme', minLength: schema.minLength ?? 0, maxLength: schema.maxLength ?? 8 });
    case 'integer':
      return fc.integer({ min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e9 });
    case 'number':
      return fc.double({ min: schema.minimum ?? -1e9, max: schema.maximum ?? 1e9, noNaN: true });
    case 'array': {
      const size = {
        minLength: schema.minItems ?? 0,
        maxLength: Math.min(schema.maxItems ?? 3, Math.max(3, schema.minItems ?? 0)),
      };
      const items = valid(schema.items ?? {});
      return schema.uniqueItems
        ? fc.uniqueArray(items, { ...size, selector: (item) => JSON.stringify(item) })
        : fc.array(items, size);
    }
    case 'object': {
      const fields = Object.fromEntries(
        Object.entries(schema.properties ?? {}).map(([name, field]) => [name, valid(field)]),
      );
      const record = fc.record(fields, { requiredKeys: schema.required ?? [] });
      const pattern = Object.values(schema.patternProperties ?? {})[0];
      return pattern
        ? fc
            .tuple(record, fc.dictionary(fc.string({ maxLength: 6 }), valid(pattern), { maxKeys: 3 }))
            .map(([r, d]) => ({ ...d, ...r }))
        : record;
    }
    default:
      return fc.anything();
  }
}

/** Every path to a value inside `value`, for mutation. */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (typeof value !== 'object' || value === null) return [prefix];
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  return [prefix, ...entries.flatMap(([k, v]) => paths(v, [...prefix, k]))];
}

/** Stands for "the same object with one more property". */
const EXTRA = Symbol('extra property');

function replaced(value: unknown, path: (string | number)[], replacement: unknown): unknown {
  if (replacement === EXTRA) {
    const target = path.reduce<unknown>((o, k) => (o as Record<string | number, unknown>)[k], value);
    const grown =
      typeof target === 'object' && target !== null && !Array.isArray(target)
        ? { ...target, extraProperty: 1 }
        : target;
    return replaced(value, path, grown);
  }
  if (path.length === 0) return replacement;
  const copy = structuredClone(value) as Record<string | number, unknown>;
  const parent = path.slice(0, -1).reduce<Record<string | number, unknown>>((o, k) => o[k] as never, copy);
  const last = path.at(-1)!;
  if (replacement === undefined) {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else parent[last] = replacement;
  return copy;
}

const SCHEMAS = Object.entries(model as Record<string, unknown>).filter(
  (entry): entry is [string, Schema] => entry[0].endsWith('Schema') && typeof entry[1] === 'object',
);
const ODD_VALUES = [EXTRA, undefined, null, 42, -1, 1.5, 'x', '', true, [], {}, [1], { type: 'nope' }];

describe('conforms', () => {
  it('covers every schema of the model', () => {
    expect(SCHEMAS.map(([name]) => name)).toContain('ServerMessageSchema');
    expect(SCHEMAS.length).toBeGreaterThan(20);
  });

  it.each(SCHEMAS)('accepts what %s accepts, and agrees with TypeBox on every mutation', (_name, schema) => {
    fc.assert(
      fc.property(valid(schema), fc.nat(), fc.constantFrom(...ODD_VALUES), (value, pick, odd) => {
        expect(Check(schema, value)).toBe(true);
        expect(conforms(schema, value)).toBe(true);
        const all = paths(value);
        const mutated = replaced(value, all[pick % all.length]!, odd);
        expect(conforms(schema, mutated)).toBe(Check(schema, mutated));
      }),
      { numRuns: 150 },
    );
  });

  it('agrees with TypeBox on values of any shape', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        for (const [, schema] of SCHEMAS) expect(conforms(schema, value)).toBe(Check(schema, value));
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a schema keyword it does not know, rather than ignoring it', () => {
    expect(() => conforms({ not: { type: 'string' } }, 'b')).toThrow(/"not"/);
  });
});
