import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { ListQueuesCommand } from '@aws-sdk/client-sqs';
import type { FauxqsServer } from 'fauxqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientsFor, createResources, startEmulator, waitFor, type Resources } from './testing/harness.ts';

const main = new URL('./main.ts', import.meta.url).pathname;
let server: FauxqsServer;
let resources: Resources;

beforeAll(async () => {
  server = await startEmulator();
  resources = createResources(server, 'main');
});

afterAll(async () => {
  await server?.stop();
});

function start(env: Record<string, string>) {
  const child = spawn(process.execPath, [main], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += String(chunk)));
  child.stderr.on('data', (chunk) => (output += String(chunk)));
  return { child, output: () => output };
}

describe('node apps/api/src/main.ts', () => {
  it('exits with a clear message on bad configuration', async () => {
    const { child, output } = start({ API_PORT: 'eighty', AWS_ENDPOINT_URL: 'not a url' });
    const [code] = await once(child, 'exit');
    expect(code).toBe(78);
    expect(output()).toMatch(/ADMIN_TOKEN: expected a value/);
    expect(output()).toMatch(/API_PORT: expected an integer/);
    expect(output()).toMatch(/AWS_ENDPOINT_URL: expected an http\(s\) URL/);
  });

  it('serves, and on SIGTERM closes and deletes its fan-out queue', async () => {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const { child } = start({
      API_PORT: String(port),
      API_HOST: '127.0.0.1',
      AWS_ENDPOINT_URL: server.address,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      S3_BUCKET: resources.bucket,
      SQS_QUEUE_NAME: resources.queue,
      SQS_DLQ_NAME: resources.dlq,
      EVENTS_TOPIC_NAME: resources.topic,
      ADMIN_TOKEN: 'secret',
      PODS_ENABLED: 'false',
    });
    const sqs = clientsFor(server.address).sqs;
    const apiQueues = async () =>
      (await sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'thumbnail-api-' }))).QueueUrls ?? [];
    await waitFor(
      async () => (await fetch(`http://127.0.0.1:${port}/ready`).catch(() => undefined))?.ok,
      20_000,
      'ready',
    );
    await waitFor(async () => (await apiQueues()).length === 1, 10_000, 'the fan-out queue');
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    expect(await apiQueues()).toEqual([]);
  });
});
