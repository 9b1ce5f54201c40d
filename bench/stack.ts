/**
 * The local stack (apps/local's startLocalStack: emulated AWS with notifications, worker fleet, API) on free
 * ports in a scratch DATA_DIR, a WebSocket watcher of what the API announces, and uploads timed the way a
 * user sees them.
 */
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { FRAMES, thumbnailKeys, type ServerMessage } from '@thumbs/model';
import { roleCredentials } from '../apps/local/src/aws-auth/component-credentials.ts';
import { silentLog } from '../apps/local/src/log.ts';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../apps/local/src/stack.ts';
import type { BenchContext } from './context.ts';

export const BUCKET = 'thumbnail-pipeline';

export async function startBenchStack(
  ctx: BenchContext,
  name: string,
  options: LocalStackOptions,
): Promise<{ stack: LocalStack; s3: S3Client; stop: () => Promise<void> }> {
  const stack = await startLocalStack({
    dataDir: join(ctx.scratchDir, name),
    awsPort: 0,
    kubePort: 0,
    apiPort: 0,
    webPort: 0,
    startWeb: false,
    samples: false,
    adminToken: 'bench-admin-token',
    log: silentLog,
    ...options,
    childEnv: { LOG_LEVEL: 'warn', ...options.childEnv },
  });
  if (!stack.urls.api) throw new Error('the local stack did not start its API');
  // The bench's own uploads and listings are the operator's: the deploy role.
  const s3 = new S3Client({
    endpoint: stack.urls.aws,
    region: stack.config.region,
    forcePathStyle: true,
    credentials: roleCredentials(stack.authority, 'deployer', stack.config.credentialSeconds),
  });
  return {
    stack,
    s3,
    stop: async () => {
      s3.destroy();
      await stack.stop();
    },
  };
}

/** Uploads a video under uploads/ (the S3 notification queues it); resolves with the time it started. */
export async function upload(s3: S3Client, key: string, body: Buffer): Promise<number> {
  const started = Date.now();
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, ContentType: 'video/mp4' }));
  return started;
}

export async function until<T>(
  read: () => T | Promise<T>,
  ok: (value: T) => boolean,
  timeoutMs: number,
  what: string,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface SourceSeen {
  frames: Set<string>;
  /** When the third of the three thumbnails was announced. */
  announcedAt?: number;
  /** When the job was announced done. */
  doneAt?: number;
}

/** A dashboard's WebSocket: records when each video's job and thumbnails are announced. */
export class PipelineWatch {
  readonly socket: WebSocket;
  readonly opened: Promise<void>;
  readonly #sources = new Map<string, SourceSeen>();

  constructor(apiUrl: string) {
    this.socket = new WebSocket(`${apiUrl.replace(/^http/, 'ws')}/ws`);
    this.socket.on('message', (data) => this.#receive(JSON.parse(String(data)) as ServerMessage, Date.now()));
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('error', reject);
    });
  }

  #seen(source: string): SourceSeen {
    let seen = this.#sources.get(source);
    if (!seen) this.#sources.set(source, (seen = { frames: new Set() }));
    return seen;
  }

  #receive(message: ServerMessage, now: number): void {
    if (message.type === 'job' && message.job.status === 'done')
      this.#seen(message.job.source).doneAt ??= now;
    if (message.type === 'thumbnails') {
      for (const thumbnail of message.added) {
        const seen = this.#seen(thumbnail.source);
        seen.frames.add(thumbnail.frame);
        if (seen.frames.size === FRAMES.length) seen.announcedAt ??= now;
      }
    }
  }

  announcedAt(source: string): number | undefined {
    return this.#sources.get(source)?.announcedAt;
  }

  doneAt(source: string): number | undefined {
    return this.#sources.get(source)?.doneAt;
  }

  close(): void {
    this.socket.close();
  }
}

/**
 * The seed's way of announcing: every 5 s it lists every thumbnail in the bucket and pushes the whole state.
 * Run beside ours on the same uploads, it records when that loop would first have shown all three.
 */
export class SeedTick {
  readonly #timer: NodeJS.Timeout;
  readonly #watched = new Map<string, number | undefined>();

  constructor(s3: S3Client, tickMs = 5000) {
    // A failed listing is a missed tick, as it would be for the seed.
    this.#timer = setInterval(() => void this.#tick(s3).catch(() => undefined), tickMs);
  }

  watch(source: string): void {
    this.#watched.set(source, undefined);
  }

  announcedAt(source: string): number | undefined {
    return this.#watched.get(source);
  }

  async #tick(s3: S3Client): Promise<void> {
    const keys = new Set<string>();
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'thumbnails/', ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) if (object.Key) keys.add(object.Key);
      token = page.NextContinuationToken;
    } while (token);
    const now = Date.now();
    for (const [source, at] of this.#watched) {
      if (at === undefined && thumbnailKeys(source).every((key) => keys.has(key))) {
        this.#watched.set(source, now);
      }
    }
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
