/**
 * What a request to the local AWS endpoint asks for, in IAM's terms: the service and protocol it speaks, the
 * operation, and each (action, resource, context) that AWS authorizes for it. Mapped from the operations'
 * documented permissions ("Actions, resources, and condition keys" per service); an operation without a
 * mapping here is refused as not implemented rather than guessed.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { readS3Request } from '../s3-request.ts';

export type Service = 's3' | 'sqs' | 'sns' | 'sts';
export type Protocol = 'xml' | 'json' | 'query';

export interface Check {
  action: string;
  resource: string;
  context?: Record<string, string | string[]>;
}

export interface Operation {
  service: Service;
  protocol: Protocol;
  /** The API operation, e.g. GetObject, SendMessage; `undefined` when the request names none we know. */
  name?: string;
  checks: Check[];
  /** S3: the bucket and key addressed. */
  bucket?: string;
  key?: string;
  /** Query-protocol parameters or the JSON body, for the handlers that need them (STS, SNS deliveries). */
  params: Record<string, string>;
}

export interface Where {
  region: string;
  account: string;
}

function header(headers: IncomingHttpHeaders, name: string): string {
  const value = headers[name];
  return Array.isArray(value) ? (value[0] ?? '') : (value ?? '');
}

/** The service named in the credential scope of a signed request (header or presigned), if any. */
export function signedService(rawUrl: string, headers: IncomingHttpHeaders): string | undefined {
  const authorization = header(headers, 'authorization');
  const scope =
    /Credential=[^/,\s]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(authorization)?.[1] ??
    /[?&]X-Amz-Credential=[^&]*?(?:%2F|\/)[^&]*?(?:%2F|\/)[^&]*?(?:%2F|\/)([^&%/]+)(?:%2F|\/)aws4_request/i.exec(
      rawUrl,
    )?.[1];
  return scope;
}

/** SQS, SNS and STS speak form-encoded queries or AWS JSON; anything else here is S3. */
export function serviceOf(rawUrl: string, headers: IncomingHttpHeaders, method: string): Service {
  const signed = signedService(rawUrl, headers);
  if (signed === 'sqs' || signed === 'sns' || signed === 'sts') return signed;
  if (signed === 's3') return 's3';
  if (header(headers, 'x-amz-target').startsWith('AmazonSQS.')) return 'sqs';
  // Unsigned form posts: STS's AssumeRoleWithWebIdentity is the one AWS call made without a signature.
  if (method === 'POST' && header(headers, 'content-type').includes('x-www-form-urlencoded')) return 'sts';
  return 's3';
}

// --- S3 ---------------------------------------------------------------------------------------------

const s3Arn = (bucket: string, key?: string) => `arn:aws:s3:::${bucket}${key === undefined ? '' : `/${key}`}`;

/** Bucket subresources by method → action (https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html). */
const BUCKET_SUBRESOURCES: Record<string, Partial<Record<string, [string, string]>>> = {
  notification: {
    GET: ['GetBucketNotificationConfiguration', 's3:GetBucketNotification'],
    PUT: ['PutBucketNotificationConfiguration', 's3:PutBucketNotification'],
  },
  cors: {
    GET: ['GetBucketCors', 's3:GetBucketCORS'],
    PUT: ['PutBucketCors', 's3:PutBucketCORS'],
    DELETE: ['DeleteBucketCors', 's3:PutBucketCORS'],
  },
  policy: {
    GET: ['GetBucketPolicy', 's3:GetBucketPolicy'],
    PUT: ['PutBucketPolicy', 's3:PutBucketPolicy'],
    DELETE: ['DeleteBucketPolicy', 's3:DeleteBucketPolicy'],
  },
  lifecycle: {
    GET: ['GetBucketLifecycleConfiguration', 's3:GetLifecycleConfiguration'],
    PUT: ['PutBucketLifecycleConfiguration', 's3:PutLifecycleConfiguration'],
    DELETE: ['DeleteBucketLifecycle', 's3:PutLifecycleConfiguration'],
  },
  tagging: {
    GET: ['GetBucketTagging', 's3:GetBucketTagging'],
    PUT: ['PutBucketTagging', 's3:PutBucketTagging'],
    DELETE: ['DeleteBucketTagging', 's3:PutBucketTagging'],
  },
  versioning: {
    GET: ['GetBucketVersioning', 's3:GetBucketVersioning'],
    PUT: ['PutBucketVersioning', 's3:PutBucketVersioning'],
  },
  encryption: {
    GET: ['GetBucketEncryption', 's3:GetEncryptionConfiguration'],
    PUT: ['PutBucketEncryption', 's3:PutEncryptionConfiguration'],
  },
  location: { GET: ['GetBucketLocation', 's3:GetBucketLocation'] },
  uploads: { GET: ['ListMultipartUploads', 's3:ListBucketMultipartUploads'] },
  versions: { GET: ['ListObjectVersions', 's3:ListBucketVersions'] },
};

const OBJECT_SUBRESOURCES: Record<string, Partial<Record<string, [string, string]>>> = {
  tagging: {
    GET: ['GetObjectTagging', 's3:GetObjectTagging'],
    PUT: ['PutObjectTagging', 's3:PutObjectTagging'],
    DELETE: ['DeleteObjectTagging', 's3:DeleteObjectTagging'],
  },
  acl: { GET: ['GetObjectAcl', 's3:GetObjectAcl'], PUT: ['PutObjectAcl', 's3:PutObjectAcl'] },
};

/** Query parameters that are request options, not subresources. */
function isOption(name: string): boolean {
  return (
    name === 'x-id' ||
    name.toLowerCase().startsWith('x-amz-') ||
    /^(list-type|prefix|delimiter|max-keys|continuation-token|start-after|encoding-type|fetch-owner|marker|partNumber|versionId|response-.*|key-marker|upload-id-marker|max-uploads|max-parts|part-number-marker)$/.test(
      name,
    )
  );
}

/** The source of a CopyObject / UploadPartCopy: `bucket/key` (URL-encoded), optionally `?versionId=`. */
function copySource(value: string): { bucket: string; key: string } | undefined {
  const path = decodeURIComponent(value.split('?')[0] ?? '').replace(/^\//, '');
  const slash = path.indexOf('/');
  return slash > 0 ? { bucket: path.slice(0, slash), key: path.slice(slash + 1) } : undefined;
}

function s3Operation(method: string, rawUrl: string, headers: IncomingHttpHeaders): Operation {
  const { bucket, key } = readS3Request(method, rawUrl, headers);
  const url = new URL(rawUrl, 'http://local');
  const subresources = [...url.searchParams.keys()].filter((name) => !isOption(name));
  const base = { service: 's3' as const, protocol: 'xml' as const, bucket, key, params: {} };
  const op = (name: string, checks: Check[]): Operation => ({ ...base, name, checks });
  const unknown: Operation = { ...base, checks: [] };

  if (!bucket) {
    return method === 'GET' && subresources.length === 0
      ? op('ListBuckets', [{ action: 's3:ListAllMyBuckets', resource: '*' }])
      : unknown;
  }
  const bucketArn = s3Arn(bucket);
  if (!key) {
    if (subresources.length === 0) {
      if (method === 'GET') {
        const context: Record<string, string> = {};
        for (const [param, name] of [
          ['prefix', 's3:prefix'],
          ['delimiter', 's3:delimiter'],
          ['max-keys', 's3:max-keys'],
        ] as const) {
          const value = url.searchParams.get(param);
          if (value !== null) context[name] = value;
        }
        const name = url.searchParams.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects';
        return op(name, [{ action: 's3:ListBucket', resource: bucketArn, context }]);
      }
      if (method === 'HEAD') return op('HeadBucket', [{ action: 's3:ListBucket', resource: bucketArn }]);
      if (method === 'PUT') return op('CreateBucket', [{ action: 's3:CreateBucket', resource: bucketArn }]);
      if (method === 'DELETE')
        return op('DeleteBucket', [{ action: 's3:DeleteBucket', resource: bucketArn }]);
      // A browser form upload (POST Object): the key is in the form, authorized by the proxy once read.
      if (method === 'POST') return op('PostObject', []);
      return unknown;
    }
    if (subresources.length === 1 && subresources[0] === 'delete' && method === 'POST') {
      // DeleteObjects: AWS authorizes s3:DeleteObject per key in the body (the proxy adds those checks).
      return op('DeleteObjects', []);
    }
    const entry =
      subresources.length === 1 ? BUCKET_SUBRESOURCES[subresources[0] ?? '']?.[method] : undefined;
    return entry ? op(entry[0], [{ action: entry[1], resource: bucketArn }]) : unknown;
  }

  const objectArn = s3Arn(bucket, key);
  const has = (name: string) => url.searchParams.has(name);
  if (subresources.length === 0) {
    if (method === 'GET' || method === 'HEAD') {
      return op(method === 'GET' ? 'GetObject' : 'HeadObject', [
        { action: 's3:GetObject', resource: objectArn },
      ]);
    }
    if (method === 'PUT') {
      const put: Check = { action: 's3:PutObject', resource: objectArn };
      const source = header(headers, 'x-amz-copy-source');
      if (!source) return op('PutObject', [put]);
      const from = copySource(source);
      if (!from) return unknown;
      return op('CopyObject', [{ action: 's3:GetObject', resource: s3Arn(from.bucket, from.key) }, put]);
    }
    if (method === 'DELETE') return op('DeleteObject', [{ action: 's3:DeleteObject', resource: objectArn }]);
    return unknown;
  }
  if (subresources.length === 1 && subresources[0] === 'uploads' && method === 'POST')
    return op('CreateMultipartUpload', [{ action: 's3:PutObject', resource: objectArn }]);
  if (subresources.length === 1 && subresources[0] === 'uploadId') {
    const uploadId = { action: 's3:PutObject', resource: objectArn };
    if (method === 'PUT' && has('partNumber')) {
      const source = header(headers, 'x-amz-copy-source');
      const from = source ? copySource(source) : undefined;
      if (source && !from) return unknown;
      return from
        ? op('UploadPartCopy', [{ action: 's3:GetObject', resource: s3Arn(from.bucket, from.key) }, uploadId])
        : op('UploadPart', [uploadId]);
    }
    if (method === 'POST') return op('CompleteMultipartUpload', [uploadId]);
    if (method === 'DELETE')
      return op('AbortMultipartUpload', [{ action: 's3:AbortMultipartUpload', resource: objectArn }]);
    if (method === 'GET')
      return op('ListParts', [{ action: 's3:ListMultipartUploadParts', resource: objectArn }]);
    return unknown;
  }
  const entry = subresources.length === 1 ? OBJECT_SUBRESOURCES[subresources[0] ?? '']?.[method] : undefined;
  return entry ? op(entry[0], [{ action: entry[1], resource: objectArn }]) : unknown;
}

// --- SQS ----------------------------------------------------------------------------------------------

/** Operations whose IAM action is another operation's (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-api-permissions-reference.html). */
const SQS_ACTION_OF: Record<string, string> = {
  SendMessageBatch: 'SendMessage',
  DeleteMessageBatch: 'DeleteMessage',
  ChangeMessageVisibilityBatch: 'ChangeMessageVisibility',
};
/** SQS operations that apply to no particular queue. */
const SQS_ACCOUNT_WIDE = new Set(['ListQueues']);

export function queueArnFromUrl(queueUrl: string, where: Where): string | undefined {
  const path = URL.canParse(queueUrl) ? new URL(queueUrl).pathname : queueUrl;
  const [account, name] = path.split('/').filter(Boolean).slice(-2);
  if (!account || !name || !/^\d{12}$/.test(account)) return undefined;
  return `arn:aws:sqs:${where.region}:${account}:${name}`;
}

/** A message move task's handle names its source queue (base64 of {taskId, sourceArn}); the task is that queue's. */
function taskSource(handle: string | undefined): string | undefined {
  try {
    const decoded: unknown = JSON.parse(Buffer.from(handle ?? '', 'base64').toString('utf8'));
    const arn = (decoded as { sourceArn?: unknown }).sourceArn;
    return typeof arn === 'string' && arn.startsWith('arn:aws:sqs:') ? arn : undefined;
  } catch {
    return undefined;
  }
}

function sqsOperation(rawUrl: string, headers: IncomingHttpHeaders, body: string, where: Where): Operation {
  const target = header(headers, 'x-amz-target');
  let name: string | undefined;
  let params: Record<string, string> = {};
  let protocol: Protocol;
  if (target.startsWith('AmazonSQS.')) {
    protocol = 'json';
    name = target.slice('AmazonSQS.'.length);
    try {
      const parsed: unknown = JSON.parse(body || '{}');
      if (parsed && typeof parsed === 'object')
        params = Object.fromEntries(
          Object.entries(parsed).filter(([, v]) => typeof v === 'string' || typeof v === 'number'),
        ) as Record<string, string>;
    } catch {
      params = {};
    }
  } else {
    protocol = 'query';
    params = Object.fromEntries(new URLSearchParams(body));
    name = params.Action;
  }
  const base = { service: 'sqs' as const, protocol, name, params };
  if (!name) return { ...base, checks: [] };
  const action = `sqs:${SQS_ACTION_OF[name] ?? name}`;
  if (SQS_ACCOUNT_WIDE.has(name)) return { ...base, checks: [{ action, resource: '*' }] };
  const queueName = params.QueueName;
  let resource: string | undefined;
  if ((name === 'CreateQueue' || name === 'GetQueueUrl') && queueName) {
    resource = `arn:aws:sqs:${where.region}:${params.QueueOwnerAWSAccountId ?? where.account}:${queueName}`;
  } else {
    // The query protocol may address the queue by path instead of a QueueUrl parameter.
    const path = new URL(rawUrl, 'http://local').pathname;
    resource = queueArnFromUrl(params.QueueUrl ?? params.SourceArn ?? path, where);
    if (!resource && params.SourceArn?.startsWith('arn:aws:sqs:')) resource = params.SourceArn;
    if (!resource && name === 'CancelMessageMoveTask') resource = taskSource(params.TaskHandle);
  }
  if (!resource) return { ...base, checks: [] };
  if (name === 'StartMessageMoveTask') {
    // A message move task reads and deletes from the source and sends to the destination with the caller's rights.
    const checks: Check[] = [
      'StartMessageMoveTask',
      'ReceiveMessage',
      'DeleteMessage',
      'GetQueueAttributes',
    ].map((a) => ({ action: `sqs:${a}`, resource: resource ?? '' }));
    if (params.DestinationArn) checks.push({ action: 'sqs:SendMessage', resource: params.DestinationArn });
    return { ...base, checks };
  }
  return { ...base, checks: [{ action, resource }] };
}

// --- SNS ----------------------------------------------------------------------------------------------

/** The topic a subscription ARN belongs to: `arn:aws:sns:region:account:topic:subscription-id`. */
function topicOfSubscription(arn: string): string {
  return arn.split(':').slice(0, 6).join(':');
}

const SNS_ACCOUNT_WIDE = new Set(['ListTopics', 'ListSubscriptions']);
const SNS_BY_SUBSCRIPTION = new Set([
  'Unsubscribe',
  'GetSubscriptionAttributes',
  'SetSubscriptionAttributes',
]);

function snsOperation(body: string, where: Where): Operation {
  const params = Object.fromEntries(new URLSearchParams(body));
  const name = params.Action;
  const base = { service: 'sns' as const, protocol: 'query' as const, name, params };
  if (!name) return { ...base, checks: [] };
  const action = `sns:${name === 'PublishBatch' ? 'Publish' : name}`;
  if (SNS_ACCOUNT_WIDE.has(name)) return { ...base, checks: [{ action, resource: '*' }] };
  let resource: string | undefined;
  if (name === 'CreateTopic' && params.Name)
    resource = `arn:aws:sns:${where.region}:${where.account}:${params.Name}`;
  else if (SNS_BY_SUBSCRIPTION.has(name) && params.SubscriptionArn)
    resource = topicOfSubscription(params.SubscriptionArn);
  else resource = params.TopicArn ?? params.TargetArn ?? params.ResourceArn;
  if (!resource) return { ...base, checks: [] };
  const context: Record<string, string> = {};
  if (name === 'Subscribe') {
    if (params.Endpoint) context['sns:Endpoint'] = params.Endpoint;
    if (params.Protocol) context['sns:Protocol'] = params.Protocol;
  }
  return { ...base, checks: [{ action, resource, context }] };
}

// --- STS ----------------------------------------------------------------------------------------------

function stsOperation(body: string): Operation {
  const params = Object.fromEntries(new URLSearchParams(body));
  return { service: 'sts', protocol: 'query', name: params.Action, params, checks: [] };
}

/**
 * The operation a request asks for. `body` is the request body for SQS, SNS and STS (small, read whole by the
 * proxy); S3 bodies are streamed and never passed here.
 */
export function operationOf(
  service: Service,
  request: { method: string; rawUrl: string; headers: IncomingHttpHeaders; body?: string },
  where: Where,
): Operation {
  const { method, rawUrl, headers, body = '' } = request;
  switch (service) {
    case 's3':
      return s3Operation(method, rawUrl, headers);
    case 'sqs':
      return sqsOperation(rawUrl, headers, body, where);
    case 'sns':
      return snsOperation(body, where);
    case 'sts':
      return stsOperation(body);
  }
}
