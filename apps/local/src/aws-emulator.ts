/**
 * The local AWS: the embedded fauxqs emulator (persisted under DATA_DIR) behind the proxy that authenticates
 * and authorizes every request as AWS would and adds S3 notifications.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Deployment } from '@thumbs/iam';
import { startFauxqs } from 'fauxqs';
import { Authorizer } from './aws-auth/authorizer.ts';
import { IdentityAuthority, loadOrCreateKey, OPERATOR_KEY } from './aws-auth/identities.ts';
import { startAwsProxy, type AwsProxy } from './aws-proxy.ts';
import type { Log } from './log.ts';
import { useS3ListingOrder } from './s3-listing-order.ts';

export interface AwsEmulatorOptions {
  dataDir: string;
  /** Port clients use (the proxy); 0 picks a free one. */
  port: number;
  region: string;
  /** The deployment whose Terraform policies apply to STS sessions and the README's operator key. */
  deployment: Deployment;
  /** Check signatures and authorize every request (LOCAL_AWS_ENFORCE). */
  enforce: boolean;
  /** Lifetime of STS credentials (LOCAL_CREDENTIAL_SECONDS). */
  sessionSeconds: number;
  log: Log;
}

export interface AwsEmulator {
  endpoint: string;
  port: number;
  proxy: AwsProxy;
  authority: IdentityAuthority;
  stop(): Promise<void>;
}

export async function startAwsEmulator(options: AwsEmulatorOptions): Promise<AwsEmulator> {
  const awsDir = join(options.dataDir, 'aws');
  const s3Dir = join(options.dataDir, 's3');
  mkdirSync(awsDir, { recursive: true });
  mkdirSync(s3Dir, { recursive: true });
  const authority = new IdentityAuthority(
    loadOrCreateKey(join(options.dataDir, 'aws-signing-key')),
    options.deployment,
    [OPERATOR_KEY],
  );
  await useS3ListingOrder();
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
      eventsFile: join(options.dataDir, 's3-events.jsonl'),
      s3StorageDir: s3Dir,
      region: options.region,
      authorizer: new Authorizer(authority, `http://127.0.0.1:${fauxqs.port}`, options.region),
      enforce: options.enforce,
      sessionSeconds: options.sessionSeconds,
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
    authority,
    async stop() {
      await proxy.stop();
      await fauxqs.stop();
    },
  };
}
