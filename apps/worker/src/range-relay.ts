import { randomBytes } from 'node:crypto';
import {
  Agent as HttpAgent,
  createServer,
  get as httpGet,
  type ClientRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { Agent as HttpsAgent, get as httpsGet } from 'node:https';
import type { AddressInfo } from 'node:net';
import { basename } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pipeline } from 'node:stream/promises';
import { setNewest } from '@thumbs/runtime';
import { createWindowCache } from './window-cache.ts';

export interface RangeRelayOptions {
  /** Bytes fetched for a read that does not continue an earlier one (the first read, or after a seek). */
  minWindow?: number;
  /** The largest window: windows double while a reader keeps reading on from where the last one ended. */
  maxWindow?: number;
  /** Bytes of fetched windows kept to answer later reads of the same ranges (0: none). */
  cacheBytes?: number;
  /**
   * The ETag (unquoted) of the version the worker HEADed: an answer of any other version is refused with
   * 412, so ffmpeg reads one version only and no window of another joins the cache.
   */
  eTag?: string;
  /**
   * Milliseconds a storage read may go without receiving a byte before the relay gives up on it (a 502, or
   * the window cut short): a stalled storage is a storage error, retried, not the job's wall time running out.
   */
  stallMs?: number;
}

export interface RelayStats {
  /** Ranged GETs sent to the source. */
  requests: number;
  /** Body bytes received from the source. */
  bytes: number;
  /** Bytes answered from windows fetched earlier, without asking the source again. */
  reused: number;
  /**
   * Milliseconds readers waited on storage: from each fetch until its last byte, less the time the reader
   * was not keeping up (the transfer paused); summed over reads at the same time.
   */
  waitingMs: number;
}

export interface RangeRelay {
  /** http://127.0.0.1:<port>/<token>/<file name>: what ffmpeg and ffprobe read instead of the source URL. */
  url: string;
  stats(): RelayStats;
  /** True once storage answered with another version than `eTag`: the object was overwritten meanwhile. */
  superseded(): boolean;
  close(): Promise<void>;
}

export const DEFAULT_MIN_WINDOW = 256 * 1024;
export const DEFAULT_MAX_WINDOW = 8 * 1024 * 1024;
export const DEFAULT_CACHE_BYTES = 16 * 1024 * 1024;
export const DEFAULT_STALL_MS = 30_000;
/** Windows remembered for sequential reads (a few readers at once: ffprobe, then one per seek point). */
const REMEMBERED_READS = 32;

type ByteRange = { start: number; end: number | undefined };

/** `bytes=N-` or `bytes=N-M` (what ffmpeg sends); undefined when absent; null when unsupported. */
export function parseRange(header: string | undefined): ByteRange | undefined | null {
  if (header === undefined) return undefined;
  const match = /^bytes=(\d+)-(\d*)$/.exec(header.trim());
  if (!match) return null;
  const start = Number(match[1]);
  const end = match[2] ? Number(match[2]) : undefined;
  return end !== undefined && end < start ? null : { start, end };
}

/**
 * Serves one source URL on loopback to ffmpeg and ffprobe, answering every read with a bounded window.
 *
 * ffmpeg asks for open-ended ranges (`bytes=N-`) and drops the connection when it seeks, so a storage server
 * answering them streams megabytes into socket buffers that ffmpeg never reads. The relay fetches at most a
 * window per request with a bounded Range GET, and ends its 206 there; ffmpeg (with `-reconnect 1`) sees
 * the body end before the file size and asks again from that offset, for a window twice as large.
 *
 * ffprobe and each ffmpeg input read the same header and index (and with the index at the end, the same
 * tail), so fetched windows are kept in a small cache and later reads of those bytes are answered from it.
 */
export async function openRangeRelay(
  /** The source URL, or a function that gives a current one (presigned URLs are re-signed before they expire). */
  source: string | (() => Promise<string>),
  name: string,
  options: RangeRelayOptions = {},
): Promise<RangeRelay> {
  const minWindow = options.minWindow ?? DEFAULT_MIN_WINDOW;
  const maxWindow = Math.max(minWindow, options.maxWindow ?? DEFAULT_MAX_WINDOW);
  const path = `/${randomBytes(16).toString('hex')}/${encodeURIComponent(basename(name) || 'video')}`;
  const stats: RelayStats = { requests: 0, bytes: 0, reused: 0, waitingMs: 0 };
  const cacheBytes = options.cacheBytes ?? DEFAULT_CACHE_BYTES;
  const stallMs = options.stallMs ?? DEFAULT_STALL_MS;
  const cache = createWindowCache(cacheBytes);
  /** The source's size and type, known from its first answer (before that, nothing is cached). */
  let known: { total: number; type: string } | undefined;
  let superseded = false;
  /** Where each recent window ended → the window for a read that continues from there. */
  const nextWindows = new Map<number, number>();

  function windowAt(start: number): number {
    const window = nextWindows.get(start) ?? minWindow;
    nextWindows.delete(start);
    return window;
  }

  function remember(end: number, window: number): void {
    setNewest(nextWindows, end, Math.min(maxWindow, window * 2), REMEMBERED_READS);
  }

  // node:http rather than fetch: half the CPU per byte (measured relaying the 160 MB of three long-GOP
  // seeks: 2.1–2.4 s with fetch's web streams, mostly garbage collection; 1.1–1.4 s this way).
  const agents = {
    'http:': new HttpAgent({ keepAlive: true }),
    'https:': new HttpsAgent({ keepAlive: true }),
  };

  /**
   * A ranged GET of exactly the version probed (If-Match on its ETag): another version is S3's 412, and the
   * job is superseded rather than fed bytes of two versions.
   */
  async function fetchRange(range: string, signal: AbortSignal): Promise<IncomingMessage> {
    stats.requests++;
    const url = new URL(typeof source === 'string' ? source : await source());
    const headers = { range, ...(options.eTag ? { 'if-match': `"${options.eTag}"` } : {}) };
    const get = url.protocol === 'https:' ? httpsGet : httpGet;
    const agent = agents[url.protocol as keyof typeof agents];
    const answer = await new Promise<IncomingMessage>((resolve, reject) =>
      get(url, { headers, signal, agent, timeout: stallMs }, resolve)
        .on('timeout', function (this: ClientRequest) {
          this.destroy(new Error(`storage sent nothing for ${stallMs} ms`));
        })
        .on('error', reject),
    );
    if (answer.statusCode === 412) superseded = true;
    return answer;
  }

  async function relay(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.url !== path) return reply(res, 404, 'not found');
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, 'only GET and HEAD');
    const range = parseRange(req.headers.range);
    if (range === null) return reply(res, 416, `unsupported range ${req.headers.range}`);
    const aborted = new AbortController();
    res.on('close', () => aborted.abort());

    if (req.method === 'HEAD') {
      const probe = await fetchRange('bytes=0-0', aborted.signal);
      probe.resume();
      const total = totalSize(probe.headers['content-range']);
      const status = probe.statusCode ?? 502;
      if (status !== 206 || total === undefined) return reply(res, upstreamStatus(status), '');
      res.writeHead(200, { 'Content-Length': total, 'Accept-Ranges': 'bytes', Connection: 'close' });
      return void res.end();
    }

    const start = range?.start ?? 0;
    const window = windowAt(start);
    const cached = known && cache.read(start, Math.min(range?.end ?? Infinity, known.total - 1) - start + 1);
    if (known && cached) {
      stats.reused += cached.length;
      remember(start + cached.length, window);
      res.writeHead(206, {
        'Content-Range': `bytes ${start}-${start + cached.length - 1}/${known.total}`,
        'Content-Length': cached.length,
        'Content-Type': known.type,
        'Accept-Ranges': 'bytes',
        Connection: 'close',
      });
      return void res.end(cached);
    }

    // Stop short of bytes already cached: the reader asks again from there and gets them from the cache.
    const end = Math.min(range?.end ?? Infinity, start + window - 1, cache.nextStart(start) - 1);
    const asked = performance.now();
    const upstream = await fetchRange(`bytes=${start}-${end}`, aborted.signal);
    const contentRange = upstream.headers['content-range'];
    const status = upstream.statusCode ?? 502;
    if (status !== 206 || !contentRange) {
      // The same status (403, 404, 416…) so that ffmpeg's error says what the storage said.
      upstream.resume();
      return reply(res, upstreamStatus(status), `source answered ${status}`);
    }
    const lastByte = Number(/^bytes \d+-(\d+)\//.exec(contentRange)?.[1]);
    if (Number.isFinite(lastByte)) remember(lastByte + 1, window);
    const type = upstream.headers['content-type'] ?? 'application/octet-stream';
    const total = totalSize(contentRange);
    if (total !== undefined) known ??= { total, type };
    const length = upstream.headers['content-length'];
    res.writeHead(206, {
      'Content-Range': contentRange,
      ...(length ? { 'Content-Length': length } : {}),
      'Content-Type': type,
      'Accept-Ranges': 'bytes',
      // ffmpeg opens a new connection for every request anyway; closing is what tells it the window ended.
      Connection: 'close',
    });
    countWaiting(upstream, asked, (ms) => (stats.waitingMs += ms));
    let at = start;
    upstream.on('data', (chunk: Buffer) => {
      stats.bytes += chunk.length;
      // Kept as they come, chunk by chunk: even a window the reader hangs up on is worth keeping as far as
      // it came, and joining each window into one buffer cost more CPU (fresh pages) than relaying it.
      if (known) cache.add(at, chunk);
      at += chunk.length;
    });
    await pipeline(upstream, res);
  }

  const server = createServer((req, res) => {
    relay(req, res).catch(() => {
      // The reader hung up (the fetch was aborted) or the source failed: either way this response is over.
      if (!res.headersSent) reply(res, 502, 'could not read the source');
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${path}`,
    stats: () => ({ ...stats }),
    superseded: () => superseded,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        agents['http:'].destroy();
        agents['https:'].destroy();
        server.close(() => resolve());
      }),
  };
}

/** Reports the milliseconds from `asked` until `body` ends, less those it spent paused by its reader. */
function countWaiting(body: IncomingMessage, asked: number, report: (ms: number) => void): void {
  let paused = 0;
  let pausedAt: number | undefined;
  body.on('pause', () => (pausedAt ??= performance.now()));
  body.on('resume', () => {
    if (pausedAt !== undefined) paused += performance.now() - pausedAt;
    pausedAt = undefined;
  });
  body.once('close', () => {
    const now = performance.now();
    report(now - asked - paused - (pausedAt === undefined ? 0 : now - pausedAt));
  });
}

/** Storage errors pass through; a 200 to a ranged GET (a server ignoring ranges) is not usable here. */
function upstreamStatus(status: number): number {
  return status >= 400 ? status : 502;
}

function totalSize(contentRange: string | undefined): number | undefined {
  const total = Number(/\/(\d+)$/.exec(contentRange ?? '')?.[1]);
  return Number.isFinite(total) ? total : undefined;
}

function reply(res: ServerResponse, status: number, message: string): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'Content-Type': 'text/plain', Connection: 'close' });
  res.end(message);
}
