/**
 * The part of Terraform's expression language that the IAM policies of this repository use: string
 * templates, traversals (`module.queues.queue_arn`, `aws_s3_bucket.this["main"].arn`), lists, `==`/`!=`,
 * conditionals and a few functions. Anything else throws, so an expression is never guessed at.
 *
 * hcl2json hands every expression over as a template string: `"${var.region}"` or
 * `"arn:aws:sqs:${var.region}:${local.account_id}:thumbnail-api-*"`. Literal text there is already
 * unescaped, except `$${` and `%%{`; string literals inside `${…}` are still HCL source.
 */

export type Value = string | number | boolean | null | Value[] | ValueMap | LazyObject;
export interface ValueMap {
  [key: string]: Value;
}

/** An object whose attributes are computed on first use (variables, module outputs, resources). */
export class LazyObject {
  readonly what: string;
  private readonly compute: (name: string) => Value;
  private readonly cache = new Map<string, Value>();

  constructor(what: string, compute: (name: string) => Value) {
    this.what = what;
    this.compute = compute;
  }

  attribute(name: string): Value {
    if (!this.cache.has(name)) this.cache.set(name, this.compute(name));
    return this.cache.get(name) as Value;
  }
}

/** Names an expression can start with (`var`, `module`, `aws_sqs_queue`, …), resolved by the caller. */
export type Scope = (root: string) => Value;

type Expr =
  | { kind: 'literal'; value: Value }
  | { kind: 'template'; parts: (string | Expr)[] }
  | { kind: 'name'; name: string }
  | { kind: 'attribute'; of: Expr; name: string }
  | { kind: 'index'; of: Expr; key: Expr }
  | { kind: 'call'; name: string; args: Expr[] }
  | { kind: 'list'; items: Expr[] }
  | { kind: 'compare'; op: '==' | '!='; left: Expr; right: Expr }
  | { kind: 'conditional'; test: Expr; then: Expr; else: Expr };

class Parser {
  private readonly text: string;
  private position = 0;

  constructor(text: string) {
    this.text = text;
  }

  /** The top-level template: literal text up to the end, with `${…}` interpolations. */
  topLevel(): Expr {
    const template = this.template(undefined);
    if (this.position < this.text.length) this.fail('unexpected text');
    return template;
  }

  private fail(problem: string): never {
    throw new Error(`${problem} at offset ${this.position}`);
  }

  private peek(ahead = 0): string {
    return this.text[this.position + ahead] ?? '';
  }

  private startsWith(token: string): boolean {
    return this.text.startsWith(token, this.position);
  }

  private skipSpace(): void {
    while (/\s/.test(this.peek())) this.position++;
  }

  private expect(token: string): void {
    this.skipSpace();
    if (!this.startsWith(token)) this.fail(`expected "${token}"`);
    this.position += token.length;
  }

  /** Literal text and interpolations, up to `"` when quoted (HCL escapes apply) or to the end. */
  private template(quote: '"' | undefined): Expr {
    const parts: (string | Expr)[] = [];
    let literal = '';
    for (;;) {
      if (this.position >= this.text.length) {
        if (quote) this.fail('unterminated string');
        break;
      }
      if (quote && this.peek() === quote) {
        this.position++;
        break;
      }
      if (this.startsWith('$${') || this.startsWith('%%{')) {
        literal += `${this.peek()}{`;
        this.position += 3;
      } else if (this.startsWith('${')) {
        this.position += 2;
        if (literal) parts.push(literal);
        literal = '';
        parts.push(this.expression());
        this.expect('}');
      } else if (this.startsWith('%{')) {
        this.fail('template directives (%{ … }) are not supported');
      } else if (quote && this.peek() === '\\') {
        literal += this.escape();
      } else {
        literal += this.peek();
        this.position++;
      }
    }
    if (literal || parts.length === 0) parts.push(literal);
    return { kind: 'template', parts };
  }

  private escape(): string {
    const next = this.peek(1);
    const simple: Record<string, string> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\' };
    if (next in simple) {
      this.position += 2;
      return simple[next] ?? '';
    }
    const unicode = /^u([0-9a-fA-F]{4})/.exec(this.text.slice(this.position + 1));
    if (!unicode?.[1]) this.fail(`unsupported escape \\${next}`);
    this.position += 6;
    return String.fromCharCode(parseInt(unicode[1], 16));
  }

  private expression(): Expr {
    const test = this.comparison();
    this.skipSpace();
    if (this.peek() !== '?') return test;
    this.position++;
    const then = this.expression();
    this.expect(':');
    return { kind: 'conditional', test, then, else: this.expression() };
  }

  private comparison(): Expr {
    const left = this.postfix();
    this.skipSpace();
    const op = this.startsWith('==') ? '==' : this.startsWith('!=') ? '!=' : undefined;
    if (!op) return left;
    this.position += 2;
    return { kind: 'compare', op, left, right: this.postfix() };
  }

  private postfix(): Expr {
    let expr = this.primary();
    for (;;) {
      this.skipSpace();
      if (this.peek() === '.') {
        this.position++;
        expr = { kind: 'attribute', of: expr, name: this.identifier() };
      } else if (this.peek() === '[') {
        this.position++;
        if (this.peek() === '*') this.fail('splat expressions are not supported');
        const key = this.expression();
        this.expect(']');
        expr = { kind: 'index', of: expr, key };
      } else {
        return expr;
      }
    }
  }

  private identifier(): string {
    this.skipSpace();
    const match = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(this.text.slice(this.position));
    if (!match) this.fail('expected a name');
    this.position += match[0].length;
    return match[0];
  }

  private primary(): Expr {
    this.skipSpace();
    const char = this.peek();
    if (char === '"') {
      this.position++;
      return this.template('"');
    }
    if (char === '(') {
      this.position++;
      const inner = this.expression();
      this.expect(')');
      return inner;
    }
    if (char === '[') {
      this.position++;
      this.skipSpace();
      if (/^for\s/.test(this.text.slice(this.position))) this.fail('for expressions are not supported');
      return { kind: 'list', items: this.items(']') };
    }
    const number = /^\d+(\.\d+)?/.exec(this.text.slice(this.position));
    if (number) {
      this.position += number[0].length;
      return { kind: 'literal', value: Number(number[0]) };
    }
    if (!/[A-Za-z_]/.test(char)) this.fail(`unsupported syntax "${char}"`);
    const name = this.identifier();
    const keywords: Record<string, Value> = { null: null, true: true, false: false };
    if (name in keywords) return { kind: 'literal', value: keywords[name] ?? null };
    this.skipSpace();
    if (this.peek() === '(') {
      this.position++;
      return { kind: 'call', name, args: this.items(')') };
    }
    return { kind: 'name', name };
  }

  /** Comma-separated expressions up to the closing bracket (a trailing comma is allowed). */
  private items(close: string): Expr[] {
    const items: Expr[] = [];
    for (;;) {
      this.skipSpace();
      if (this.peek() === close) {
        this.position++;
        return items;
      }
      items.push(this.expression());
      this.skipSpace();
      if (this.peek() === ',') this.position++;
      else if (this.peek() !== close) this.fail(`expected "," or "${close}"`);
    }
  }
}

function describe(value: Value): string {
  if (value instanceof LazyObject) return value.what;
  if (Array.isArray(value)) return 'a list';
  return value === null ? 'null' : typeof value;
}

/** Terraform's own functions, those the policies need. */
const FUNCTIONS: Record<string, (args: Value[]) => Value> = {
  replace([text, search, replacement]) {
    if (typeof text !== 'string' || typeof search !== 'string' || typeof replacement !== 'string')
      throw new Error('replace() takes three strings');
    if (search.length > 1 && search.startsWith('/') && search.endsWith('/'))
      throw new Error('replace() with a regular expression is not supported');
    return text.replaceAll(search, replacement);
  },
  toset([list]) {
    if (!Array.isArray(list)) throw new Error(`toset() takes a list, not ${describe(list ?? null)}`);
    return [...new Set(list.map((item) => asString(item)))];
  },
};

function asString(value: Value): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new Error(`expected a string, got ${describe(value)}`);
}

function equal(a: Value, b: Value): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function run(expr: Expr, scope: Scope): Value {
  switch (expr.kind) {
    case 'literal':
      return expr.value;
    case 'template': {
      const [only] = expr.parts;
      // A template that is one interpolation keeps the value's type (a list stays a list).
      if (expr.parts.length === 1 && typeof only === 'object') return run(only, scope);
      return expr.parts
        .map((part) => (typeof part === 'string' ? part : asString(run(part, scope))))
        .join('');
    }
    case 'name':
      return scope(expr.name);
    case 'attribute': {
      const of = run(expr.of, scope);
      if (of instanceof LazyObject) return of.attribute(expr.name);
      if (of && typeof of === 'object' && !Array.isArray(of) && Object.hasOwn(of, expr.name))
        return of[expr.name] ?? null;
      throw new Error(`${describe(of)} has no attribute "${expr.name}"`);
    }
    case 'index': {
      const of = run(expr.of, scope);
      const key = run(expr.key, scope);
      if (Array.isArray(of) && typeof key === 'number' && key in of) return of[key] ?? null;
      if (of instanceof LazyObject) return of.attribute(asString(key));
      if (of && typeof of === 'object' && !Array.isArray(of) && Object.hasOwn(of, asString(key)))
        return of[asString(key)] ?? null;
      throw new Error(`${describe(of)} has no element ${JSON.stringify(key)}`);
    }
    case 'call': {
      const fn = FUNCTIONS[expr.name];
      if (!fn) throw new Error(`function ${expr.name}() is not supported`);
      return fn(expr.args.map((arg) => run(arg, scope)));
    }
    case 'list':
      return expr.items.map((item) => run(item, scope));
    case 'compare': {
      const same = equal(run(expr.left, scope), run(expr.right, scope));
      return expr.op === '==' ? same : !same;
    }
    case 'conditional': {
      const test = run(expr.test, scope);
      if (typeof test !== 'boolean')
        throw new Error(`a condition must be true or false, not ${describe(test)}`);
      return run(test ? expr.then : expr.else, scope);
    }
  }
}

/** A reference that could not be resolved, named with the file and expression where it failed. */
export class ExpressionError extends Error {}

/**
 * The value of one hcl2json value: strings are templates, lists and objects are evaluated element by
 * element. An error names `where` (a file) and the innermost expression that could not be evaluated.
 */
export function evaluate(raw: unknown, scope: Scope, where: string): Value {
  if (typeof raw === 'string') {
    if (!raw.includes('${') && !raw.includes('%{')) return raw;
    try {
      return run(new Parser(raw).topLevel(), scope);
    } catch (error) {
      if (error instanceof ExpressionError) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      throw new ExpressionError(`${where}: ${raw}: ${reason}`, { cause: error });
    }
  }
  if (Array.isArray(raw)) return raw.map((item) => evaluate(item, scope, where));
  if (raw && typeof raw === 'object')
    return Object.fromEntries(Object.entries(raw).map(([key, item]) => [key, evaluate(item, scope, where)]));
  if (raw === undefined) throw new ExpressionError(`${where}: missing value`);
  return raw as Value;
}
