/**
 * S3's conditional writes, which the emulator ignores: a PutObject with `If-None-Match: *` succeeds only if
 * the key does not exist, one with `If-Match: <ETag>` only if the object still has that ETag. The endpoint
 * checks the condition and performs the write with no other conditional write to the same key in between,
 * so two writers racing for the same key cannot both win (a lease, for example).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { AwsErrorSpec } from './aws-auth/aws-errors.ts';

const header = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
};

export function isConditionalWrite(headers: IncomingHttpHeaders): boolean {
  return header(headers, 'if-none-match') !== undefined || header(headers, 'if-match') !== undefined;
}

const unquoted = (eTag: string) => eTag.trim().replace(/^W\//, '').replace(/"/g, '');

/** Why the write must not happen (AWS's error), or undefined when its condition holds. */
export function failedCondition(
  headers: IncomingHttpHeaders,
  current: { eTag: string } | undefined,
  key: string,
): AwsErrorSpec | undefined {
  const noneMatch = header(headers, 'if-none-match');
  const match = header(headers, 'if-match');
  const failed = (condition: string): AwsErrorSpec => ({
    status: 412,
    code: 'PreconditionFailed',
    message: 'At least one of the pre-conditions you specified did not hold',
    details: { Condition: condition },
  });
  if (noneMatch !== undefined) {
    if (noneMatch.trim() !== '*') {
      return {
        status: 501,
        code: 'NotImplemented',
        message: 'A header you provided implies functionality that is not implemented',
        details: { Header: 'If-None-Match' },
      };
    }
    if (current) return failed('If-None-Match');
  }
  if (match !== undefined) {
    if (!current)
      return { status: 404, code: 'NoSuchKey', message: 'The specified key does not exist.', key };
    if (unquoted(match) !== unquoted(current.eTag)) return failed('If-Match');
  }
  return undefined;
}

/** Runs tasks for the same key one after the other. */
export class KeyLocks {
  readonly #tails = new Map<string, Promise<void>>();

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const before = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const tail = new Promise<void>((resolve) => (release = resolve));
    this.#tails.set(key, tail);
    await before;
    try {
      return await task();
    } finally {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }
}
