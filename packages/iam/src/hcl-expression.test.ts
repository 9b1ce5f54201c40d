import { describe, expect, it } from 'vitest';
import { evaluate, ExpressionError, LazyObject, type Scope, type Value } from './hcl-expression.ts';

const variables: Record<string, Value> = {
  region: 'us-east-1',
  origins: ['http://a', 'http://b'],
  policy: null,
  accounts: { worker: { namespace: 'apps', name: 'thumbnail-worker' } },
};
const scope: Scope = (root) => {
  if (root === 'var')
    return new LazyObject('the variables', (name) => {
      if (!(name in variables)) throw new Error(`no variable "${name}"`);
      return variables[name] ?? null;
    });
  throw new Error(`unknown name "${root}"`);
};
const value = (raw: unknown) => evaluate(raw, scope, 'test.tf');

describe('hcl expressions', () => {
  it('interpolates templates and keeps the type of a lone interpolation', () => {
    expect(value('arn:aws:sqs:${var.region}:000000000000:thumbnail-api-*')).toBe(
      'arn:aws:sqs:us-east-1:000000000000:thumbnail-api-*',
    );
    expect(value('${var.origins}')).toEqual(['http://a', 'http://b']);
    expect(value(['${var.region}', 'plain', 3])).toEqual(['us-east-1', 'plain', 3]);
    expect(value({ key: '${var.region}' })).toEqual({ key: 'us-east-1' });
  });

  it('reads attributes, map keys and list elements', () => {
    expect(value('${var.accounts.worker.namespace}')).toBe('apps');
    expect(value('${var.accounts["worker"].name}')).toBe('thumbnail-worker');
    expect(value('${var.origins[1]}')).toBe('http://b');
  });

  it('evaluates conditionals, comparisons, lists and the supported functions', () => {
    expect(value('${var.policy == null ? 0 : 1}')).toBe(0);
    expect(value('${var.region != "us-east-1" ? "other" : "home"}')).toBe('home');
    expect(value('${[var.region, "x",]}')).toEqual(['us-east-1', 'x']);
    expect(value('${replace("https://oidc.example/id/1", "https://", "")}')).toBe('oidc.example/id/1');
    expect(value('${toset(["a", "b", "a"])}')).toEqual(['a', 'b']);
  });

  it('keeps escaped interpolations literal (IAM policy variables) and decodes string escapes', () => {
    expect(value('arn:aws:s3:::b/$${aws:username}/*')).toBe('arn:aws:s3:::b/${aws:username}/*');
    expect(value('${"say \\"hi\\" in ${var.region}"}')).toBe('say "hi" in us-east-1');
  });

  it('names the file and expression of anything it cannot evaluate', () => {
    const cases: [string, RegExp][] = [
      ['${var.regoin}', /^test\.tf: \$\{var\.regoin\}: no variable "regoin"$/],
      ['${local.x}', /unknown name "local"/],
      ['${var.accounts.api}', /has no attribute "api"/],
      ['${var.origins[5]}', /has no element 5/],
      ['${[for o in var.origins : o]}', /for expressions are not supported/],
      ['%{if true}x%{endif}', /template directives/],
      ['${jsonencode(var.origins)}', /function jsonencode\(\) is not supported/],
      ['${replace(var.region, "/us/", "eu")}', /regular expression is not supported/],
      ['${var.origins}-suffix', /expected a string, got a list/],
      ['${var.region', /expected "}"/],
    ];
    for (const [raw, message] of cases) {
      expect(() => value(raw), raw).toThrow(ExpressionError);
      expect(() => value(raw), raw).toThrow(message);
    }
  });

  it('reports an inner failure where it happened, not where it was referenced', () => {
    const inner: Scope = (root) =>
      root === 'local'
        ? new LazyObject('locals', () => evaluate('${var.nope}', scope, 'inner.tf'))
        : scope(root);
    expect(() => evaluate('${local.x}/*', inner, 'outer.tf')).toThrow(
      /^inner\.tf: \$\{var\.nope\}: no variable "nope"$/,
    );
  });
});
