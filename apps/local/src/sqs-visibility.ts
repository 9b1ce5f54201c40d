/**
 * Works around an emulator bug: with persistence on, fauxqs loses a message whose visibility timeout is
 * changed to 0 (its SQLite update violates a NOT NULL constraint after the message has left the in-flight
 * set). Clients use 0 to release a message at once (a worker's SIGTERM, a DLQ peek), so the proxy turns
 * 0 into 1 second: the message comes back a second later instead of never.
 */
import type { IncomingHttpHeaders } from 'node:http';

const TARGETS = new Set(['AmazonSQS.ChangeMessageVisibility', 'AmazonSQS.ChangeMessageVisibilityBatch']);

export function isVisibilityChange(headers: IncomingHttpHeaders): boolean {
  return TARGETS.has(String(headers['x-amz-target'] ?? ''));
}

interface VisibilityEntry {
  VisibilityTimeout?: unknown;
}

function lift(entry: VisibilityEntry): void {
  if (entry.VisibilityTimeout === 0) entry.VisibilityTimeout = 1;
}

/** The request body with every zero visibility timeout raised to 1 s; unparseable bodies pass unchanged. */
export function withoutZeroVisibility(body: string): string {
  let parsed: VisibilityEntry & { Entries?: unknown };
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch {
    return body;
  }
  if (typeof parsed !== 'object' || parsed === null) return body;
  lift(parsed);
  if (Array.isArray(parsed.Entries)) {
    for (const entry of parsed.Entries) if (typeof entry === 'object' && entry !== null) lift(entry);
  }
  return JSON.stringify(parsed);
}
