import {
  conforms,
  mergeHistoryPoints,
  SERVER_MESSAGE_JSON_SCHEMA,
  type Job,
  type PipelineState,
  type ServerMessage,
} from '@thumbs/model';

/** How many recent jobs the dashboard keeps; older ones stay available from GET /api/jobs. */
export const MAX_JOBS = 200;

/** Parses one WebSocket frame; anything that is not a valid ServerMessage is dropped (undefined). */
export function parseServerMessage(data: unknown): ServerMessage | undefined {
  if (typeof data !== 'string') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return undefined;
  }
  return conforms(SERVER_MESSAGE_JSON_SCHEMA, value) ? (value as ServerMessage) : undefined;
}

/**
 * The dashboard's state reducer: the snapshot replaces everything, each update replaces or merges its part.
 * Updates that arrive before the first snapshot have nothing to apply to and are ignored.
 */
export function applyMessage(state: PipelineState | null, msg: ServerMessage): PipelineState | null {
  if (msg.type === 'snapshot') return msg.state;
  if (state === null) return null;
  switch (msg.type) {
    case 'queue':
      return { ...state, queue: msg.queue };
    case 'pods':
      return { ...state, pods: msg.pods };
    case 'thumbnails':
      return { ...state, thumbnails: mergeThumbnails(state.thumbnails, msg.added, msg.removed) };
    case 'job':
      return { ...state, jobs: upsertJob(state.jobs, msg.job) };
    case 'dlq':
      return { ...state, dlq: msg.dlq };
    case 'metrics':
      return { ...state, metrics: msg.metrics };
    case 'sources':
      return { ...state, sources: msg.sources };
    case 'backfill':
      return { ...state, backfill: msg.backfill };
    case 'history':
      return {
        ...state,
        history: {
          fine: mergeHistoryPoints(state.history.fine, msg.fine),
          coarse: mergeHistoryPoints(state.history.coarse, msg.coarse),
        },
      };
    case 'purged':
      return { ...state, thumbnails: [], jobs: [] };
    case 'removed':
      return {
        ...state,
        thumbnails: state.thumbnails.filter((t) => t.source !== msg.source),
        jobs: state.jobs.filter((j) => j.source !== msg.source),
        dlq: state.dlq.filter((d) => d.source !== msg.source),
      };
    default:
      return state;
  }
}

function mergeThumbnails(
  current: PipelineState['thumbnails'],
  added: PipelineState['thumbnails'],
  removed: string[],
): PipelineState['thumbnails'] {
  if (added.length === 0 && removed.length === 0) return current;
  const drop = new Set([...removed, ...added.map((t) => t.key)]);
  // Newest first, as in the snapshot; a re-added key (a re-processed video) moves to the front with its new URL.
  return [...added, ...current.filter((t) => !drop.has(t.key))];
}

function upsertJob(jobs: Job[], job: Job): Job[] {
  const index = jobs.findIndex((j) => j.source === job.source);
  if (index >= 0) return jobs.map((j, i) => (i === index ? job : j));
  return [job, ...jobs].slice(0, MAX_JOBS);
}
