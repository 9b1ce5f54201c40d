/**
 * WebSocket fan-out: many dashboards on one API (the local stack's API process, per-IP cap and connect rate
 * raised with WS_MAX_CLIENTS_PER_IP and WS_CONNECT_RATE_LIMIT since every client here comes from 127.0.0.1), then one pipeline event published on
 * the events topic, as a worker does: the time until each client holds the update, and the API's memory
 * per connected client (RSS growth ÷ clients, read from /proc).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { WebSocket } from 'ws';
import type { PipelineEvent } from '@thumbs/model';
import { roleCredentials } from '../apps/local/src/aws-auth/component-credentials.ts';
import { percentile } from '../apps/api/src/state/percentiles.ts';
import type { BenchContext } from './context.ts';
import type { Figure } from './figures.ts';
import { startBenchStack, until } from './stack.ts';

/** The pid of our child process whose command line contains `needle`. */
function childPid(needle: string): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(needle)) {
        return Number(entry);
      }
    } catch {
      // the process ended while we looked
    }
  }
  throw new Error(`no child process running ${needle}`);
}

function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? 0) * 1024;
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Client {
  socket: WebSocket;
  /** When this client received the message containing each watched marker. */
  received: Map<string, number>;
}

export async function benchFanOut(ctx: BenchContext): Promise<Figure[]> {
  const count = ctx.quick ? 100 : 1000;
  const updates = ctx.quick ? 2 : 5;
  const { stack, stop } = await startBenchStack(ctx, 'fanout', {
    maxWorkers: 0,
    childEnv: { WS_MAX_CLIENTS_PER_IP: String(count + 10), WS_CONNECT_RATE_LIMIT: String(count + 10) },
  });
  // The updates are published as a worker publishes them: with the worker role.
  const sns = new SNSClient({
    endpoint: stack.urls.aws,
    region: stack.config.region,
    credentials: roleCredentials(stack.authority, 'worker', stack.config.credentialSeconds),
  });
  const clients: Client[] = [];
  const markers: string[] = [];
  try {
    const api = childPid('apps/api/src/main.ts');
    const wsUrl = `${(stack.urls.api ?? '').replace(/^http/, 'ws')}/ws`;
    await settle(3000);
    const before = rssBytes(api);
    for (let i = 0; i < count; i += 100) {
      const batch = Array.from({ length: Math.min(100, count - i) }, () => {
        const client: Client = { socket: new WebSocket(wsUrl), received: new Map() };
        clients.push(client);
        return new Promise<void>((resolve, reject) => {
          client.socket.once('message', () => resolve());
          client.socket.once('error', reject);
          client.socket.on('message', (data) => {
            const now = Date.now();
            const text = String(data);
            for (const marker of markers) if (text.includes(marker)) client.received.set(marker, now);
          });
        });
      });
      await Promise.all(batch);
    }
    await settle(3000);
    const after = rssBytes(api);
    ctx.say(
      `  ${count} clients connected; API RSS ${(before / 1e6).toFixed(0)} → ${(after / 1e6).toFixed(0)} MB`,
    );

    const latencies: number[] = [];
    const spreads: number[] = [];
    for (let u = 0; u < updates; u++) {
      const marker = `uploads/fanout-${process.pid}-${u}.mp4`;
      markers.push(marker);
      const event: PipelineEvent = { type: 'job.queued', source: marker, time: new Date().toISOString() };
      const published = Date.now();
      await sns.send(
        new PublishCommand({ TopicArn: stack.resources.topicArn, Message: JSON.stringify(event) }),
      );
      await until(
        () => clients.filter((c) => c.received.has(marker)).length,
        (n) => n === count,
        15_000,
        `the update on all ${count} clients`,
      );
      const arrivals = clients.map((c) => (c.received.get(marker) ?? 0) - published);
      latencies.push(...arrivals);
      spreads.push(Math.max(...arrivals) - Math.min(...arrivals));
      ctx.say(
        `  update ${u + 1}/${updates}: p50 ${percentile(arrivals, 50)} ms, p99 ${percentile(arrivals, 99)} ms, ` +
          `first→last ${spreads.at(-1)} ms`,
      );
      await settle(500);
    }
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    const perClientKB = (after - before) / count / 1024;
    ctx.details.ws = {
      clients: count,
      updates,
      apiRssBefore: before,
      apiRssAfter: after,
      latencies,
      spreads,
    };
    const name = (what: string) => `ws fan-out, ${count} clients: ${what}`;
    const seedNote = 'the seed sends the whole state every 5 s: an update waits 0–5 s for the next tick';
    return [
      {
        section: 'ws',
        name: name(`publish → delivered, p50 over ${updates} updates`),
        unit: 'ms',
        ours: p50,
        seed: null,
        ratio: null,
        goal: 'reported',
        met: null,
        note: seedNote,
      },
      {
        section: 'ws',
        name: name(`publish → delivered, p99 over ${updates} updates`),
        unit: 'ms',
        ours: p99,
        seed: null,
        ratio: null,
        goal: 'p99 < 250 ms',
        met: p99 === null ? null : p99 < 250,
        note: "from the SNS publish (as a worker does) through the API's event queue to each client",
      },
      {
        section: 'ws',
        name: name('first → last client, median over updates'),
        unit: 'ms',
        ours: percentile(spreads, 50),
        seed: null,
        ratio: null,
        goal: 'reported',
        met: null,
      },
      {
        section: 'ws',
        name: name('API memory per client (RSS growth ÷ clients)'),
        unit: 'KB',
        ours: perClientKB,
        seed: null,
        ratio: null,
        goal: 'reported',
        met: null,
      },
    ];
  } finally {
    for (const client of clients) client.socket.terminate();
    sns.destroy();
    await stop();
  }
}
