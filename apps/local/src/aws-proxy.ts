/**
 * The AWS endpoint clients talk to: a streaming pass-through in front of the emulator that adds what the
 * emulator lacks — signed requests checked and authorized against each caller's IAM role (see aws-auth/),
 * STS for IRSA, S3 bucket notification configurations with event delivery to SQS, and the bucket's CORS
 * rules so that the dashboard (and only the dashboard) can upload to a presigned URL — and serves ranged
 * GetObjects from the emulator's files, as the emulator reads a whole object for every range, and the
 * multipart-upload listings it lacks (ListParts, ListMultipartUploads) from its record of uploads in progress.
 */
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { awsError, type AwsErrorSpec } from './aws-auth/aws-errors.ts';
import type { Authorizer, Caller, Denial } from './aws-auth/authorizer.ts';
import {
  deleteObjectsKeys,
  deniedDeleteResult,
  withDeleteErrors,
  withoutDeniedKeys,
} from './aws-auth/delete-objects.ts';
import { operationOf, serviceOf, type Operation, type Service } from './aws-auth/operations.ts';
import { assumeRoleWithWebIdentity, getCallerIdentity } from './aws-auth/sts.ts';
import { grantHeaders, matchingRule, requestedHeaders } from './bucket-cors.ts';
import { publishResponse, SnsDeliveries } from './sns-delivery.ts';
import { NotificationStore } from './notification-store.ts';
import { isRemovalEvent, type S3ObjectEventName } from '@thumbs/model';
import { failedCondition, isConditionalWrite, KeyLocks } from './conditional-write.ts';
import { EventOutbox } from './event-outbox.ts';
import { MessageMoveTasks, MoveTaskError } from './message-move-tasks.ts';
import { sqsResult } from './sqs-result.ts';
import {
  matchesConfiguration,
  NotificationConfigError,
  notificationXml,
  parseNotificationXml,
} from './notifications.ts';
import { Notifier } from './notifier.ts';
import { formUploadKey, readS3Request } from './s3-request.ts';
import { BadBodyError, needsMultipart, putLargeObject, UpstreamError } from './large-put.ts';
import { servableRange, serveRangedGet } from './ranged-get.ts';
import { listMultipartUploads, listParts } from './multipart-listing.ts';
import { uploadPartRefusal } from './upload-part.ts';
import type { Log } from './log.ts';
import { isVisibilityChange, withoutZeroVisibility } from './sqs-visibility.ts';

export interface AwsProxyOptions {
  port: number;
  /** Interface to listen on; loopback by default. */
  host?: string;
  upstreamPort: number;
  notificationsFile: string;
  /** Where S3 events wait until SQS accepts them (see EventOutbox). */
  eventsFile: string;
  /** The emulator's `s3StorageDir`, from which ranged GetObjects are served; unset: the emulator serves them. */
  s3StorageDir?: string;
  region: string;
  /** Identities, signatures and policies; every request is checked unless `enforce` is false. */
  authorizer: Authorizer;
  enforce: boolean;
  /** Lifetime of the credentials STS hands out (AssumeRoleWithWebIdentity without DurationSeconds). */
  sessionSeconds: number;
  log: Log;
}

export interface AwsProxy {
  port: number;
  notifier: Notifier;
  outbox: EventOutbox;
  stop(): Promise<void>;
}

const HOP_BY_HOP = ['connection', 'keep-alive', 'transfer-encoding', 'expect', 'upgrade', 'proxy-connection'];
const MAX_NOTIFICATION_XML = 1024 * 1024;
const FORM_HEAD_BYTES = 64 * 1024;
/** SQS, SNS and STS request bodies are read whole (to hash them for the signature): SQS's limit is 1 MiB. */
const MAX_QUERY_BODY = 2 * 1024 * 1024;
/** A DeleteObjects body names at most 1000 keys of at most 1 KiB each. */
const MAX_DELETE_BODY = 2 * 1024 * 1024;
/** Operations that need their own checks once the proxy has read more of the request. */
const CHECKED_LATER = new Set(['DeleteObjects', 'PostObject']);
const MOVE_TASK_OPERATIONS = new Set([
  'StartMessageMoveTask',
  'ListMessageMoveTasks',
  'CancelMessageMoveTask',
]);

function s3Error(res: ServerResponse, status: number, code: string, message: string, bucket?: string): void {
  const bucketXml = bucket ? `<BucketName>${bucket}</BucketName>` : '';
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message>` +
      `${bucketXml}<RequestId>LOCAL</RequestId></Error>`,
  );
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
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
  const { authorizer } = options;
  const account = authorizer.authority.deployment.accountId;
  const where = { region: options.region, account };
  const notifier = new Notifier(`http://127.0.0.1:${options.upstreamPort}`, store, options.region, {
    maySend: async (queueArn, bucket) =>
      (
        await authorizer.serviceMaySend('s3.amazonaws.com', queueArn, {
          arn: `arn:aws:s3:::${bucket}`,
          account,
        })
      ).allowed,
    log,
  });
  const agent = new Agent({ keepAlive: true });
  const deliveries = new SnsDeliveries(`http://127.0.0.1:${options.upstreamPort}`, options.region);
  const writeLocks = new KeyLocks();
  const moveTasks = new MessageMoveTasks(`http://127.0.0.1:${options.upstreamPort}`, options.region, log);
  const outbox = new EventOutbox({
    file: options.eventsFile,
    deliver: async (event) => void (await notifier.deliver(event)),
    log,
  });
  outbox.start();

  /** The CORS grant for a request from a browser on another origin: the bucket's rule, or nothing. */
  /** The bucket's CORS rules as Terraform writes them (none for a bucket without a configuration). */
  async function bucketCorsRules(bucket: string) {
    return (await authorizer.policiesFor(authorizer.authority.deployment)).bucketCors[bucket] ?? [];
  }

  async function corsHeaders(req: IncomingMessage, bucket?: string): Promise<Record<string, string>> {
    const origin = req.headers.origin;
    if (!origin || !bucket) return {};
    const rules = await bucketCorsRules(bucket);
    const rule = matchingRule(rules, origin, req.method ?? 'GET');
    return rule ? grantHeaders(rule, origin) : {};
  }

  function sendError(
    res: ServerResponse,
    service: Service,
    protocol: Operation['protocol'],
    spec: AwsErrorSpec,
    head: boolean,
    extraHeaders: Record<string, string> = {},
  ): void {
    const answer = awsError(service, protocol, spec, { head });
    res.writeHead(answer.status, { ...answer.headers, ...extraHeaders });
    res.end(head ? undefined : answer.body);
  }

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
      // S3 checks that the queue exists and that its policy lets S3 send for this bucket.
      const allowed =
        (await notifier.queueUrl(arn)) &&
        (await authorizer.serviceMaySend('s3.amazonaws.com', arn, { arn: `arn:aws:s3:::${bucket}`, account }))
          .allowed;
      if (!allowed) {
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

  /**
   * Writes down the event of a write that succeeded, before the write is acknowledged: once the client has its
   * answer, the event reaches SQS at least once, whatever happens to this process.
   */
  async function recordEvent(bucket: string, key: string, event: S3ObjectEventName): Promise<void> {
    if (!store.get(bucket).some((c) => matchesConfiguration(c, event, key))) return;
    const time = new Date();
    // An object deleted again before this HEAD still gets its event, without the size and ETag.
    const described = isRemovalEvent(event) ? {} : await notifier.describe(bucket, key).catch(() => ({}));
    outbox.record({
      bucket,
      key,
      event,
      time: time.toISOString(),
      sequencer: outbox.sequencer(time),
      ...described,
    });
  }

  async function putLarge(
    req: IncomingMessage,
    res: ServerResponse,
    bucket: string,
    key: string,
    cors: Record<string, string>,
  ) {
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
        res.writeHead(error.status, { 'content-type': 'application/xml', ...cors });
        return void res.end(error.body);
      }
      if (error instanceof BadBodyError) return s3Error(res, 400, 'IncompleteBody', error.message);
      throw error;
    }
    await recordEvent(bucket, key, 'ObjectCreated:Put');
    res.writeHead(200, { etag: result.eTag, 'content-length': '0', ...cors });
    res.end();
  }

  interface ForwardOptions {
    /** Runs before the answer starts (an error answers 500 instead). */
    beforeAnswer?: (status: number) => Promise<void>;
    /** Runs once the answer is complete. */
    onSuccess?: (status: number) => void;
    /** Sent instead of the request's own body (which the proxy has read). */
    body?: string;
    cors?: Record<string, string>;
    /** Answers true when a 404 must be reported as 403 (S3, for a caller without s3:ListBucket). */
    hideMissing?: () => Promise<boolean>;
    /** Rewrites a successful answer's body (read whole; only for small XML answers). */
    rewrite?: (body: string) => string;
  }

  /** Streams the request to the emulator and its answer back. */
  function forward(req: IncomingMessage, res: ServerResponse, forwarding: ForwardOptions = {}): void {
    const { body, cors = {}, beforeAnswer, onSuccess, hideMissing, rewrite } = forwarding;
    const headers = { ...req.headers };
    for (const name of HOP_BY_HOP) delete headers[name];
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    const upstream = httpRequest(
      { host: '127.0.0.1', port: options.upstreamPort, method: req.method, path: req.url, headers, agent },
      (answer) => {
        const status = answer.statusCode ?? 502;
        const responseHeaders: Record<string, string | string[] | undefined> = { ...answer.headers, ...cors };
        for (const name of HOP_BY_HOP) delete responseHeaders[name];
        let pass = (): void => {
          if (rewrite && status >= 200 && status < 300) {
            const chunks: Buffer[] = [];
            answer.on('data', (chunk: Buffer) => chunks.push(chunk));
            answer.on('end', () => {
              const text = rewrite(Buffer.concat(chunks).toString('utf8'));
              responseHeaders['content-length'] = String(Buffer.byteLength(text));
              res.writeHead(status, responseHeaders);
              res.end(text);
              onSuccess?.(status);
            });
            return;
          }
          res.writeHead(status, responseHeaders);
          answer.pipe(res);
          answer.on('end', () => onSuccess?.(status));
        };
        if (beforeAnswer) {
          const answerAfter = pass;
          pass = () =>
            void beforeAnswer(status).then(answerAfter, (error: Error) => {
              answer.resume();
              log('error', `${req.method} ${req.url}: ${error.message}`);
              s3Error(res, 500, 'InternalError', 'We encountered an internal error. Please try again.');
            });
        }
        if (status !== 404 || !hideMissing) return pass();
        hideMissing().then(
          (hide) => {
            if (!hide) return pass();
            answer.resume();
            sendError(
              res,
              's3',
              'xml',
              { status: 403, code: 'AccessDenied', message: 'Access Denied' },
              req.method === 'HEAD',
              cors,
            );
          },
          (error: Error) => res.destroy(error),
        );
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

  /** A CORS preflight, answered from the bucket's CORS rules as S3 does (SQS and SNS grant none). */
  async function preflight(req: IncomingMessage, res: ServerResponse, service: Service): Promise<void> {
    const { bucket } = readS3Request('GET', req.url ?? '/', req.headers);
    const origin = req.headers.origin;
    const method = String(req.headers['access-control-request-method'] ?? '');
    const wanted = requestedHeaders(req.headers);
    const rules = service === 's3' && bucket ? await bucketCorsRules(bucket) : [];
    const rule = origin && method ? matchingRule(rules, origin, method, wanted) : undefined;
    if (!rule || !origin) {
      const message =
        rules.length === 0
          ? 'CORSResponse: CORS is not enabled for this bucket.'
          : 'CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, ' +
            "request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.";
      return s3Error(res, 403, 'AccessForbidden', message);
    }
    res.writeHead(200, grantHeaders(rule, origin, { headers: wanted }));
    res.end();
  }

  /** DeleteObjects: s3:DeleteObject is authorized per key; denied keys come back as errors in the result. */
  async function deleteObjects(
    req: IncomingMessage,
    res: ServerResponse,
    caller: Caller | undefined,
    operation: Operation,
    cors: Record<string, string>,
  ): Promise<void> {
    const xml = await readBody(req, MAX_DELETE_BODY);
    if (xml === undefined) return s3Error(res, 400, 'MaxMessageLengthExceeded', 'Your request was too big.');
    const bucket = operation.bucket ?? '';
    // Each key the emulator was asked to delete is one ObjectRemoved event, as in S3.
    const removals = (sent: string) => async (status: number) => {
      if (status !== 200) return;
      for (const key of deleteObjectsKeys(sent)) await recordEvent(bucket, key, 'ObjectRemoved:Delete');
    };
    if (!caller) return forward(req, res, { body: xml, cors, beforeAnswer: removals(xml) });
    const denied: string[] = [];
    for (const key of deleteObjectsKeys(xml)) {
      const denial = await authorizer.authorizeOperation(caller, {
        ...operation,
        checks: [{ action: 's3:DeleteObject', resource: `arn:aws:s3:::${bucket}/${key}` }],
      });
      if (denial) denied.push(key);
    }
    if (denied.length === 0) return forward(req, res, { body: xml, cors, beforeAnswer: removals(xml) });
    const kept = withoutDeniedKeys(xml, denied);
    if (kept === undefined) {
      res.writeHead(200, { 'content-type': 'application/xml', ...cors });
      return void res.end(deniedDeleteResult(denied));
    }
    forward(req, res, {
      body: kept,
      cors,
      beforeAnswer: removals(kept),
      rewrite: (answer) => withDeleteErrors(answer, denied),
    });
  }

  /**
   * A Publish whose topic has a queue subscription that the queue's policy does not let SNS send to: the proxy
   * delivers to the others itself (the emulator would deliver to all) and answers; false when every
   * subscription accepts it, so the emulator can deliver as usual.
   */
  async function publishAsAuthorized(res: ServerResponse, operation: Operation): Promise<boolean> {
    const topicArn = operation.checks[0]?.resource ?? '';
    // A topic the emulator does not know is reported by the emulator itself.
    const subscriptions = await deliveries.subscriptions(topicArn).catch(() => undefined);
    if (!subscriptions) return false;
    const accepted = [];
    for (const subscription of subscriptions) {
      const decision = await authorizer.serviceMaySend('sns.amazonaws.com', subscription.queueArn, {
        arn: topicArn,
        account,
      });
      if (decision.allowed) accepted.push(subscription);
      else
        log(
          'warn',
          `SNS message from ${topicArn} not delivered to ${subscription.queueArn}: ${decision.message}`,
        );
    }
    if (accepted.length === subscriptions.length) return false;
    if (operation.name !== 'Publish') {
      sendError(
        res,
        'sns',
        'query',
        {
          status: 501,
          code: 'NotImplemented',
          message:
            'The local endpoint cannot deliver a PublishBatch to a topic with a queue that refuses SNS.',
        },
        false,
      );
      return true;
    }
    const deliverable = accepted.filter((subscription) => {
      // Filter policies are the emulator's to apply; on this path nothing is delivered that it might filter out.
      if (subscription.filtered)
        log('warn', `SNS message from ${topicArn} not delivered to filtered ${subscription.arn}`);
      return !subscription.filtered;
    });
    const messageId = await deliveries.deliver(topicArn, operation.params, deliverable);
    res.writeHead(200, { 'content-type': 'text/xml' });
    res.end(publishResponse(messageId));
    return true;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const rawUrl = req.url ?? '/';
    const service = serviceOf(rawUrl, req.headers, method);
    if (method === 'OPTIONS') return preflight(req, res, service);

    let body: string | undefined;
    if (service !== 's3') {
      body = await readBody(req, MAX_QUERY_BODY);
      if (body === undefined) return s3Error(res, 413, 'RequestEntityTooLarge', 'Request body too large.');
    }
    const operation = operationOf(service, { method, rawUrl, headers: req.headers, body }, where);
    const head = method === 'HEAD';
    const cors = service === 's3' ? await corsHeaders(req, operation.bucket) : {};
    const refuse = (denial: Denial) => sendError(res, service, operation.protocol, denial, head, cors);

    if (service === 'sts' && operation.name === 'AssumeRoleWithWebIdentity') {
      const answer = await assumeRoleWithWebIdentity(operation.params, {
        authorizer,
        defaultSessionSeconds: options.sessionSeconds,
      });
      if ('code' in answer) return refuse(answer);
      res.writeHead(answer.status, { 'content-type': 'text/xml' });
      return void res.end(answer.body);
    }

    // A form upload is signed inside its form (POST policy), which the endpoint does not verify: refuse it plainly.
    if (options.enforce && operation.name === 'PostObject') {
      return refuse({
        status: 501,
        code: 'NotImplemented',
        message:
          'Browser form uploads (POST Object) are not supported by the local endpoint while enforcement is on; use a presigned PUT.',
      });
    }
    let caller: Caller | undefined;
    if (options.enforce || service === 'sts') {
      const authenticated = authorizer.authenticate(service, {
        method,
        rawUrl,
        headers: req.headers,
        payloadHash: body === undefined ? undefined : sha256(body),
      });
      if ('code' in authenticated) return refuse(authenticated);
      caller = authenticated;
    }
    if (service === 'sts') {
      if (operation.name !== 'GetCallerIdentity' || !caller) {
        return refuse({
          status: 400,
          code: 'InvalidAction',
          message: `The local STS does not implement ${operation.name ?? 'this request'}.`,
        });
      }
      const answer = await getCallerIdentity(caller, authorizer);
      res.writeHead(answer.status, { 'content-type': 'text/xml' });
      return void res.end(answer.body);
    }
    if (caller) {
      if (!operation.name || (operation.checks.length === 0 && !CHECKED_LATER.has(operation.name))) {
        return refuse({
          status: 501,
          code: 'NotImplemented',
          message: `The local AWS endpoint does not know which IAM actions ${operation.name ?? `${method} ${rawUrl.split('?')[0]}`} needs, so it refuses it.`,
        });
      }
      const denial = await authorizer.authorizeOperation(caller, operation);
      if (denial) {
        log('warn', `AWS denied ${caller.identity.role}: ${denial.message}`);
        return refuse(denial);
      }
    }
    const knownCaller = caller;
    // S3 reports a missing object as missing only to a caller that may list the bucket.
    const hideMissing = knownCaller
      ? (bucket: string) => async () => !(await authorizer.mayKnowMissing(knownCaller, bucket))
      : undefined;

    if (service === 'sqs' && operation.name && MOVE_TASK_OPERATIONS.has(operation.name)) {
      return answerMoveTask(res, operation);
    }
    if (service === 'sqs') {
      const changed = operation.name === 'SetQueueAttributes' ? operation.checks[0]?.resource : undefined;
      const sent = isVisibilityChange(req.headers) ? withoutZeroVisibility(body ?? '') : body;
      return forward(req, res, { body: sent, onSuccess: () => changed && authorizer.forgetPolicy(changed) });
    }
    if (service === 'sns') {
      if (caller && operation.name?.startsWith('Publish')) {
        const delivered = await publishAsAuthorized(res, operation);
        if (delivered) return;
      }
      const changed = operation.name === 'SetTopicAttributes' ? operation.checks[0]?.resource : undefined;
      return forward(req, res, { body, onSuccess: () => changed && authorizer.forgetPolicy(changed) });
    }

    const s3 = readS3Request(method, rawUrl, req.headers);
    const { bucket, key, type } = s3;
    if (bucket && type.kind === 'notification-put') return putNotification(req, res, bucket);
    if (bucket && type.kind === 'notification-get') return getNotification(res, bucket);
    if (bucket && operation.name === 'DeleteObjects') return deleteObjects(req, res, caller, operation, cors);
    if (bucket && (operation.name === 'ListParts' || operation.name === 'ListMultipartUploads'))
      return answerListing(res, operation.name, bucket, key ?? '', rawUrl, cors);
    if (operation.name === 'UploadPart') {
      const refusal = uploadPartRefusal(new URL(rawUrl, 'http://local').searchParams, req.headers);
      if (refusal) {
        res.setHeader('connection', 'close');
        res.on('finish', () => req.destroy());
        return sendError(res, 's3', 'xml', refusal, false, cors);
      }
    }
    if (bucket && key && type.kind === 'object-created') {
      const recordCreated = async (status: number) => {
        if (status >= 200 && status < 300) await recordEvent(bucket, key, type.event);
      };
      if (type.event === 'ObjectCreated:Put' && isConditionalWrite(req.headers)) {
        return writeLocks.run(`${bucket}/${key}`, async () => {
          const current = await notifier.describe(bucket, key).catch((error: unknown) => {
            if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404)
              return undefined;
            throw error;
          });
          const failed = failedCondition(req.headers, current, key);
          if (failed) {
            req.resume();
            return sendError(res, 's3', 'xml', failed, false, cors);
          }
          await new Promise<void>((resolve) => {
            res.on('close', resolve);
            forward(req, res, { cors, beforeAnswer: recordCreated });
          });
        });
      }
      if (type.event === 'ObjectCreated:Put' && needsMultipart(req.headers))
        return putLarge(req, res, bucket, key, cors);
      const source = operation.name === 'CopyObject' ? operation.checks[0]?.resource : undefined;
      const sourceBucket = source?.slice('arn:aws:s3:::'.length).split('/')[0];
      return forward(req, res, {
        cors,
        hideMissing: sourceBucket ? hideMissing?.(sourceBucket) : undefined,
        beforeAnswer: recordCreated,
      });
    }
    if (bucket && type.kind === 'form-upload') {
      const head: Buffer[] = [];
      let headSize = 0;
      req.on('data', (chunk: Buffer) => {
        if (headSize < FORM_HEAD_BYTES) head.push(chunk);
        headSize += chunk.length;
      });
      return forward(req, res, {
        cors,
        beforeAnswer: async (status) => {
          const formKey = formUploadKey(req.headers['content-type'] ?? '', Buffer.concat(head));
          if (formKey && ((status >= 200 && status < 300) || status === 303))
            await recordEvent(bucket, formKey, 'ObjectCreated:Post');
        },
      });
    }
    const objectRead = bucket && key && (operation.name === 'GetObject' || operation.name === 'HeadObject');
    const hide = objectRead ? hideMissing?.(bucket) : undefined;
    const range = servableRange(req.headers);
    if (bucket && key && type.kind === 'object-get' && range && options.s3StorageDir) {
      const upstream = { port: options.upstreamPort, agent, storageDir: options.s3StorageDir };
      return serveRangedGet(upstream, req, res, { bucket, key, range }, cors, () =>
        forward(req, res, { cors, hideMissing: hide }),
      );
    }
    if (bucket && key && type.kind === 'object-removed') {
      return forward(req, res, {
        cors,
        beforeAnswer: async (status) => {
          if (status >= 200 && status < 300) await recordEvent(bucket, key, 'ObjectRemoved:Delete');
        },
      });
    }
    if (bucket && type.kind === 'bucket-delete') {
      return forward(req, res, {
        cors,
        onSuccess: (status) => {
          if (status === 204) store.set(bucket, []);
        },
      });
    }
    forward(req, res, { cors, hideMissing: hide });
  }

  /** ListParts and ListMultipartUploads, which the emulator lacks (see multipart-listing.ts). */
  async function answerListing(
    res: ServerResponse,
    name: 'ListParts' | 'ListMultipartUploads',
    bucket: string,
    key: string,
    rawUrl: string,
    cors: Record<string, string>,
  ): Promise<void> {
    if (!options.s3StorageDir) {
      return sendError(
        res,
        's3',
        'xml',
        { status: 501, code: 'NotImplemented', message: `${name} needs the emulator's storage directory` },
        false,
        cors,
      );
    }
    if (!(await notifier.bucketExists(bucket))) {
      return sendError(
        res,
        's3',
        'xml',
        { status: 404, code: 'NoSuchBucket', message: 'The specified bucket does not exist', bucket },
        false,
        cors,
      );
    }
    const params = new URL(rawUrl, 'http://local').searchParams;
    const answer =
      name === 'ListParts'
        ? await listParts(options.s3StorageDir, bucket, key, params)
        : await listMultipartUploads(options.s3StorageDir, bucket, params);
    if (typeof answer !== 'string') return sendError(res, 's3', 'xml', answer, false, cors);
    res.writeHead(200, { 'content-type': 'application/xml', ...cors });
    res.end(answer);
  }

  /** The emulator has no message move tasks: the endpoint runs them (the caller is already authorized). */
  async function answerMoveTask(res: ServerResponse, operation: Operation): Promise<void> {
    const { params, protocol } = operation;
    const name = operation.name ?? '';
    let result: Record<string, unknown>;
    try {
      if (name === 'StartMessageMoveTask') result = await moveTasks.start(params);
      else if (name === 'ListMessageMoveTasks') result = { Results: await moveTasks.listChecked(params) };
      else result = moveTasks.cancel(params);
    } catch (error) {
      if (!(error instanceof MoveTaskError)) throw error;
      return sendError(res, 'sqs', protocol, error.spec, false);
    }
    const answer = sqsResult(protocol, name, result);
    res.writeHead(200, answer.headers);
    res.end(answer.body);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: Error) => {
      log('error', `AWS proxy: ${req.method} ${req.url} failed: ${error.message}`);
      if (res.headersSent) return void res.destroy();
      // In the failing request's own service shape, so that its SDK can read the error.
      const service = serviceOf(req.url ?? '/', req.headers, req.method ?? 'GET');
      const protocol = service === 's3' ? 'xml' : req.headers['x-amz-target'] ? 'json' : 'query';
      const internal = { status: 500, code: 'InternalError', message: 'We encountered an internal error.' };
      sendError(res, service, protocol, internal, req.method === 'HEAD');
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
    outbox,
    async stop() {
      await outbox.stop();
      await moveTasks.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
      notifier.close();
      deliveries.close();
      authorizer.close();
    },
  };
}
