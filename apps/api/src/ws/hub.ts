import { ClientMessageSchema, type ServerMessage, type Thumbnail } from '@thumbs/model';
import type { Logger } from '@thumbs/runtime';
import { Compile } from 'typebox/compile';
import type { WebSocket } from 'ws';
import type { StateStore } from '../state/store.ts';

const checkClientMessage = Compile(ClientMessageSchema);

export interface HubOptions {
  store: StateStore;
  log: Logger;
  heartbeatMs: number;
  /** Above this many unsent bytes a client gets coalesced updates instead of every one. */
  highWaterBytes?: number;
  /** Above this many unsent bytes, or this long behind, a client is too slow and is closed. */
  closeBytes?: number;
  maxLagMs?: number;
  /** More pending thumbnail changes than this are replaced by one fresh snapshot. */
  maxPendingThumbnails?: number;
  /** A client that sends more requests than this while it is behind (not reading the answers) is closed. */
  maxUnreadRequests?: number;
}

interface PendingThumbnails {
  added: Map<string, Thumbnail>;
  removed: Set<string>;
}

type Pending = { kind: 'message'; message: ServerMessage } | { kind: 'thumbnails'; value: PendingThumbnails };

interface Client {
  socket: WebSocket;
  ip: string;
  alive: boolean;
  /** Updates not sent yet, at most one per kind (per video for jobs), in the order they must go out. */
  pending: Map<string, Pending>;
  behindSince: number | undefined;
  needsSnapshot: boolean;
  sendingSnapshot: boolean;
  /** Requests received in a row while the client was behind. */
  unreadRequests: number;
}

export interface HubStats {
  clients: number;
  coalesced: number;
  slowClosed: number;
}

function coalesceKey(message: ServerMessage): string {
  return message.type === 'job' ? `job:${message.job.source}` : message.type;
}

/**
 * Every open dashboard connection. Each update is serialized once and written to every client that keeps up;
 * a client whose socket buffer is full gets, when it drains, only the latest update of each kind (thumbnail
 * changes merged), so a slow client costs bounded memory and never delays the others. Everything a client is
 * sent (snapshot, updates, answers to its requests) takes that one path, and nothing is written past
 * `closeBytes`: a client that stays hopelessly behind, or keeps asking without reading, is closed; it reconnects
 * and starts again from a snapshot, which always goes out before any update.
 */
export class WsHub {
  private readonly options: Required<HubOptions>;
  private readonly clients = new Set<Client>();
  private readonly perIp = new Map<string, number>();
  private readonly unsubscribe: () => void;
  private readonly flushTimer: NodeJS.Timeout;
  private readonly heartbeatTimer: NodeJS.Timeout;
  private coalesced = 0;
  private slowClosed = 0;

  get stats(): HubStats {
    return { clients: this.clients.size, coalesced: this.coalesced, slowClosed: this.slowClosed };
  }

  constructor(options: HubOptions) {
    this.options = {
      highWaterBytes: 256 * 1024,
      closeBytes: 16 * 1024 * 1024,
      maxLagMs: 30_000,
      maxPendingThumbnails: 2000,
      maxUnreadRequests: 100,
      ...options,
    };
    this.unsubscribe = options.store.subscribe((message) => this.broadcast(message));
    this.flushTimer = setInterval(() => this.flushAll(), 100);
    this.heartbeatTimer = setInterval(() => this.heartbeat(), options.heartbeatMs);
  }

  countFrom(ip: string): number {
    return this.perIp.get(ip) ?? 0;
  }

  /** Serves a new connection, unless its address already has `maxPerIp` (closed with 1013, try again later). */
  add(socket: WebSocket, ip: string, maxPerIp = Infinity): void {
    if (this.countFrom(ip) >= maxPerIp) {
      socket.close(1013, 'too many connections from this address');
      return;
    }
    const client: Client = {
      socket,
      ip,
      alive: true,
      pending: new Map(),
      behindSince: undefined,
      needsSnapshot: true,
      sendingSnapshot: false,
      unreadRequests: 0,
    };
    this.clients.add(client);
    this.perIp.set(ip, this.countFrom(ip) + 1);
    socket.on('pong', () => (client.alive = true));
    socket.on('message', (data, isBinary) => this.receive(client, data, isBinary));
    socket.on('close', () => this.remove(client));
    socket.on('error', (error) => this.options.log.debug({ err: error.message }, 'websocket error'));
    void this.flush(client);
  }

  /** Sends one update to every client, serialized once. */
  broadcast(message: ServerMessage): void {
    let text: string | undefined;
    const serialized = () => (text ??= JSON.stringify(message));
    for (const client of this.clients) this.send(client, message, serialized);
  }

  close(): void {
    this.unsubscribe();
    clearInterval(this.flushTimer);
    clearInterval(this.heartbeatTimer);
    for (const client of this.clients) client.socket.close(1001, 'server shutting down');
    this.clients.clear();
    this.perIp.clear();
  }

  /** Forgets a client once (its close event may follow a terminate that already removed it). */
  private remove(client: Client): void {
    if (!this.clients.delete(client)) return;
    const count = this.countFrom(client.ip) - 1;
    if (count > 0) this.perIp.set(client.ip, count);
    else this.perIp.delete(client.ip);
  }

  /** Nothing waits to go out before the next message (no snapshot either), and the socket is draining. */
  private keepsUp(client: Client): boolean {
    return (
      client.pending.size === 0 &&
      !client.needsSnapshot &&
      !client.sendingSnapshot &&
      client.socket.bufferedAmount < this.options.highWaterBytes
    );
  }

  /** The one way a message reaches a client: written now if it keeps up, else coalesced behind what waits. */
  private send(client: Client, message: ServerMessage, serialized = () => JSON.stringify(message)): void {
    if (this.keepsUp(client)) this.write(client, serialized());
    else this.enqueue(client, message);
  }

  /** Writes `text`, unless that would take the client's unsent bytes past `closeBytes`: it is closed instead. */
  private write(client: Client, text: string): void {
    if (client.socket.readyState !== client.socket.OPEN) return;
    const { bufferedAmount } = client.socket;
    const { closeBytes } = this.options;
    // At most 3 UTF-8 bytes per UTF-16 unit: the exact count (a scan of the text) only near the limit.
    if (
      bufferedAmount + text.length * 3 > closeBytes &&
      bufferedAmount + Buffer.byteLength(text) > closeBytes
    ) {
      return this.closeSlow(client, 'closing a websocket client that cannot keep up');
    }
    client.socket.send(text, (error) => {
      if (error) this.options.log.debug({ err: error.message }, 'websocket send failed');
    });
  }

  private closeSlow(client: Client, reason: string): void {
    if (!this.clients.has(client)) return;
    this.slowClosed++;
    this.options.log.info({ ip: client.ip, bufferedAmount: client.socket.bufferedAmount }, reason);
    client.socket.terminate();
    this.remove(client);
  }

  private enqueue(client: Client, message: ServerMessage): void {
    client.behindSince ??= Date.now();
    if (client.needsSnapshot && message.type !== 'pong' && message.type !== 'error') return;
    this.coalesced++;
    const { pending } = client;
    if (message.type === 'purged') {
      for (const key of [...pending.keys()])
        if (key === 'thumbnails' || key.startsWith('job:')) pending.delete(key);
    }
    if (message.type === 'thumbnails') {
      const entry = pending.get('thumbnails');
      const merged =
        entry?.kind === 'thumbnails' ? entry.value : { added: new Map(), removed: new Set<string>() };
      for (const key of message.removed) {
        merged.added.delete(key);
        merged.removed.add(key);
      }
      for (const thumbnail of message.added) {
        merged.removed.delete(thumbnail.key);
        merged.added.set(thumbnail.key, thumbnail);
      }
      if (merged.added.size + merged.removed.size > this.options.maxPendingThumbnails) {
        client.pending.clear();
        client.needsSnapshot = true;
        return;
      }
      if (!entry) pending.set('thumbnails', { kind: 'thumbnails', value: merged });
      return;
    }
    const key = coalesceKey(message);
    pending.delete(key);
    pending.set(key, { kind: 'message', message });
  }

  private flushAll(): void {
    const now = Date.now();
    for (const client of this.clients) {
      if (client.behindSince !== undefined && now - client.behindSince > this.options.maxLagMs) {
        this.closeSlow(client, 'closing a websocket client that stayed behind');
      } else if (client.pending.size > 0 || client.needsSnapshot) {
        void this.flush(client);
      }
    }
  }

  private async flush(client: Client): Promise<void> {
    if (client.sendingSnapshot) return;
    if (client.needsSnapshot) {
      if (client.socket.bufferedAmount >= this.options.highWaterBytes) return;
      client.sendingSnapshot = true;
      client.needsSnapshot = false;
      try {
        const state = await this.options.store.snapshot();
        this.write(client, JSON.stringify({ type: 'snapshot', state } satisfies ServerMessage));
      } catch (error) {
        this.options.log.error({ err: error }, 'could not build a snapshot');
        client.needsSnapshot = true;
      } finally {
        client.sendingSnapshot = false;
      }
    }
    for (const [key, entry] of client.pending) {
      if (!this.clients.has(client) || client.socket.bufferedAmount >= this.options.highWaterBytes) return;
      client.pending.delete(key);
      const message: ServerMessage =
        entry.kind === 'message'
          ? entry.message
          : { type: 'thumbnails', added: [...entry.value.added.values()], removed: [...entry.value.removed] };
      this.write(client, JSON.stringify(message));
    }
    if (client.pending.size === 0 && !client.needsSnapshot) client.behindSince = undefined;
  }

  private receive(client: Client, data: unknown, isBinary: boolean): void {
    // Answers to a client that is behind are coalesced; one that keeps asking anyway is not reading them.
    client.unreadRequests = this.keepsUp(client) ? 0 : client.unreadRequests + 1;
    if (client.unreadRequests > this.options.maxUnreadRequests) {
      return this.closeSlow(client, 'closing a websocket client that sends requests without reading');
    }
    if (isBinary) return this.send(client, { type: 'error', message: 'binary messages are not supported' });
    let value: unknown;
    try {
      value = JSON.parse(String(data));
    } catch {
      return this.send(client, { type: 'error', message: 'message is not valid JSON' });
    }
    if (!checkClientMessage.Check(value)) {
      return this.send(client, {
        type: 'error',
        message: 'unknown message: expected {"type":"ping","id"?:string} or {"type":"resync"}',
      });
    }
    if (value.type === 'ping') {
      this.send(client, value.id === undefined ? { type: 'pong' } : { type: 'pong', id: value.id });
    } else {
      client.pending.clear();
      client.needsSnapshot = true;
      void this.flush(client);
    }
  }

  private heartbeat(): void {
    for (const client of this.clients) {
      if (!client.alive) {
        client.socket.terminate();
        this.remove(client);
        continue;
      }
      client.alive = false;
      client.socket.ping();
    }
    this.broadcast({ type: 'heartbeat', time: new Date().toISOString() });
  }
}
