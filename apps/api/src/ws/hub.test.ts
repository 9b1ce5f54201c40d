import type { Pod } from '@thumbs/model';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createResources,
  ORIGIN,
  startApi,
  startEmulator,
  waitFor,
  WsRecorder,
  type LocalAws,
} from '../testing/harness.ts';

let local: LocalAws;
let api: Awaited<ReturnType<typeof startApi>>;

beforeAll(async () => {
  local = await startEmulator();
  api = await startApi(local, await createResources(local, 'ws'), {
    WS_HEARTBEAT_MS: '1000',
    WS_MAX_CLIENTS_PER_IP: '8',
  });
});

afterAll(async () => {
  await api?.app.close();
  await local?.stop();
});

function closed(socket: WebSocket): Promise<number> {
  return new Promise((resolve) => socket.once('close', (code) => resolve(code)));
}

describe('WS /ws', () => {
  it('sends a snapshot first, then heartbeats, and answers pings', async () => {
    const ws = new WsRecorder(api.url);
    const snapshot = await ws.waitFor('snapshot');
    expect(ws.messages[0]?.type).toBe('snapshot');
    expect(Object.keys(snapshot.state)).toEqual(
      expect.arrayContaining(['metrics', 'queue', 'pods', 'thumbnails', 'jobs', 'dlq']),
    );
    await ws.waitFor('heartbeat', () => true, 3000);
    ws.socket.send(JSON.stringify({ type: 'ping', id: 'p1' }));
    expect(await ws.waitFor('pong')).toEqual({ type: 'pong', id: 'p1' });
    ws.socket.send(JSON.stringify({ type: 'resync' }));
    await waitFor(() => ws.messages.filter((m) => m.type === 'snapshot').length === 2);
    ws.close();
  });

  it('answers malformed messages with an error and keeps the connection open', async () => {
    const ws = new WsRecorder(api.url);
    await ws.waitFor('snapshot');
    const bad = [
      '{not json',
      JSON.stringify({ type: 'subscribe' }),
      JSON.stringify([1, 2]),
      JSON.stringify({ type: 'ping', id: 7 }),
    ];
    for (const text of bad) ws.socket.send(text);
    ws.socket.send(Buffer.from([1, 2, 3]));
    await waitFor(() => ws.messages.filter((m) => m.type === 'error').length === bad.length + 1);
    ws.socket.send(JSON.stringify({ type: 'ping', id: 'still-here' }));
    expect(await ws.waitFor('pong', (m) => m.id === 'still-here')).toBeTruthy();
    expect(ws.socket.readyState).toBe(WebSocket.OPEN);
    ws.close();
  });

  it('closes a connection that sends a message over the size limit', async () => {
    const ws = new WsRecorder(api.url);
    await ws.waitFor('snapshot');
    const code = closed(ws.socket);
    ws.socket.send('x'.repeat(64 * 1024));
    expect(await code).toBe(1009);
  });

  it('refuses browsers from other origins, allows clients without an Origin', async () => {
    const foreign = new WebSocket(`${api.url.replace('http', 'ws')}/ws`, {
      headers: { Origin: 'http://evil.test' },
    });
    const status = await new Promise<number>((resolve) =>
      foreign.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)),
    );
    expect(status).toBe(403);
    const tool = new WsRecorder(api.url, {});
    await tool.waitFor('snapshot');
    tool.close();
  });

  it('caps connections per address', async () => {
    const clients = Array.from({ length: 8 }, () => new WsRecorder(api.url));
    await Promise.all(clients.map((c) => c.waitFor('snapshot')));
    const extra = new WebSocket(`${api.url.replace('http', 'ws')}/ws`, { headers: { Origin: ORIGIN } });
    const status = await new Promise<number>((resolve) =>
      extra.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)),
    );
    expect(status).toBe(429);
    for (const client of clients) client.close();
    await waitFor(() => api.hub.stats.clients === 0);
  });

  it('coalesces updates for a slow client without holding back the others', async () => {
    // Its own API with the production heartbeat: a client that reads nothing for a few seconds is slow, not dead.
    const api = await startApi(local, await createResources(local, 'ws-slow'));
    const fast = new WsRecorder(api.url);
    const slow = new WsRecorder(api.url);
    await Promise.all([fast.waitFor('snapshot'), slow.waitFor('snapshot')]);
    // Stop reading on the slow client's TCP socket: the server's send buffer for it fills up.
    const slowSocket = (slow.socket as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    slowSocket.pause();
    const filler = 'x'.repeat(2000);
    const podsVersion = (n: number): Pod[] =>
      Array.from({ length: 50 }, (_, i) => ({
        name: `pod-${n}-${i}-${filler}`,
        status: 'Running',
        ready: true,
        restarts: n,
        startedAt: null,
        node: null,
        cpu: null,
        memory: null,
      }));
    const updates = 400; // ~100 KB each: 40 MB if nothing were coalesced
    for (let n = 1; n <= updates; n++) {
      api.pipeline.store.setPods(podsVersion(n));
      if (n % 20 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    // The paused client holds nobody back: the other one has the latest version while it is still paused.
    await fast.waitFor('pods', (m) => m.pods[0]?.restarts === updates, 10_000);
    expect(api.hub.stats.coalesced).toBeGreaterThan(0);

    slowSocket.resume();
    await slow.waitFor('pods', (m) => m.pods[0]?.restarts === updates, 20_000);
    const slowPods = slow.messages.filter((m) => m.type === 'pods');
    expect(slowPods.length).toBeLessThan(updates);
    // Every message it did get is a whole, in-order version: coalescing drops intermediates, never reorders.
    const versions = slowPods.map((m) => (m.type === 'pods' ? (m.pods[0]?.restarts ?? 0) : 0));
    expect([...versions].sort((a, b) => a - b)).toEqual(versions);
    fast.close();
    slow.close();
    await api.app.close();
  });
});
