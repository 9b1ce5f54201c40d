/**
 * The AWS endpoint clients talk to: a streaming pass-through in front of the emulator that adds what the
 * emulator lacks — S3 bucket notification configurations with event delivery to SQS, and CORS so that a
 * browser can upload to a presigned URL — and serves ranged GetObjects from the emulator's files, as the
 * emulator reads a whole object for every range.
 */
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { NotificationStore } from './notification-store.ts';
import { NotificationConfigError, notificationXml, parseNotificationXml } from './notifications.ts';
import { Notifier } from './notifier.ts';
import { formUploadKey, readS3Request } from './s3-request.ts';
import { BadBodyError, needsMultipart, putLargeObject, UpstreamError } from './large-put.ts';
import { servableRange, serveRangedGet } from './ranged-get.ts';
import type { Log } from './log.ts';
import { isVisibilityChange, MAX_VISIBILITY_BODY, withoutZeroVisibility } from './sqs-visibility.ts';

export interface AwsProxyOptions {
  port: number;
  /** Interface to listen on; loopback by default. */
  host?: string;
  upstreamPort: number;
  notificationsFile: string;
  /** The emulator's `s3StorageDir`, from which ranged GetObjects are served; unset: the emulator serves them. */
  s3StorageDir?: string;
  region: string;
  log: Log;
}

export interface AwsProxy {
  port: number;
  notifier: Notifier;
  stop(): Promise<void>;
}

const HOP_BY_HOP = ['connection', 'keep-alive', 'transfer-encoding', 'expect', 'upgrade', 'proxy-connection'];
const MAX_NOTIFICATION_XML = 1024 * 1024;
const FORM_HEAD_BYTES = 64 * 1024;

function corsHeaders(req: IncomingMessage): Record<string, string> {
  return {
    'access-control-allow-origin': req.headers.origin ?? '*',
    'access-control-expose-headers': 'ETag, x-amz-request-id, x-amz-id-2, x-amz-version-id',
    vary: 'Origin',
  };
}

function s3Error(res: ServerResponse, status: number, code: string, message: string, bucket?: string): void {
  const bucketXml = bucket ? `<BucketName>${bucket}</BucketName>` : '';
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message>` +
      `${bucketXml}<RequestId>LOCAL</RequestId></Error>`,
  );
}

async function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function startAwsProxy(options: AwsProxyOptions): Promise<AwsProxy> {
  const { log } = options;
  const store = new NotificationStore(options.notificationsFile);
  const notifier = new Notifier(`http://127.0.0.1:${options.upstreamPort}`, store, options.region);
  const agent = new Agent({ keepAlive: true });

  async function putNotification(req: IncomingMessage, res: ServerResponse, bucket: string): Promise<void> {
    const xml = await readBody(req, MAX_NOTIFICATION_XML);
    if (xml === undefined) return s3Error(res, 400, 'MaxMessageLengthExceeded', 'Your request was too big.');
    if (!(await notifier.bucketExists(bucket))) {
      return s3Error(res, 404, 'NoSuchBucket', 'The specified bucket does not exist', bucket);
    }
    let configurations;
    try {
      configurations = parseNotificationXml(xml);
    } catch (error) {
      if (!(error instanceof NotificationConfigError)) throw error;
      return s3Error(res, error.code === 'NotImplemented' ? 501 : 400, error.code, error.message, bucket);
    }
    const arns = configurations.map((c) => c.queueArn);
    for (const arn of new Set(arns)) {
      if (!(await notifier.queueUrl(arn))) {
        return s3Error(
          res,
          400,
          'InvalidArgument',
          `Unable to validate the following destination configurations: ${arn}`,
          bucket,
        );
      }
    }
    store.set(bucket, configurations);
    log(
      'info',
      `S3 notification configuration for ${bucket}: ${configurations.length} queue configuration(s)`,
    );
    await notifier.sendTestEvents(bucket, arns);
    res.writeHead(200).end();
  }

  async function getNotification(res: ServerResponse, bucket: string): Promise<void> {
    if (!(await notifier.bucketExists(bucket))) {
      return s3Error(res, 404, 'NoSuchBucket', 'The specified bucket does not exist', bucket);
    }
    res.writeHead(200, { 'content-type': 'application/xml' });
    res.end(notificationXml(store.get(bucket)));
  }

  function deliver(bucket: string, key: string, event: Parameters<Notifier['objectCreated']>[2]): void {
    notifier
      .objectCreated(bucket, key, event)
      .catch((error: Error) =>
        log('warn', `S3 event ${event} for s3://${bucket}/${key} not delivered: ${error.message}`),
      );
  }

  async function putLarge(req: IncomingMessage, res: ServerResponse, bucket: string, key: string) {
    let result;
    try {
      result = await putLargeObject({ port: options.upstreamPort, agent }, req, bucket, key);
    } catch (error) {
      if ((req.destroyed && !req.complete) || res.destroyed) {
        log('warn', `PUT s3://${bucket}/${key}: the client went away mid-upload; upload aborted`);
        return;
      }
      // The rest of the body is not read: answer, then close the connection, as S3 does.
      if (!req.complete) {
        res.setHeader('connection', 'close');
        res.on('finish', () => req.destroy());
      }
      if (error instanceof UpstreamError) {
        res.writeHead(error.status, { 'content-type': 'application/xml', ...corsHeaders(req) });
        return void res.end(error.body);
      }
      if (error instanceof BadBodyError) return s3Error(res, 400, 'IncompleteBody', error.message);
      throw error;
    }
    res.writeHead(200, { etag: result.eTag, 'content-length': '0', ...corsHeaders(req) });
    res.end();
    deliver(bucket, key, 'ObjectCreated:Put');
  }

  /**
   * Streams the request (or `body`, when the proxy rewrote it) to the emulator and its answer back;
   * `onSuccess` runs once the answer is complete.
   */
  function forward(
    req: IncomingMessage,
    res: ServerResponse,
    onSuccess?: (status: number) => void,
    body?: string,
  ): void {
    const headers = { ...req.headers };
    for (const name of HOP_BY_HOP) delete headers[name];
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    const upstream = httpRequest(
      { host: '127.0.0.1', port: options.upstreamPort, method: req.method, path: req.url, headers, agent },
      (answer) => {
        const responseHeaders = { ...answer.headers, ...corsHeaders(req) };
        for (const name of HOP_BY_HOP) delete responseHeaders[name];
        res.writeHead(answer.statusCode ?? 502, responseHeaders);
        answer.pipe(res);
        answer.on('end', () => onSuccess?.(answer.statusCode ?? 0));
      },
    );
    upstream.on('error', (error) => {
      if (!res.headersSent) s3Error(res, 502, 'ServiceUnavailable', `emulator unreachable: ${error.message}`);
      else res.destroy(error);
    });
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    if (body === undefined) req.pipe(upstream);
    else upstream.end(body);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === 'OPTIONS') {
      res.writeHead(200, {
        ...corsHeaders(req),
        'access-control-allow-methods': 'GET, PUT, POST, DELETE, HEAD',
        'access-control-allow-headers': req.headers['access-control-request-headers'] ?? '*',
        'access-control-max-age': '3600',
      });
      return void res.end();
    }
    if (isVisibilityChange(req.headers)) {
      const body = await readBody(req, MAX_VISIBILITY_BODY);
      if (body === undefined) return s3Error(res, 413, 'RequestEntityTooLarge', 'Request body too large.');
      return forward(req, res, undefined, withoutZeroVisibility(body));
    }
    const s3 = readS3Request(req.method ?? 'GET', req.url ?? '/', req.headers);
    const { bucket, key, type } = s3;
    if (bucket && type.kind === 'notification-put') return putNotification(req, res, bucket);
    if (bucket && type.kind === 'notification-get') return getNotification(res, bucket);
    if (bucket && key && type.kind === 'object-created') {
      if (type.event === 'ObjectCreated:Put' && needsMultipart(req.headers))
        return putLarge(req, res, bucket, key);
      return forward(req, res, (status) => {
        if (status >= 200 && status < 300) deliver(bucket, key, type.event);
      });
    }
    if (bucket && type.kind === 'form-upload') {
      const head: Buffer[] = [];
      let headSize = 0;
      req.on('data', (chunk: Buffer) => {
        if (headSize < FORM_HEAD_BYTES) head.push(chunk);
        headSize += chunk.length;
      });
      return forward(req, res, (status) => {
        const formKey = formUploadKey(req.headers['content-type'] ?? '', Buffer.concat(head));
        if (formKey && ((status >= 200 && status < 300) || status === 303))
          deliver(bucket, formKey, 'ObjectCreated:Post');
      });
    }
    const range = servableRange(req.headers);
    if (bucket && key && type.kind === 'object-get' && range && options.s3StorageDir) {
      const upstream = { port: options.upstreamPort, agent, storageDir: options.s3StorageDir };
      return serveRangedGet(upstream, req, res, { bucket, key, range }, corsHeaders(req), () =>
        forward(req, res),
      );
    }
    if (bucket && type.kind === 'bucket-delete') {
      return forward(req, res, (status) => {
        if (status === 204) store.set(bucket, []);
      });
    }
    forward(req, res);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: Error) => {
      log('error', `AWS proxy: ${req.method} ${req.url} failed: ${error.message}`);
      if (!res.headersSent) s3Error(res, 500, 'InternalError', 'We encountered an internal error.');
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    notifier,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
      notifier.close();
    },
  };
}
