/**
 * The dead letters, read from the workers' failure records rather than from the DLQ: receiving DLQ messages to
 * look at them hides them from the DLQ's visible count (what the CloudWatch alarm watches) and from every
 * other reader. A record whose last attempt was final (the receive limit, or a failure no retry can fix) is
 * a dead letter until a message move task that started after it has emptied the DLQ.
 */
import { failureSource, isPermanentFailure, type DlqEntry, type FailureRecord } from '@thumbs/model';
import type { Logger } from '@thumbs/runtime';
import type { Bucket } from './bucket.ts';

/** The panel shows the newest; the DLQ's attributes give the full count. */
export const DEAD_LETTERS_SHOWN = 100;
/** Failure records listed per look (1000 per request): bounds the cost of a look at any bucket size. */
const MAX_RECORDS_LISTED = 5000;

export interface DeadLettersOptions {
  bucket: Bucket;
  failurePrefix: string;
  maxReceiveCount: number;
  log: Logger;
}

interface Listed {
  key: string;
  eTag: string;
  lastModified: number;
}

export function isDeadLetter(record: FailureRecord, maxReceiveCount: number): boolean {
  return record.attempt >= maxReceiveCount || (record.kind !== undefined && isPermanentFailure(record.kind));
}

export class DeadLetters {
  private readonly options: DeadLettersOptions;
  /** Records already read, by key and ETag (a record is rewritten at each failure). */
  private readonly records = new Map<string, { eTag: string; record: FailureRecord | undefined }>();

  constructor(options: DeadLettersOptions) {
    this.options = options;
  }

  /** The newest dead letters that failed after `since` (ms; the start of the last complete redrive). */
  async list(since: number): Promise<DlqEntry[]> {
    const listed = (await this.listRecords()).filter((r) => r.lastModified >= since);
    listed.sort((a, b) => b.lastModified - a.lastModified);
    const entries: DlqEntry[] = [];
    for (const item of listed) {
      if (entries.length >= DEAD_LETTERS_SHOWN) break;
      const record = await this.read(item);
      if (!record || !isDeadLetter(record, this.options.maxReceiveCount)) continue;
      entries.push({
        messageId: item.key,
        source: record.source,
        receiveCount: record.attempt,
        sentAt: Number.isNaN(Date.parse(record.time)) ? null : new Date(record.time).toISOString(),
        error: record.error,
        errorKind: record.kind ?? null,
      });
    }
    const keep = new Set(listed.map((r) => r.key));
    for (const key of this.records.keys()) if (!keep.has(key)) this.records.delete(key);
    return entries;
  }

  private async listRecords(): Promise<Listed[]> {
    const listed: Listed[] = [];
    for await (const page of this.options.bucket.listPages(this.options.failurePrefix)) {
      for (const object of page.objects) {
        if (!object.Key) continue;
        listed.push({
          key: object.Key,
          eTag: object.ETag ?? '',
          lastModified: object.LastModified?.getTime() ?? 0,
        });
      }
      if (listed.length >= MAX_RECORDS_LISTED) break;
    }
    return listed;
  }

  private async read(item: Listed): Promise<FailureRecord | undefined> {
    const known = this.records.get(item.key);
    if (known && known.eTag === item.eTag) return known.record;
    const source = failureSource(item.key, this.options.failurePrefix);
    if (source === undefined) return undefined;
    try {
      const record = await this.options.bucket.readFailure(source);
      this.records.set(item.key, { eTag: item.eTag, record });
      return record;
    } catch (error) {
      this.options.log.warn({ err: error, source }, 'could not read failure record');
      return undefined;
    }
  }
}
