import { createLogger, exitOnConfigError } from '@thumbs/runtime';
import { buildApp } from './app.ts';
import { loadApiConfig, type ApiConfig } from './config.ts';

let config: ApiConfig;
try {
  config = loadApiConfig();
} catch (error) {
  exitOnConfigError(error, 'api');
}

const log = createLogger('api');
const { app } = await buildApp({ config, logger: log });
await app.listen({ port: config.port, host: config.host });

let closing = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (closing) return;
    closing = true;
    log.info({ signal }, 'shutting down: closing connections and deleting the fan-out queue');
    const force = setTimeout(() => process.exit(1), 15_000).unref();
    app.close().then(
      () => {
        clearTimeout(force);
        process.exit(0);
      },
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}
