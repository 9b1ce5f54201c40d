import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { ListSubscriptionsByTopicCommand } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apiEnv,
  createResources,
  startEmulator,
  waitFor,
  type LocalAws,
  type Resources,
} from './testing/harness.ts';

const main = new URL('./main.ts', import.meta.url).pathname;
let local: LocalAws;
let resources: Resources;

beforeAll(async () => {
  local = await startEmulator();
  resources = await createResources(local, 'main');
});

afterAll(async () => {
  await local?.stop();
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
    // The API role's temporary credentials in the environment, where the SDK's default chain finds them.
    const credentials = local.credentials('api', resources.deployment);
    const { child } = start({
      ...apiEnv(local.endpoint, resources, { API_PORT: String(port), ADMIN_TOKEN: 'secret' }),
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_SESSION_TOKEN: credentials.sessionToken,
    });
    const { sns } = local.clients('deployer', resources.deployment);
    const subscribedQueues = async () =>
      (
        (await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: resources.topicArn })))
          .Subscriptions ?? []
      ).map((s) => s.Endpoint ?? '');
    await waitFor(
      async () => (await fetch(`http://127.0.0.1:${port}/ready`).catch(() => undefined))?.ok,
      20_000,
      'ready',
    );
    const [queueArn = ''] = await waitFor(
      async () => {
        const queues = await subscribedQueues();
        return queues.length === 1 && queues;
      },
      10_000,
      'the fan-out subscription',
    );
    const queueName = queueArn.split(':').pop() ?? '';
    expect(queueName).toMatch(/^thumbnail-api-/);
    expect(local.emulator.inspectQueue(queueName)).toBeDefined();
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    expect(await subscribedQueues()).toEqual([]);
    expect(local.emulator.inspectQueue(queueName)).toBeUndefined();
  });
});
