/** Port checks, so a taken port is reported plainly before anything is started on it. */
import { createServer } from 'node:net';

export class PortInUseError extends Error {}

function tryListen(port: number, host?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port, host, exclusive: true }, () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : port));
    });
  });
}

function portInUseMessage(port: number, what: string, envName: string): string {
  return `port ${port} (${what}) is already in use — is another local stack running? Stop it, or set ${envName} to another port.`;
}

/** Throws PortInUseError naming the setting to change when `port` is taken. */
export async function assertPortFree(port: number, what: string, envName: string): Promise<void> {
  await listenOrExplain(() => tryListen(port), port, what, envName);
}

/** Starts a server, reporting a taken port as PortInUseError naming the setting to change. */
export async function listenOrExplain<T>(
  start: () => Promise<T>,
  port: number,
  what: string,
  envName: string,
): Promise<T> {
  try {
    return await start();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new PortInUseError(portInUseMessage(port, what, envName));
    }
    throw error;
  }
}

/** Resolves true once `url` answers below 500, false after `timeoutMs` or when aborted. */
export async function waitForHttp(url: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !signal?.aborted) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await response.body?.cancel();
      if (response.status < 500) return true;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  return false;
}

export function freePort(): Promise<number> {
  return tryListen(0, '127.0.0.1');
}
