/** The local AWS: the embedded fauxqs emulator (persisted under DATA_DIR) behind the notification proxy. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startFauxqs } from 'fauxqs';
import { startAwsProxy, type AwsProxy } from './aws-proxy.ts';
import type { Log } from './log.ts';

export interface AwsEmulatorOptions {
  dataDir: string;
  /** Port clients use (the proxy); 0 picks a free one. */
  port: number;
  region: string;
  log: Log;
}

export interface AwsEmulator {
  endpoint: string;
  port: number;
  proxy: AwsProxy;
  stop(): Promise<void>;
}

export async function startAwsEmulator(options: AwsEmulatorOptions): Promise<AwsEmulator> {
  const awsDir = join(options.dataDir, 'aws');
  const s3Dir = join(options.dataDir, 's3');
  mkdirSync(awsDir, { recursive: true });
  mkdirSync(s3Dir, { recursive: true });
  const fauxqs = await startFauxqs({
    port: 0,
    logger: false,
    defaultRegion: options.region,
    dataDir: awsDir,
    s3StorageDir: s3Dir,
  });
  let proxy: AwsProxy;
  try {
    proxy = await startAwsProxy({
      port: options.port,
      upstreamPort: fauxqs.port,
      notificationsFile: join(options.dataDir, 'notifications.json'),
      s3StorageDir: s3Dir,
      region: options.region,
      log: options.log,
    });
  } catch (error) {
    await fauxqs.stop();
    throw error;
  }
  return {
    endpoint: `http://127.0.0.1:${proxy.port}`,
    port: proxy.port,
    proxy,
    async stop() {
      await proxy.stop();
      await fauxqs.stop();
    },
  };
}
