/**
 * S3 lists keys in UTF-8 byte order. fauxqs 2.4 sorts them with `localeCompare` but skips past the marker by
 * UTF-16 comparison, so with mixed-case keys a page comes out of S3's order and the next page can skip keys
 * ("B" sorts after "a" there, and is then skipped as ≤ "a"). Its store's listing is replaced by one in byte
 * order throughout, before an emulator starts.
 */
import { Buffer } from 'node:buffer';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

interface StoredObject {
  key: string;
}

interface ListOptions {
  prefix?: string;
  delimiter?: string;
  maxKeys?: number;
  startAfter?: string;
  marker?: string;
}

interface S3StoreLike {
  buckets: Map<string, Map<string, StoredObject>>;
  listObjects(bucket: string, options?: ListOptions): unknown;
}

export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/**
 * A string whose UTF-16 order is `key`'s UTF-8 byte order (code point order): the two differ only where a
 * surrogate meets a character from U+E000 on, so those code units swap places. Most keys come back as they
 * are, and a sort compares plain strings (a big bucket's listing sorts every key of it).
 */
export function sortable(key: string): string {
  if (!/[\uD800-\uFFFF]/.test(key)) return key;
  let out = '';
  for (let i = 0; i < key.length; i++) {
    const unit = key.charCodeAt(i);
    out += String.fromCharCode(unit >= 0xe000 ? unit - 0x800 : unit >= 0xd800 ? unit + 0x2000 : unit);
  }
  return out;
}

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function listInByteOrder(
  this: S3StoreLike,
  original: S3StoreLike['listObjects'],
  bucket: string,
  options?: ListOptions,
) {
  const stored = this.buckets.get(bucket);
  if (!stored) return original.call(this, bucket, options);
  const prefix = options?.prefix ?? '';
  const delimiter = options?.delimiter;
  const maxKeys = options?.maxKeys ?? 1000;
  const startAfter = options?.startAfter ?? options?.marker ?? '';
  const start = startAfter === '' ? undefined : sortable(startAfter);
  const after = (sorted: string) => start === undefined || sorted > start;
  const candidates = [...stored.values()]
    .filter((object) => object.key.startsWith(prefix))
    .map((object) => ({ object, sorted: sortable(object.key) }))
    .filter((candidate) => after(candidate.sorted))
    .sort((a, b) => byString(a.sorted, b.sorted))
    .map((candidate) => candidate.object);
  const objects: StoredObject[] = [];
  const commonPrefixes = new Set<string>();
  let isTruncated = false;
  for (const object of candidates) {
    const rest = object.key.slice(prefix.length);
    const cut = delimiter ? rest.indexOf(delimiter) : -1;
    const common = cut >= 0 ? prefix + rest.slice(0, cut + delimiter!.length) : undefined;
    if (common !== undefined && (commonPrefixes.has(common) || !after(sortable(common)))) continue;
    if (objects.length + commonPrefixes.size >= maxKeys) {
      isTruncated = true;
      break;
    }
    if (common === undefined) objects.push(object);
    else commonPrefixes.add(common);
  }
  return {
    objects,
    commonPrefixes: [...commonPrefixes].sort((a, b) => byString(sortable(a), sortable(b))),
    isTruncated,
  };
}

let patched: Promise<void> | undefined;

/** Makes every fauxqs S3 store of this process list in S3's byte order (once; later calls wait for it). */
export function useS3ListingOrder(): Promise<void> {
  patched ??= (async () => {
    // The store is not among the package's exports: load its module by path, the same instance fauxqs uses.
    const entry = fileURLToPath(import.meta.resolve('fauxqs'));
    const url = pathToFileURL(join(dirname(entry), 's3', 's3Store.js')).href;
    const { S3Store } = (await import(url)) as { S3Store: { prototype: S3StoreLike } };
    const original = S3Store.prototype.listObjects;
    S3Store.prototype.listObjects = function (this: S3StoreLike, bucket, options) {
      return listInByteOrder.call(this, original, bucket, options);
    };
  })();
  return patched;
}
