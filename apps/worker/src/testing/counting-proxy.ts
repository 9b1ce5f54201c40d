import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxiedRequest {
  method: string;
  path: string;
  range: string | undefined;
  status: number;
  /** Response body bytes passed on to the client (what crossed the network from storage). */
  bytes: number;
}

export interface CountingProxy {
  /** http://127.0.0.1:<port>: use it as the AWS endpoint so presigned URLs point here too. */
  url: string;
  requests: ProxiedRequest[];
  close(): Promise<void>;
}

export interface CountingProxyOptions {
  /** Milliseconds to hold a request before passing it on (a slow storage endpoint); none by default. */
  delayMs?: (request: ProxiedRequest) => number;
}

/**
 * A loopback HTTP proxy in front of the storage endpoint that counts the response bytes of every request,
 * to measure how much of an object a reader really fetches. Bodies stream through with back-pressure, and
 * a client that hangs up stops the upstream transfer, so the count is what a real client would be sent.
 */
export async function startCountingProxy(
  target: string,
  options: CountingProxyOptions = {},
): Promise<CountingProxy> {
  const upstream = new URL(target);
  const requests: ProxiedRequest[] = [];
  const server = createServer((req, res) => {
    const entry: ProxiedRequest = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      range: req.headers.range,
      status: 0,
      bytes: 0,
    };
    requests.push(entry);
    const delay = options.delayMs?.(entry) ?? 0;
    if (delay > 0) {
      req.pause();
      setTimeout(() => pass(req, res, entry), delay);
    } else pass(req, res, entry);
  });

  function pass(req: IncomingMessage, res: ServerResponse, entry: ProxiedRequest): void {
    if (res.destroyed) return;
    const forward = request(
      {
        hostname: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (response: IncomingMessage) => {
        entry.status = response.statusCode ?? 0;
        res.writeHead(entry.status, response.headers);
        response.on('data', (chunk: Buffer) => (entry.bytes += chunk.length));
        response.pipe(res);
      },
    );
    res.on('close', () => forward.destroy());
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
