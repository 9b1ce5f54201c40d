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

export function portInUseMessage(port: number, what: string, envName: string): string {
  return `port ${port} (${what}) is already in use — is another local stack running? Stop it, or set ${envName} to another port.`;
}

/** Throws PortInUseError naming the setting to change when `port` is taken. */
export async function assertPortFree(port: number, what: string, envName: string): Promise<void> {
  try {
    await tryListen(port);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new PortInUseError(portInUseMessage(port, what, envName));
    }
    throw error;
  }
}

export function freePort(): Promise<number> {
  return tryListen(0, '127.0.0.1');
}
