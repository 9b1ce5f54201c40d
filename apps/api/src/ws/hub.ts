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
 * changes merged), so a slow client costs bounded memory and never delays the others. A client that stays
 * hopelessly behind is closed; it reconnects and starts again from a snapshot.
 */
export class WsHub {
  private readonly options: Required<HubOptions>;
  private readonly clients = new Set<Client>();
  private readonly perIp = new Map<string, number>();
  private readonly unsubscribe: () => void;
  private readonly flushTimer: NodeJS.Timeout;
  private readonly heartbeatTimer: NodeJS.Timeout;
  readonly stats: HubStats = { clients: 0, coalesced: 0, slowClosed: 0 };

  constructor(options: HubOptions) {
    this.options = {
      highWaterBytes: 256 * 1024,
      closeBytes: 16 * 1024 * 1024,
      maxLagMs: 30_000,
      maxPendingThumbnails: 2000,
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
    };
    this.clients.add(client);
    this.perIp.set(ip, this.countFrom(ip) + 1);
    this.stats.clients = this.clients.size;
    socket.on('pong', () => (client.alive = true));
    socket.on('message', (data, isBinary) => this.receive(client, data, isBinary));
    socket.on('close', () => this.remove(client));
    socket.on('error', (error) => this.options.log.debug({ err: error.message }, 'websocket error'));
    void this.flush(client);
  }

  /** Sends one update to every client: directly when it keeps up, else coalesced into its pending set. */
  broadcast(message: ServerMessage): void {
    let text: string | undefined;
    for (const client of this.clients) {
      if (
        client.pending.size === 0 &&
        !client.needsSnapshot &&
        client.socket.bufferedAmount < this.options.highWaterBytes
      ) {
        text ??= JSON.stringify(message);
        this.write(client, text);
      } else {
        this.enqueue(client, message);
      }
    }
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
    this.stats.clients = this.clients.size;
  }

  private write(client: Client, text: string): void {
    if (client.socket.readyState !== client.socket.OPEN) return;
    client.socket.send(text, (error) => {
      if (error) this.options.log.debug({ err: error.message }, 'websocket send failed');
    });
  }

  private enqueue(client: Client, message: ServerMessage): void {
    client.behindSince ??= Date.now();
    if (client.needsSnapshot && message.type !== 'pong' && message.type !== 'error') return;
    this.stats.coalesced++;
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
      const { bufferedAmount } = client.socket;
      const lagging = client.behindSince !== undefined && now - client.behindSince > this.options.maxLagMs;
      if (bufferedAmount > this.options.closeBytes || lagging) {
        this.stats.slowClosed++;
        this.options.log.info(
          { ip: client.ip, bufferedAmount },
          'closing a websocket client that cannot keep up',
        );
        client.socket.terminate();
        this.remove(client);
        continue;
      }
      if (client.pending.size > 0 || client.needsSnapshot) void this.flush(client);
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
      if (client.socket.bufferedAmount >= this.options.highWaterBytes) return;
      client.pending.delete(key);
      const message: ServerMessage =
        entry.kind === 'message'
          ? entry.message
          : { type: 'thumbnails', added: [...entry.value.added.values()], removed: [...entry.value.removed] };
      this.write(client, JSON.stringify(message));
    }
    if (client.pending.size === 0 && !client.needsSnapshot) client.behindSince = undefined;
  }

  private reply(client: Client, message: ServerMessage): void {
    if (client.pending.size === 0 && !client.needsSnapshot && !client.sendingSnapshot) {
      this.write(client, JSON.stringify(message));
    } else {
      this.enqueue(client, message);
    }
  }

  private receive(client: Client, data: unknown, isBinary: boolean): void {
    if (isBinary) return this.reply(client, { type: 'error', message: 'binary messages are not supported' });
    let value: unknown;
    try {
      value = JSON.parse(String(data));
    } catch {
      return this.reply(client, { type: 'error', message: 'message is not valid JSON' });
    }
    if (!checkClientMessage.Check(value)) {
      return this.reply(client, {
        type: 'error',
        message: 'unknown message: expected {"type":"ping","id"?:string} or {"type":"resync"}',
      });
    }
    if (value.type === 'ping') {
      this.reply(client, value.id === undefined ? { type: 'pong' } : { type: 'pong', id: value.id });
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
    this.stats.clients = this.clients.size;
    this.broadcast({ type: 'heartbeat', time: new Date().toISOString() });
  }
}
