import type { _Object } from '@aws-sdk/client-s3';
import { FRAMES, parseThumbnailKey, type FrameLabel } from '@thumbs/model';
import type { IndexEntry, ThumbnailIndex } from '../state/thumbnail-index.ts';
import { compareKeys, type Bucket } from './bucket.ts';

export interface PageQuery {
  source?: string;
  frame?: FrameLabel;
  limit: number;
  cursor?: string;
}

export interface Page {
  entries: IndexEntry[];
  nextCursor: string | null;
}

export class InvalidCursorError extends Error {}

/** ListObjectsV2 requests one page may cost: a frame filter skips two keys in three, junk keys more. */
const MAX_REQUESTS_PER_PAGE = 3;
/** S3 keys are at most 1024 bytes of UTF-8: a longer prefix matches nothing. */
const MAX_KEY_BYTES = 1024;

/** A listed object as an index entry, if it is a thumbnail. */
export function thumbnailEntry(object: _Object, thumbnailPrefix: string): IndexEntry | undefined {
  const parsed = object.Key ? parseThumbnailKey(object.Key, thumbnailPrefix) : undefined;
  if (!object.Key || !parsed) return undefined;
  return {
    key: object.Key,
    source: parsed.source,
    frame: parsed.frame,
    lastModified: object.LastModified?.getTime() ?? 0,
    size: object.Size ?? 0,
  };
}

/** The cursor that goes on after `key`: opaque to clients, S3's StartAfter to us, valid on every replica. */
export function cursorAfter(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string, prefix: string): string {
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  if (cursorAfter(key) !== cursor || !key.startsWith(prefix))
    throw new InvalidCursorError('cursor is not one this API returned for this query');
  return key;
}

/**
 * One page of thumbnails straight from the S3 listing, in S3's key order (a video's frames together),
 * filtered by video and frame. A video is one prefix, so its page is one request, and none when `recent`
 * holds all its frames; any page costs at most MAX_REQUESTS_PER_PAGE requests, and ends early (with a cursor)
 * rather than cost more.
 */
export async function listThumbnailPage(
  bucket: Bucket,
  thumbnailPrefix: string,
  query: PageQuery,
  recent?: ThumbnailIndex,
): Promise<Page> {
  const kept = query.source === undefined || query.cursor ? [] : (recent?.ofSource(query.source) ?? []);
  if (kept.length === FRAMES.length) {
    const entries = kept.filter((e) => query.frame === undefined || e.frame === query.frame);
    return {
      entries: entries.sort((a, b) => compareKeys(a.key, b.key)).slice(0, query.limit),
      nextCursor: null,
    };
  }
  const prefix = query.source === undefined ? thumbnailPrefix : `${thumbnailPrefix}${query.source}/`;
  const startAfter = query.cursor === undefined ? undefined : decodeCursor(query.cursor, prefix);
  // No object can have such a key; a lone surrogate could not even be sent.
  if (/\p{Surrogate}/u.test(prefix) || Buffer.byteLength(prefix) >= MAX_KEY_BYTES)
    return { entries: [], nextCursor: null };
  const entries: IndexEntry[] = [];
  let last: string | undefined;
  let more = false;
  let requests = 0;
  // One more key than a full page needs tells whether more follow.
  const maxKeys = Math.min(1000, query.limit * (query.frame ? 3 : 1) + 1);
  listing: for await (const page of bucket.listPages(prefix, { startAfter, maxKeys })) {
    requests++;
    for (const object of page.objects) {
      if (entries.length === query.limit) {
        more = true;
        break listing;
      }
      last = object.Key;
      const entry = thumbnailEntry(object, thumbnailPrefix);
      if (!entry || (query.source !== undefined && entry.source !== query.source)) continue;
      if (query.frame === undefined || entry.frame === query.frame) entries.push(entry);
    }
    more = page.truncated;
    if (!more || entries.length === query.limit || requests === MAX_REQUESTS_PER_PAGE) break;
  }
  return { entries, nextCursor: more && last !== undefined ? cursorAfter(last) : null };
}
