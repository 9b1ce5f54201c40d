import type { Socket } from 'node:net';
import type { Pod } from '@thumbs/model';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  collectGarbage,
  createResources,
  ORIGIN,
  startApi,
  startEmulator,
  waitFor,
  WsRecorder,
  type LocalAws,
  type Resources,
} from '../testing/harness.ts';

let local: LocalAws;
let resources: Resources;

beforeAll(async () => {
  local = await startEmulator();
  resources = await createResources(local, 'ws-hardening');
});

afterAll(async () => {
  await local?.stop();
});

type Api = Awaited<ReturnType<typeof startApi>>;

/** A dashboard on another address (127.0.0.2) than the hostile client (127.0.0.1). */
function otherAddressClient(api: Api): WsRecorder {
  return new WsRecorder(api.url, { Origin: ORIGIN }, { localAddress: '127.0.0.2' });
}

function marker(restarts: number): Pod[] {
  return [
    {
      name: 'marker',
      status: 'Running',
      ready: true,
      restarts,
      startedAt: null,
      node: null,
      cpu: null,
      memory: null,
    },
  ];
}

/** What one upgrade attempt came to: served (a first message), or the HTTP status it was refused with. */
function connectOnce(api: Api, headers: Record<string, string> = {}): Promise<string> {
  const socket = new WebSocket(`${api.url.replace(/^http/, 'ws')}/ws`, {
    headers: { Origin: ORIGIN, ...headers },
    localAddress: '127.0.0.1',
  });
  return new Promise((resolve) => {
    socket.once('unexpected-response', (_request, response) => {
      resolve(`http ${response.statusCode}`);
      socket.terminate();
    });
    socket.once('message', () => {
      resolve('served');
      socket.terminate();
    });
    socket.once('close', (code) => resolve(`close ${code}`));
    socket.once('error', (error) => resolve(`error ${error.message}`));
  });
}

function tally(outcomes: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const outcome of outcomes) counts[outcome] = (counts[outcome] ?? 0) + 1;
  return counts;
}

describe('WS /ws against hostile clients', () => {
  it('closes a ping flooder that never reads before its buffer passes the limit; memory stays flat', async () => {
    const api = await startApi(local, resources);
    try {
      const watcher = otherAddressClient(api);
      await watcher.waitFor('snapshot');
      const flooder = new WsRecorder(api.url);
      await flooder.waitFor('snapshot');
      const tcp = (flooder.socket as unknown as { _socket: Socket })._socket;
      // The server's end of this connection: the most it ever holds unsent, measured after each write.
      const serverSide = [...api.app.websocketServer.clients].find(
        (socket) => (socket as unknown as { _socket: Socket })._socket.remotePort === tcp.localPort,
      );
      if (!serverSide) throw new Error("no server side for the flooder's connection");
      let maxBuffered = 0;
      const send = serverSide.send.bind(serverSide);
      serverSide.send = ((...args: Parameters<typeof send>) => {
        send(...args);
        maxBuffered = Math.max(maxBuffered, serverSide.bufferedAmount);
      }) as typeof send;
      // It stops reading: everything the server sends it piles up in the kernel, then in the server's buffer.
      tcp.pause();
      const heapBefore = collectGarbage();
      const closedBefore = api.hub.stats.slowClosed;
      const ping = JSON.stringify({ type: 'ping', id: 'x'.repeat(64) });
      let sent = 0;
      while (api.hub.stats.slowClosed === closedBefore && flooder.socket.readyState === WebSocket.OPEN) {
        for (let i = 0; i < 1000; i++) flooder.socket.send(ping);
        // Unasked pongs keep it alive to the heartbeat, as a hostile client would do.
        flooder.socket.pong();
        // Sent only as fast as the server reads, so that this process's own memory measures the server's.
        await new Promise((resolve) => flooder.socket.send(ping, resolve));
        sent += 1001;
        if (sent > 2_000_000) throw new Error('the flooder was never closed');
      }
      expect(api.hub.stats.slowClosed).toBe(closedBefore + 1);
      // Its buffer filled up to the 256 KiB high-water mark; from there its answers were coalesced, far from
      // the 16 MiB that no write may pass.
      expect(maxBuffered).toBeGreaterThanOrEqual(256 * 1024);
      expect(maxBuffered).toBeLessThan(1024 * 1024);
      await waitFor(() => api.hub.stats.clients === 1, 10_000, 'the flooder to be gone');
      expect(collectGarbage() - heapBefore).toBeLessThan(16 * 1024 * 1024);

      // Everybody else is still served.
      api.pipeline.store.setPods(marker(7));
      await watcher.waitFor('pods', (m) => m.pods[0]?.restarts === 7);
      watcher.close();
      flooder.socket.terminate();
    } finally {
      await api.app.close();
    }
  });

  it('refuses 1,000 connects a second from one address past the limit while other addresses connect', async () => {
    const limit = 60;
    const api = await startApi(local, resources, {
      WS_CONNECT_RATE_LIMIT: String(limit),
      // High enough that only the connect rate refuses anyone here.
      WS_MAX_CLIENTS_PER_IP: '2000',
    });
    try {
      const attempts: Promise<string>[] = [];
      let other: WsRecorder | undefined;
      for (let batch = 0; batch < 10; batch++) {
        for (let i = 0; i < 100; i++) attempts.push(connectOnce(api));
        if (batch === 5) other = otherAddressClient(api);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const counts = tally(await Promise.all(attempts));
      expect(counts).toEqual({ served: limit, 'http 429': 1000 - limit });
      // The other address connected in the middle of the flood.
      await other?.waitFor('snapshot');
      other?.close();
      // The flooded address stays refused for the rest of the minute (a dashboard's backoff waits it out).
      expect(await connectOnce(api)).toBe('http 429');
    } finally {
      await api.app.close();
    }
  });

  it('counts connects per client address behind a trusted proxy; a forged X-Forwarded-For buys nothing', async () => {
    const api = await startApi(local, resources, { WS_CONNECT_RATE_LIMIT: '3', TRUST_PROXY_HOPS: '1' });
    try {
      const outcomes: string[] = [];
      // What the client forges comes first; the address the proxy saw is appended last.
      for (let i = 0; i < 5; i++)
        outcomes.push(await connectOnce(api, { 'X-Forwarded-For': `10.0.0.${i}, 192.0.2.7` }));
      expect(outcomes).toEqual(['served', 'served', 'served', 'http 429', 'http 429']);
      expect(await connectOnce(api, { 'X-Forwarded-For': '192.0.2.8' })).toBe('served');
    } finally {
      await api.app.close();
    }
  });

  it('sends an update made while a snapshot is being built after that snapshot', async () => {
    const api = await startApi(local, resources);
    try {
      const { store } = api.pipeline;
      const snapshot = store.snapshot.bind(store);
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      let built!: () => void;
      const building = new Promise<void>((resolve) => (built = resolve));
      vi.spyOn(store, 'snapshot').mockImplementationOnce(async () => {
        const state = await snapshot();
        built();
        await released;
        return state;
      });
      const ws = new WsRecorder(api.url);
      await building;
      // The snapshot is built (without this update) but not sent yet.
      store.setPods(marker(42));
      release();
      const update = await ws.waitFor('pods', (m) => m.pods[0]?.restarts === 42);
      expect(ws.messages[0]?.type).toBe('snapshot');
      expect(ws.messages.indexOf(update)).toBeGreaterThan(0);
      ws.close();
    } finally {
      vi.restoreAllMocks();
      await api.app.close();
    }
  });
});
