import { Writable } from 'node:stream';
import { GetQueueAttributesCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { pino } from 'pino';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_TOKEN,
  createResources,
  ORIGIN,
  startApi,
  startEmulator,
  waitFor,
  type LocalAws,
  type Resources,
} from './testing/harness.ts';

let local: LocalAws;
let resources: Resources;

beforeAll(async () => {
  local = await startEmulator();
  resources = await createResources(local, 'security');
});

afterAll(async () => {
  await local?.stop();
});

/** A pino logger at the most verbose level whose every line is kept in `lines`. */
function capturedLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: pino({ level: 'trace' }, stream), lines };
}

/** What the server answers to a WebSocket upgrade: 101 (opened), or the HTTP status it refused it with. */
function upgradeStatus(url: string, headers: Record<string, string>): Promise<number> {
  const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/ws`, { headers });
  return new Promise((resolve, reject) => {
    socket.once('open', () => {
      socket.close();
      resolve(101);
    });
    socket.once('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      socket.terminate();
    });
    socket.once('error', reject);
  });
}

const upload = { filename: 'clip.mp4', contentType: 'video/mp4', size: 100 };

describe('admin token', () => {
  it('never appears in the logs, in error logs or in /metrics, whatever the requests', async () => {
    const { logger, lines } = capturedLogger();
    const api = await startApi(local, resources, {}, { logger });
    try {
      const guesses = [ADMIN_TOKEN, `${ADMIN_TOKEN}x`, ADMIN_TOKEN.slice(0, -1), 'wrong'];
      for (const token of guesses) {
        for (const [method, url, payload] of [
          ['POST', '/api/uploads', upload],
          ['POST', '/api/uploads', { filename: 'x.txt', contentType: 'text/plain', size: 1 }],
          ['POST', '/api/uploads', '{"broken json'],
          ['POST', '/api/dlq/redrive', undefined],
          ['DELETE', '/api/purge', undefined],
        ] as const) {
          await fetch(`${api.url}${url}`, {
            method,
            headers: {
              authorization: `Bearer ${token}`,
              'content-type': 'application/json',
              'x-admin-token': token,
            },
            body: payload === undefined ? undefined : JSON.stringify(payload),
          });
        }
      }
      // An AWS failure during an admin action is logged with its error: still no token.
      const broken = await startApi(local, resources, { S3_BUCKET: 'no-such-bucket' }, { logger });
      const failed = await fetch(`${broken.url}/api/purge`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      expect(failed.status).toBe(502);
      await broken.app.close();
      const metrics = await (await fetch(`${api.url}/metrics`)).text();
      const logs = lines.join('');
      expect(logs).toContain('/api/uploads');
      expect(logs).toContain('AWS request failed');
      expect(lines.length).toBeGreaterThan(40);
      expect(logs).not.toContain(ADMIN_TOKEN.slice(0, -1));
      expect(logs).not.toContain('wrong');
      expect(metrics).not.toContain(ADMIN_TOKEN.slice(0, -1));
      // Presigned URLs carry a signature and the access key id: they are answered, never logged.
      expect(logs).not.toMatch(/X-Amz-Signature|X-Amz-Credential/i);
    } finally {
      await api.app.close();
    }
  });
});

describe('rate limits', () => {
  it('answer the N+1th upload (with a valid token) in a minute with a 429', async () => {
    const api = await startApi(local, resources, { ADMIN_RATE_LIMIT: '3' });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 4; i++) {
        const response = await fetch(`${api.url}/api/uploads`, {
          method: 'POST',
          headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify(upload),
        });
        codes.push(response.status);
        if (response.status === 429)
          expect(((await response.json()) as { message: string }).message).toMatch(/rate limit/i);
      }
      expect(codes).toEqual([200, 200, 200, 429]);
    } finally {
      await api.app.close();
    }
  });

  it('cannot be dodged with a forged X-Forwarded-For; behind one proxy, the address it appends counts', async () => {
    const direct = await startApi(local, resources, { ADMIN_RATE_LIMIT: '2' });
    const proxied = await startApi(local, resources, {
      ADMIN_RATE_LIMIT: '2',
      TRUST_PROXY_HOPS: '1',
    });
    try {
      const codes = async (url: string, forwarded: (i: number) => string) => {
        const result: number[] = [];
        for (let i = 0; i < 4; i++) {
          const response = await fetch(`${url}/api/dlq/redrive`, {
            method: 'POST',
            headers: { 'x-forwarded-for': forwarded(i) },
          });
          result.push(response.status);
        }
        return result;
      };
      // No proxy trusted: every forged address is the same client.
      expect(await codes(direct.url, (i) => `10.0.0.${i}`)).toEqual([401, 401, 429, 429]);
      // Behind the ALB: what the client forges comes first, the address the ALB saw is appended last.
      expect(await codes(proxied.url, (i) => `10.0.0.${i}, 192.0.2.7`)).toEqual([401, 401, 429, 429]);
      expect(await codes(proxied.url, () => '192.0.2.8')).toEqual([401, 401, 429, 429]);
    } finally {
      await direct.app.close();
      await proxied.app.close();
    }
  });
});

describe('origins', () => {
  it('answers a CORS preflight from the dashboard origin, and gives another origin no CORS headers', async () => {
    const api = await startApi(local, resources);
    try {
      const preflight = (origin: string) =>
        fetch(`${api.url}/api/uploads`, {
          method: 'OPTIONS',
          headers: {
            origin,
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'authorization,content-type',
          },
        });
      const allowed = await preflight(ORIGIN);
      expect(allowed.status).toBeLessThan(300);
      expect(allowed.headers.get('access-control-allow-origin')).toBe(ORIGIN);
      expect(allowed.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
      const foreign = await preflight('http://evil.test');
      expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
      const read = await fetch(`${api.url}/api/state`, { headers: { origin: 'http://evil.test' } });
      expect(read.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await api.app.close();
    }
  });

  it('accepts a same-origin WebSocket without DASHBOARD_ORIGIN (behind the ALB), refuses foreign origins', async () => {
    const api = await startApi(local, resources, { DASHBOARD_ORIGIN: '' });
    const proxied = await startApi(local, resources, {
      DASHBOARD_ORIGIN: '',
      TRUST_PROXY_HOPS: '1',
    });
    try {
      const host = new URL(api.url).host;
      expect(await upgradeStatus(api.url, { Origin: `http://${host}` })).toBe(101);
      expect(await upgradeStatus(api.url, { Origin: `https://${host}` })).toBe(101);
      expect(await upgradeStatus(api.url, {})).toBe(101);
      for (const origin of [
        'http://localhost:3000',
        'http://evil.test',
        `http://${host}.evil.test`,
        'null',
      ]) {
        expect(await upgradeStatus(api.url, { Origin: origin }), origin).toBe(403);
      }
      // The site's host as the proxy forwards it.
      const site = { Origin: 'https://thumbnails.example.com', 'X-Forwarded-Host': 'thumbnails.example.com' };
      expect(await upgradeStatus(proxied.url, site)).toBe(101);
      expect(await upgradeStatus(api.url, site)).toBe(403);
      // No CORS for anyone: the dashboard is on the same origin.
      const preflight = await fetch(`${api.url}/api/uploads`, {
        method: 'OPTIONS',
        headers: { origin: 'http://localhost:3000', 'access-control-request-method': 'POST' },
      });
      expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await api.app.close();
      await proxied.app.close();
    }
  });

  it('accepts the configured dashboard origin on the WebSocket', async () => {
    const api = await startApi(local, resources);
    try {
      expect(await upgradeStatus(api.url, { Origin: ORIGIN })).toBe(101);
      expect(await upgradeStatus(api.url, { Origin: `${ORIGIN}:8080` })).toBe(403);
    } finally {
      await api.app.close();
    }
  });
});

describe('security headers', () => {
  it('sends a CSP, no framing, no sniffing on JSON, docs and errors', async () => {
    const api = await startApi(local, resources);
    try {
      for (const path of ['/api/state', '/docs/', '/api/nothing', '/health']) {
        const response = await fetch(`${api.url}${path}`);
        const csp = response.headers.get('content-security-policy') ?? '';
        expect(csp, path).toContain("default-src 'self'");
        expect(csp, path).toContain("frame-ancestors 'none'");
        expect(csp, path).toContain("script-src 'self'");
        expect(csp, path).not.toContain('upgrade-insecure-requests');
        expect(response.headers.get('x-frame-options'), path).toBe('DENY');
        expect(response.headers.get('x-content-type-options'), path).toBe('nosniff');
        expect(response.headers.get('x-powered-by'), path).toBeNull();
      }
    } finally {
      await api.app.close();
    }
  });
});

describe('fan-out queue', () => {
  it('lets only the events topic send to it (queue policy with aws:SourceArn), as real SQS requires', async () => {
    const api = await startApi(local, resources);
    try {
      await waitFor(() => api.pipeline.events.ready, 10_000, 'the subscription');
      const aws = local.clients('deployer', resources.deployment);
      const { QueueUrl } = await aws.sqs.send(
        new GetQueueUrlCommand({ QueueName: api.pipeline.events.queueName }),
      );
      const attributes = await aws.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['Policy', 'QueueArn'] }),
      );
      const policy = JSON.parse(attributes.Attributes?.Policy ?? '{}');
      expect(policy.Statement).toEqual([
        {
          Effect: 'Allow',
          Principal: { Service: 'sns.amazonaws.com' },
          Action: 'sqs:SendMessage',
          Resource: attributes.Attributes?.QueueArn,
          Condition: {
            ArnEquals: { 'aws:SourceArn': resources.topicArn },
          },
        },
      ]);
    } finally {
      await api.app.close();
    }
  });
});
