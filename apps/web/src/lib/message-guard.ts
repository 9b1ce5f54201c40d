import type { ServerMessage } from '@thumbs/model';

/*
 * A hand-written structural check of the WebSocket messages, instead of TypeBox's Value.Check: the TypeBox
 * checker would add ~70 KB (gzip) to the page's first-load JavaScript. It checks every field the dashboard
 * reads, with its type; the unit tests hold it to the TypeBox schema (it accepts all that the schema does).
 */

type Guard = (value: unknown) => boolean;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const str: Guard = (v) => typeof v === 'string';
const count: Guard = (v) => Number.isInteger(v) && (v as number) >= 0;
const num: Guard = (v) => typeof v === 'number' && Number.isFinite(v);
const bool: Guard = (v) => typeof v === 'boolean';
const orNull =
  (guard: Guard): Guard =>
  (v) =>
    v === null || guard(v);
const oneOf =
  (...options: string[]): Guard =>
  (v) =>
    typeof v === 'string' && options.includes(v);
const arrayOf =
  (guard: Guard): Guard =>
  (v) =>
    Array.isArray(v) && v.every(guard);
const shape =
  (fields: Record<string, Guard>): Guard =>
  (v) =>
    isObject(v) && Object.entries(fields).every(([name, guard]) => guard(v[name]));

const thumbnail = shape({
  key: str,
  url: str,
  frame: oneOf('10%', '50%', '95%'),
  source: str,
  lastModified: str,
  size: count,
});
const queuePoint = shape({ time: str, depth: count, inFlight: count });
const queue = shape({ depth: count, inFlight: count, dlqDepth: count, history: arrayOf(queuePoint) });
const pod = shape({
  name: str,
  status: oneOf('Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'),
  ready: bool,
  restarts: count,
  startedAt: orNull(str),
  node: orNull(str),
  cpu: orNull(num),
  memory: orNull(num),
});
const job = shape({
  source: str,
  status: oneOf('queued', 'processing', 'done', 'failed'),
  attempts: count,
  uploadedAt: orNull(str),
  startedAt: orNull(str),
  finishedAt: orNull(str),
  processingMs: orNull(num),
  latencyMs: orNull(num),
  worker: orNull(str),
  error: orNull(str),
});
const dlqEntry = shape({
  messageId: str,
  source: orNull(str),
  receiveCount: count,
  sentAt: orNull(str),
  error: orNull(str),
});
const metrics = shape({
  thumbnails: count,
  videosDone: count,
  videosFailed: count,
  queueDepth: count,
  inFlight: count,
  dlqDepth: count,
  podsRunning: count,
  podsTotal: count,
  storageBytes: count,
  throughputPerMinute: (v) => num(v) && (v as number) >= 0,
  latencyP50Ms: orNull(num),
  latencyP95Ms: orNull(num),
  processingP50Ms: orNull(num),
});
const sourceStatus = shape({ ok: bool, error: orNull(str), checkedAt: orNull(str) });
const sources = shape({ sqs: sourceStatus, s3: sourceStatus, pods: sourceStatus });
const series = shape({
  slotMs: count,
  capacity: count,
  start: str,
  done: arrayOf(count),
  failed: arrayOf(count),
  latencyP50Ms: arrayOf(orNull(num)),
  latencyP95Ms: arrayOf(orNull(num)),
  depth: arrayOf(count),
  inFlight: arrayOf(count),
});
const history = shape({ fine: series, coarse: series });
const historyPoint = shape({
  time: str,
  done: count,
  failed: count,
  latencyP50Ms: orNull(num),
  latencyP95Ms: orNull(num),
  depth: count,
  inFlight: count,
});
const backfill = shape({ unprocessed: orNull(count), queued: count, sweptAt: orNull(str) });
const state = shape({
  metrics,
  queue,
  pods: arrayOf(pod),
  thumbnails: arrayOf(thumbnail),
  jobs: arrayOf(job),
  dlq: arrayOf(dlqEntry),
  sources,
  backfill,
  history,
  generatedAt: str,
});

const MESSAGES: Record<ServerMessage['type'], Guard> = {
  snapshot: shape({ state }),
  queue: shape({ queue }),
  pods: shape({ pods: arrayOf(pod) }),
  thumbnails: shape({ added: arrayOf(thumbnail), removed: arrayOf(str) }),
  job: shape({ job }),
  dlq: shape({ dlq: arrayOf(dlqEntry) }),
  metrics: shape({ metrics }),
  sources: shape({ sources }),
  purged: () => true,
  removed: shape({ source: str }),
  backfill: shape({ backfill }),
  history: shape({ fine: arrayOf(historyPoint), coarse: arrayOf(historyPoint) }),
  heartbeat: shape({ time: str }),
  pong: (v) => isObject(v) && (v.id === undefined || str(v.id)),
  error: shape({ message: str }),
};

export function isServerMessage(value: unknown): value is ServerMessage {
  if (!isObject(value) || typeof value.type !== 'string' || !Object.hasOwn(MESSAGES, value.type))
    return false;
  return MESSAGES[value.type as ServerMessage['type']](value);
}
