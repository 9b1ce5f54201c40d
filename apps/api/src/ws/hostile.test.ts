import type { Pod } from '@thumbs/model';
import fc from 'fast-check';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  collectGarbage,
  createResources,
  ORIGIN,
  startApi,
  startEmulator,
  waitFor,
  WsRecorder,
  type LocalAws,
} from '../testing/harness.ts';

const MAX_PER_IP = 20;

let local: LocalAws;
let api: Awaited<ReturnType<typeof startApi>>;

beforeAll(async () => {
  local = await startEmulator();
  // The connect rate is tested on its own (hardening.test.ts): here thousands of upgrades meet the cap alone.
  api = await startApi(local, await createResources(local, 'ws-hostile'), {
    WS_MAX_CLIENTS_PER_IP: String(MAX_PER_IP),
    WS_CONNECT_RATE_LIMIT: '100000',
  });
});

afterAll(async () => {
  await api?.app.close();
  await local?.stop();
});

const wsUrl = () => `${api.url.replace(/^http/, 'ws')}/ws`;

/** A dashboard on another address (127.0.0.2): it must keep getting updates whatever 127.0.0.1 does. */
function otherAddressClient(): WsRecorder {
  return new WsRecorder(api.url, { Origin: ORIGIN }, { localAddress: '127.0.0.2' });
}

function podsUpdate(restarts: number): Pod[] {
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

function closeCode(socket: WebSocket): Promise<number> {
  return new Promise((resolve) => socket.once('close', (code) => resolve(code)));
}

/** Client messages: JSON of the wrong shapes, near misses of the real ones, text that is not JSON. */
const clientMessage = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc
    .record(
      {
        type: fc.oneof(fc.constantFrom('ping', 'resync', 'PING', 'snapshot', '__proto__'), fc.jsonValue()),
        id: fc.oneof(fc.string({ maxLength: 80 }), fc.jsonValue()),
      },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v)),
  fc.string({ unit: 'binary', maxLength: 1000 }),
  fc.constantFrom(
    '',
    '{',
    'null',
    '"ping"',
    '{"type":"ping","id":"x"',
    '[{"type":"ping"}]',
    '{"a":'.repeat(600),
  ),
);

describe('WS /ws under hostile clients', () => {
  it('answers every random message with an error or a reply, and stays open (property)', async () => {
    const watcher = otherAddressClient();
    await watcher.waitFor('snapshot');
    const ws = new WsRecorder(api.url);
    await ws.waitFor('snapshot');
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(clientMessage, { minLength: 1, maxLength: 10 }), async (messages) => {
        const from = ws.messages.length;
        const id = `check-${run++}`;
        for (const message of messages) ws.socket.send(message);
        ws.socket.send(JSON.stringify({ type: 'ping', id }));
        // The last message is always answered (answers still unsent while a snapshot goes out are coalesced,
        // one per kind), the connection stays open, and no message gets more than one answer.
        await ws.waitFor('pong', (m) => m.id === id, 5000);
        const answers = ws.messages.slice(from).filter((m) => m.type === 'error' || m.type === 'pong');
        expect(answers.length).toBeGreaterThanOrEqual(1);
        expect(answers.length).toBeLessThanOrEqual(messages.length + 1);
        for (const answer of answers)
          if (answer.type === 'error') expect(answer.message.length).toBeGreaterThan(10);
        expect(ws.socket.readyState).toBe(WebSocket.OPEN);
      }),
      { numRuns: 150 },
    );
    expect(ws.messages.some((m) => m.type === 'error')).toBe(true);
    api.pipeline.store.setPods(podsUpdate(101));
    await watcher.waitFor('pods', (m) => m.pods[0]?.restarts === 101);
    await ws.waitFor('pods', (m) => m.pods[0]?.restarts === 101);
    ws.close();
    watcher.close();
  });

  it('answers binary frames with an error, closes on oversized (1009) and invalid UTF-8 (1007) frames', async () => {
    const watcher = otherAddressClient();
    await watcher.waitFor('snapshot');

    const binary = new WsRecorder(api.url);
    await binary.waitFor('snapshot');
    binary.socket.send(Buffer.from([0xff, 0x00, 0x81]), { binary: true });
    expect((await binary.waitFor('error')).message).toMatch(/binary/);

    const oversized = new WsRecorder(api.url);
    await oversized.waitFor('snapshot');
    const tooBig = closeCode(oversized.socket);
    oversized.socket.send(JSON.stringify({ type: 'ping', id: 'x'.repeat(5000) }));
    expect(await tooBig).toBe(1009);

    const huge = new WsRecorder(api.url);
    await huge.waitFor('snapshot');
    const hugeClosed = closeCode(huge.socket);
    huge.socket.send(Buffer.alloc(8 * 1024 * 1024, 0x61), { binary: true });
    expect(await hugeClosed).toBe(1009);

    const invalid = new WsRecorder(api.url);
    await invalid.waitFor('snapshot');
    const invalidClosed = closeCode(invalid.socket);
    invalid.socket.send(Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), { binary: false });
    expect(await invalidClosed).toBe(1007);

    // The one that sent a binary frame is still served, and so is everybody else.
    api.pipeline.store.setPods(podsUpdate(202));
    await watcher.waitFor('pods', (m) => m.pods[0]?.restarts === 202);
    await binary.waitFor('pods', (m) => m.pods[0]?.restarts === 202);
    binary.close();
    watcher.close();
  });

  it('caps thousands of connections from one address; memory stays bounded and others keep updates', async () => {
    const watcher = otherAddressClient();
    await watcher.waitFor('snapshot');
    const before = collectGarbage();
    const attempts = 2000;
    const outcomes = await Promise.all(
      Array.from(
        { length: attempts },
        () =>
          new Promise<{ result: string; socket: WebSocket }>((resolve) => {
            const socket = new WebSocket(wsUrl(), { headers: { Origin: ORIGIN }, localAddress: '127.0.0.1' });
            socket.once('unexpected-response', (_request, response) => {
              resolve({ result: `http ${response.statusCode}`, socket });
              socket.terminate();
            });
            socket.once('message', () => resolve({ result: 'served', socket }));
            socket.once('close', (code) => resolve({ result: `close ${code}`, socket }));
            socket.once('error', (error) => resolve({ result: `error ${error.message}`, socket }));
          }),
      ),
    );
    const counts: Record<string, number> = {};
    for (const { result } of outcomes) counts[result] = (counts[result] ?? 0) + 1;
    // Exactly the cap is served; the rest are refused cleanly: 429 before the upgrade, or 1013 right after.
    expect(counts.served).toBe(MAX_PER_IP);
    expect((counts['http 429'] ?? 0) + (counts['close 1013'] ?? 0)).toBe(attempts - MAX_PER_IP);
    expect(api.hub.countFrom('127.0.0.1')).toBe(MAX_PER_IP);
    const grown = collectGarbage() - before;
    expect(grown).toBeLessThan(64 * 1024 * 1024);

    api.pipeline.store.setPods(podsUpdate(303));
    await watcher.waitFor('pods', (m) => m.pods[0]?.restarts === 303);
    expect((await fetch(`${api.url}/health`)).status).toBe(200);
    for (const { socket } of outcomes) socket.terminate();
    await waitFor(() => api.hub.countFrom('127.0.0.1') === 0, 10_000, 'the capped clients to go');
    // A client of that address is served again once it is under the cap.
    const again = new WsRecorder(api.url);
    await again.waitFor('snapshot');
    again.close();
    watcher.close();
  });
});
