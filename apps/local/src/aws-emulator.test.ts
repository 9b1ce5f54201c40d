import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketNotificationConfigurationCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketNotificationConfigurationCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { GetTopicAttributesCommand, SNSClient } from '@aws-sdk/client-sns';
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { BuildMiddleware, MetadataBearer, MiddlewareStack } from '@aws-sdk/types';
import { renderDeploymentPolicies } from '@thumbs/iam';
import { encodeS3EventKey } from '@thumbs/model';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { Readable } from 'node:stream';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roleCredentials } from './aws-auth/component-credentials.ts';
import type { SessionCredentials } from './aws-auth/identities.ts';
import { startAwsEmulator, type AwsEmulator } from './aws-emulator.ts';
import { silentLog } from './log.ts';
import { ensurePipelineResources, type PipelineResourcesSpec } from './setup.ts';
import { REGION } from './testing/local-aws.ts';
import { LOCAL_DEPLOYMENT } from '@thumbs/iam';

const deployment = LOCAL_DEPLOYMENT;
const DASHBOARD = deployment.uploadAllowedOrigins[0]!;
const EVIL = 'http://evil.example';
const policies = await renderDeploymentPolicies(deployment);
const spec: PipelineResourcesSpec = {
  bucket: 'thumbnail-pipeline',
  testSourceBucket: 'thumbnail-test-source',
  uploadPrefix: 'uploads/',
  queueName: 'thumbnail-jobs',
  dlqName: 'thumbnail-jobs-dlq',
  topicName: 'thumbnail-events',
  maxReceiveCount: 3,
  visibilityTimeoutSeconds: 30,
  // As Terraform sets them up: the work queue's policy lets the bucket's notifications in.
  queuePolicy: policies.queuePolicies[policies.arns.queue],
  topicPolicy: policies.topicPolicies[policies.arns.topic],
};

/** The test acts as the operator who applies Terraform: temporary credentials of the deploy role. */
function clientsFor(emulator: AwsEmulator) {
  const common = {
    endpoint: emulator.endpoint,
    region: REGION,
    credentials: roleCredentials(emulator.authority, 'deployer', 3600),
  };
  return {
    s3: new S3Client({ ...common, forcePathStyle: true }),
    sqs: new SQSClient(common),
    sns: new SNSClient(common),
  };
}

function startEmulator(dataDir: string, enforce = true): Promise<AwsEmulator> {
  return startAwsEmulator({
    dataDir,
    port: 0,
    region: REGION,
    deployment,
    enforce,
    sessionSeconds: 3600,
    log: silentLog,
  });
}

interface Received {
  body: Record<string, unknown>;
  record?: { eventName: string; s3: { object: { key: string; size: number; eTag: string } } };
}

/** Collects messages from the queue (deleting them) until `count` arrived, then waits `settleMs` for extras. */
async function receive(
  sqs: SQSClient,
  queueUrl: string,
  count: number,
  settleMs = 1500,
): Promise<Received[]> {
  const messages: Message[] = [];
  const deadline = Date.now() + 15_000;
  let settleUntil = count === 0 ? Date.now() + settleMs : Infinity;
  while (Date.now() < Math.min(deadline, settleUntil)) {
    const result = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    for (const message of result.Messages ?? []) {
      messages.push(message);
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
    }
    if (messages.length >= count && settleUntil === Infinity) settleUntil = Date.now() + settleMs;
  }
  return messages.map((m) => {
    const body = JSON.parse(m.Body ?? '{}') as Record<string, unknown>;
    return { body, record: (body.Records as Received['record'][] | undefined)?.[0] };
  });
}

function rawRequest(port: number, options: { method: string; path: string; host: string; body: string }) {
  return new Promise<number>((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: options.method,
        path: options.path,
        headers: { host: options.host },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('local AWS endpoint (fauxqs behind the notification proxy)', () => {
  let dataDir: string;
  let emulator: AwsEmulator;
  let clients: ReturnType<typeof clientsFor>;
  let queueUrl: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'local-aws-'));
    emulator = await startEmulator(dataDir);
    clients = clientsFor(emulator);
    const resources = await ensurePipelineResources(clients, spec);
    expect(resources.notificationApplied).toBe(true);
    queueUrl = resources.queueUrl;
  });

  afterAll(async () => {
    await emulator?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('sends one s3:TestEvent when the configuration is created, and none when setup runs again', async () => {
    const first = await receive(clients.sqs, queueUrl, 1);
    expect(first.map((m) => m.body.Event)).toEqual(['s3:TestEvent']);
    expect(first[0]?.body.Bucket).toBe('thumbnail-pipeline');

    const again = await ensurePipelineResources(clients, spec);
    expect(again.notificationApplied).toBe(false);
    expect(await receive(clients.sqs, queueUrl, 0)).toEqual([]);
  });

  it('returns the stored configuration: one queue configuration per suffix spelling under uploads/', async () => {
    const config = await clients.s3.send(
      new GetBucketNotificationConfigurationCommand({ Bucket: spec.bucket }),
    );
    expect(config.QueueConfigurations).toHaveLength(72);
    const mp4 = config.QueueConfigurations?.find((c) => c.Id === 'video-upload.mP4');
    expect(mp4?.Events).toEqual(['s3:ObjectCreated:*', 's3:ObjectRemoved:*']);
    expect(mp4?.Filter?.Key?.FilterRules).toEqual([
      { Name: 'Prefix', Value: 'uploads/' },
      { Name: 'Suffix', Value: '.mP4' },
    ]);
  });

  it('notifies for videos under uploads/ in any case, and only those', async () => {
    for (const key of [
      'uploads/a.mp4',
      'uploads/B.MOV',
      'uploads/notes.txt',
      'other/a.mp4',
      'uploads/x.mp4.txt',
    ]) {
      await clients.s3.send(new PutObjectCommand({ Bucket: spec.bucket, Key: key, Body: `body of ${key}` }));
    }
    const messages = await receive(clients.sqs, queueUrl, 2);
    expect(messages.map((m) => m.record?.s3.object.key).sort()).toEqual(['uploads/B.MOV', 'uploads/a.mp4']);
    expect(messages.every((m) => m.record?.eventName === 'ObjectCreated:Put')).toBe(true);
  });

  it('notifies ObjectRemoved:Delete for DeleteObject and for each key of DeleteObjects, without size or eTag', async () => {
    const keys = ['uploads/gone 1.mp4', 'uploads/gone 2.mp4', 'uploads/gone 3.mp4'];
    for (const key of keys) {
      await clients.s3.send(new PutObjectCommand({ Bucket: spec.bucket, Key: key, Body: 'x' }));
    }
    expect(await receive(clients.sqs, queueUrl, 3)).toHaveLength(3);
    await clients.s3.send(new DeleteObjectCommand({ Bucket: spec.bucket, Key: keys[0] }));
    await clients.s3.send(
      new DeleteObjectsCommand({
        Bucket: spec.bucket,
        Delete: { Objects: [{ Key: keys[1] }, { Key: keys[2] }, { Key: 'thumbnails/not watched.jpg' }] },
      }),
    );
    const removed = await receive(clients.sqs, queueUrl, 3);
    expect(removed.map((m) => m.record?.eventName)).toEqual(Array(3).fill('ObjectRemoved:Delete'));
    expect(removed.map((m) => m.record?.s3.object.key).sort()).toEqual(keys.map(encodeS3EventKey));
    expect(removed[0]?.record?.s3.object).not.toHaveProperty('eTag');
    expect(emulator.proxy.outbox.pending).toBe(0);
  });

  it('sends the AWS event shape: key encoding, size, eTag, event name per write kind', async () => {
    const key = 'uploads/my clip+1 é.mp4';
    const put = await clients.s3.send(
      new PutObjectCommand({ Bucket: spec.bucket, Key: key, Body: 'twelve bytes' }),
    );
    const [putEvent] = await receive(clients.sqs, queueUrl, 1);
    expect(putEvent?.body).toMatchObject({
      Records: [
        {
          eventVersion: '2.1',
          eventSource: 'aws:s3',
          awsRegion: 'us-east-1',
          eventName: 'ObjectCreated:Put',
        },
      ],
    });
    expect(putEvent?.record?.s3.object).toMatchObject({
      key: 'uploads/my+clip%2B1+%C3%A9.mp4',
      size: 12,
      eTag: put.ETag?.replaceAll('"', ''),
    });

    await clients.s3.send(
      new CopyObjectCommand({
        Bucket: spec.bucket,
        Key: 'uploads/copy.webm',
        CopySource: `${spec.bucket}/${encodeURIComponent(key)}`,
      }),
    );
    const [copyEvent] = await receive(clients.sqs, queueUrl, 1);
    expect(copyEvent?.record).toMatchObject({
      eventName: 'ObjectCreated:Copy',
      s3: { object: { key: 'uploads/copy.webm', size: 12 } },
    });

    const multipartKey = 'uploads/multi part.MKV';
    const upload = await clients.s3.send(
      new CreateMultipartUploadCommand({ Bucket: spec.bucket, Key: multipartKey }),
    );
    const part = await clients.s3.send(
      new UploadPartCommand({
        Bucket: spec.bucket,
        Key: multipartKey,
        UploadId: upload.UploadId,
        PartNumber: 1,
        Body: 'x'.repeat(1000),
      }),
    );
    expect(await receive(clients.sqs, queueUrl, 0)).toEqual([]);
    await clients.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: spec.bucket,
        Key: multipartKey,
        UploadId: upload.UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    const [completeEvent] = await receive(clients.sqs, queueUrl, 1);
    const head = await clients.s3.send(new HeadObjectCommand({ Bucket: spec.bucket, Key: multipartKey }));
    expect(completeEvent?.record).toMatchObject({
      eventName: 'ObjectCreated:CompleteMultipartUpload',
      s3: { object: { key: 'uploads/multi+part.MKV', size: 1000, eTag: head.ETag?.replaceAll('"', '') } },
    });
  });

  it('notifies for virtual-hosted-style writes', async () => {
    // Signed for the bucket's own host name, as the SDK signs virtual-hosted-style requests.
    const virtualHosted = new S3Client({
      endpoint: `http://s3.localhost:${emulator.port}`,
      region: REGION,
      credentials: emulator.authority.issue('deployer', 3600),
    });
    const url = new URL(
      await getSignedUrl(
        virtualHosted,
        new PutObjectCommand({ Bucket: spec.bucket, Key: 'uploads/virtual.avi' }),
        { expiresIn: 600 },
      ),
    );
    virtualHosted.destroy();
    expect(url.host).toBe(`${spec.bucket}.s3.localhost:${emulator.port}`);
    const status = await rawRequest(emulator.port, {
      method: 'PUT',
      path: `${url.pathname}${url.search}`,
      host: url.host,
      body: 'virtual',
    });
    expect(status).toBe(200);
    const [virtual] = await receive(clients.sqs, queueUrl, 1);
    expect(virtual?.record).toMatchObject({
      eventName: 'ObjectCreated:Put',
      s3: { object: { key: 'uploads/virtual.avi' } },
    });
  });

  /**
   * A browser form upload (POST Object) as a page sends it: the key, the file and, when `signedBy` is given,
   * a POST policy signed with those credentials (SigV4 in the form fields, no Authorization header).
   */
  function formUpload(endpoint: string, signedBy?: SessionCredentials): Promise<Response> {
    const form = new FormData();
    form.append('key', 'uploads/${filename}');
    form.append('Content-Type', 'video/mp4');
    if (signedBy) {
      const amzDate = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
      const date = amzDate.slice(0, 8);
      const fields = {
        'x-amz-algorithm': 'AWS4-HMAC-SHA256',
        'x-amz-credential': `${signedBy.accessKeyId}/${date}/${REGION}/s3/aws4_request`,
        'x-amz-date': amzDate,
        'x-amz-security-token': signedBy.sessionToken,
      };
      const policy = Buffer.from(
        JSON.stringify({
          expiration: new Date(Date.now() + 600_000).toISOString(),
          conditions: [
            { bucket: spec.bucket },
            ['starts-with', '$key', 'uploads/'],
            ['starts-with', '$Content-Type', 'video/'],
            ...Object.entries(fields).map(([name, value]) => ({ [name]: value })),
          ],
        }),
      ).toString('base64');
      const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
      const signingKey = [date, REGION, 's3', 'aws4_request'].reduce<Buffer>(
        (key, part) => hmac(key, part),
        Buffer.from(`AWS4${signedBy.secretAccessKey}`),
      );
      for (const [name, value] of Object.entries(fields)) form.append(name, value);
      form.append('policy', policy);
      form.append('x-amz-signature', hmac(signingKey, policy).toString('hex'));
    }
    form.append('file', new Blob(['form body']), 'from form.mp4');
    return fetch(`${endpoint}/${spec.bucket}`, { method: 'POST', body: form });
  }

  it('refuses browser form uploads (POST Object) with 501 NotImplemented while enforcement is on', async () => {
    const response = await formUpload(emulator.endpoint, emulator.authority.issue('deployer', 3600));
    const text = await response.text();
    expect(response.status, text).toBe(501);
    expect(text).toContain('<Code>NotImplemented</Code>');
    await expect(
      clients.s3.send(new HeadObjectCommand({ Bucket: spec.bucket, Key: 'uploads/from form.mp4' })),
    ).rejects.toMatchObject({ name: 'NotFound' });
    expect(await receive(clients.sqs, queueUrl, 0)).toEqual([]);
  });

  it('notifies for browser form uploads with enforcement off', async () => {
    const openDir = mkdtempSync(join(tmpdir(), 'local-aws-open-'));
    const open = await startEmulator(openDir, false);
    const openClients = clientsFor(open);
    try {
      const resources = await ensurePipelineResources(openClients, spec);
      const response = await formUpload(open.endpoint);
      expect(response.status).toBe(204);
      const messages = await receive(openClients.sqs, resources.queueUrl, 2);
      expect(messages.map((m) => m.body.Event ?? m.record?.eventName)).toEqual([
        's3:TestEvent',
        'ObjectCreated:Post',
      ]);
      expect(messages[1]?.record).toMatchObject({
        eventName: 'ObjectCreated:Post',
        s3: { object: { key: 'uploads/from+form.mp4', size: 9 } },
      });
    } finally {
      Object.values(openClients).forEach((client) => client.destroy());
      await open.stop();
      rmSync(openDir, { recursive: true, force: true });
    }
  });

  function preflight(path: string, origin: string, method: string, headers = 'content-type') {
    return fetch(`${emulator.endpoint}${path}`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': method,
        'access-control-request-headers': headers,
      },
    });
  }

  it("grants CORS exactly as Terraform's bucket rule says: PUT to the main bucket from the dashboard", async () => {
    const granted = await preflight(`/${spec.bucket}/uploads/x.mp4`, DASHBOARD, 'PUT');
    expect(granted.status).toBe(200);
    const grant = Object.fromEntries(
      ['allow-origin', 'allow-methods', 'allow-headers', 'expose-headers', 'max-age'].map((name) => [
        name,
        granted.headers.get(`access-control-${name}`),
      ]),
    );
    expect(grant).toEqual({
      'allow-origin': DASHBOARD,
      'allow-methods': 'PUT',
      'allow-headers': 'content-type',
      'expose-headers': 'ETag',
      'max-age': '3600',
    });

    const refused = async (path: string, origin: string, method: string, headers?: string) => {
      const response = await preflight(path, origin, method, headers);
      expect(response.status, `${method} ${path} from ${origin}`).toBe(403);
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
      await response.body?.cancel();
    };
    // Another origin: nothing, whatever it asks for.
    for (const method of ['PUT', 'GET', 'DELETE'])
      await refused(`/${spec.bucket}/uploads/x.mp4`, EVIL, method);
    // The rule allows PUT only, and only on the main bucket.
    for (const method of ['GET', 'DELETE', 'POST'])
      await refused(`/${spec.bucket}/uploads/x.mp4`, DASHBOARD, method);
    await refused(`/${spec.bucket}`, DASHBOARD, 'GET');
    await refused(`/${spec.testSourceBucket}/x.mp4`, DASHBOARD, 'PUT');
    // SQS and SNS grant no origin anything.
    for (const origin of [DASHBOARD, EVIL]) {
      await refused(
        '/',
        origin,
        'POST',
        'authorization,content-type,x-amz-date,x-amz-security-token,x-amz-target',
      );
      await refused('/000000000000/thumbnail-jobs', origin, 'POST', 'authorization,content-type,x-amz-date');
    }
  });

  /** The answer's headers when the client's requests carry an Origin header, as a browser's would. */
  function withOrigin<I extends object, O extends MetadataBearer>(
    stack: MiddlewareStack<I, O>,
    origin: string,
  ): () => Record<string, string> {
    let seen: Record<string, string> = {};
    const middleware: BuildMiddleware<I, O> = (next) => async (args) => {
      (args.request as { headers: Record<string, string> }).headers.origin = origin;
      const result = await next(args);
      seen = (result.response as { headers: Record<string, string> }).headers;
      return result;
    };
    stack.add(middleware, { step: 'build', name: 'origin' });
    return () => seen;
  }

  it('adds no CORS grant to answers for other origins, other methods, or SQS and SNS', async () => {
    const common = {
      endpoint: emulator.endpoint,
      region: REGION,
      credentials: emulator.authority.issue('deployer', 3600),
    };
    const s3 = new S3Client({ ...common, forcePathStyle: true });
    const sqs = new SQSClient(common);
    const sns = new SNSClient(common);
    try {
      const s3Seen = withOrigin(s3.middlewareStack, EVIL);
      await s3.send(new PutObjectCommand({ Bucket: spec.bucket, Key: 'other/evil.txt', Body: 'x' }));
      expect(s3Seen()['access-control-allow-origin']).toBeUndefined();
      await s3.send(new GetObjectCommand({ Bucket: spec.bucket, Key: 'other/evil.txt' }));
      expect(s3Seen()['access-control-allow-origin']).toBeUndefined();

      const dashboardS3 = new S3Client({ ...common, forcePathStyle: true });
      const dashboardSeen = withOrigin(dashboardS3.middlewareStack, DASHBOARD);
      await dashboardS3.send(new GetObjectCommand({ Bucket: spec.bucket, Key: 'other/evil.txt' }));
      expect(dashboardSeen()['access-control-allow-origin']).toBeUndefined();
      await dashboardS3.send(new PutObjectCommand({ Bucket: spec.bucket, Key: 'other/ok.txt', Body: 'x' }));
      expect(dashboardSeen()['access-control-allow-origin']).toBe(DASHBOARD);
      dashboardS3.destroy();

      for (const origin of [DASHBOARD, EVIL]) {
        const sqsSeen = withOrigin(sqs.middlewareStack, origin);
        await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
        expect(sqsSeen()['access-control-allow-origin']).toBeUndefined();
        const snsSeen = withOrigin(sns.middlewareStack, origin);
        await sns.send(new GetTopicAttributesCommand({ TopicArn: policies.arns.topic }));
        expect(snsSeen()['access-control-allow-origin']).toBeUndefined();
        sqs.middlewareStack.remove('origin');
        sns.middlewareStack.remove('origin');
      }
    } finally {
      [s3, sqs, sns].forEach((client) => client.destroy());
    }
  });

  it('rejects a configuration whose queue does not exist or whose policy does not let S3 send, keeping the old one', async () => {
    // The DLQ exists but has no policy: S3 may not send to it.
    for (const arn of ['arn:aws:sqs:us-east-1:000000000000:missing', policies.arns.dlq]) {
      const refusal = await clients.s3
        .send(
          new PutBucketNotificationConfigurationCommand({
            Bucket: spec.bucket,
            NotificationConfiguration: {
              QueueConfigurations: [{ QueueArn: arn, Events: ['s3:ObjectCreated:*'] }],
            },
          }),
        )
        .then(
          () => undefined,
          (error: Error) => error,
        );
      expect(refusal).toMatchObject({
        name: 'InvalidArgument',
        message: `Unable to validate the following destination configurations: ${arn}`,
      });
    }
    const config = await clients.s3.send(
      new GetBucketNotificationConfigurationCommand({ Bucket: spec.bucket }),
    );
    expect(config.QueueConfigurations).toHaveLength(72);
  });

  it('streams a large upload through unchanged', async () => {
    const body = Buffer.alloc(8 * 1024 * 1024, 7);
    await clients.s3.send(new PutObjectCommand({ Bucket: spec.bucket, Key: 'uploads/big.ts', Body: body }));
    const [event] = await receive(clients.sqs, queueUrl, 1);
    expect(event?.record?.s3.object.size).toBe(body.length);
    const got = await clients.s3.send(new GetObjectCommand({ Bucket: spec.bucket, Key: 'uploads/big.ts' }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);
  });

  async function sha256Of(key: string): Promise<{ hash: string; size: number; contentType?: string }> {
    const got = await clients.s3.send(new GetObjectCommand({ Bucket: spec.bucket, Key: key }));
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of got.Body as Readable) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
    return { hash: hash.digest('hex'), size, contentType: got.ContentType };
  }

  const sha256 = (body: Buffer) => createHash('sha256').update(body).digest('hex');

  it('takes a 40 MB presigned PUT (beyond the emulator body limit) as one object with an ObjectCreated:Put event', async () => {
    const key = 'uploads/big presigned.mp4';
    const body = randomBytes(40_000_000);
    const url = await getSignedUrl(
      clients.s3,
      new PutObjectCommand({ Bucket: spec.bucket, Key: key, ContentType: 'video/mp4' }),
      { expiresIn: 600 },
    );
    const response = await fetch(url, {
      method: 'PUT',
      body,
      headers: { 'content-type': 'video/mp4', origin: DASHBOARD },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe(DASHBOARD);
    const eTag = response.headers.get('etag');
    // The multipart form of ETag: five 8 MiB parts.
    expect(eTag).toMatch(/^"[0-9a-f]{32}-5"$/);

    const [event] = await receive(clients.sqs, queueUrl, 1);
    expect(event?.record).toMatchObject({
      eventName: 'ObjectCreated:Put',
      s3: {
        object: { key: 'uploads/big+presigned.mp4', size: body.length, eTag: eTag?.replaceAll('"', '') },
      },
    });
    const head = await clients.s3.send(new HeadObjectCommand({ Bucket: spec.bucket, Key: key }));
    expect(head.ETag).toBe(eTag);
    expect(await sha256Of(key)).toEqual({ hash: sha256(body), size: body.length, contentType: 'video/mp4' });
  });

  it('takes SDK PutObject calls of a 30 MB Buffer and of a 20 MB aws-chunked stream, keeping metadata', async () => {
    const buffer = randomBytes(30_000_000);
    const put = await clients.s3.send(
      new PutObjectCommand({
        Bucket: spec.bucket,
        Key: 'uploads/sdk buffer.mov',
        Body: buffer,
        ContentType: 'video/quicktime',
        Metadata: { origin: 'test' },
        CacheControl: 'max-age=60',
      }),
    );
    expect(put.ETag).toMatch(/-4"$/);

    const streamed = randomBytes(20_000_000);
    const chunks = Array.from({ length: 20 }, (_, i) =>
      streamed.subarray(i * 1_000_000, (i + 1) * 1_000_000),
    );
    await clients.s3.send(
      new PutObjectCommand({
        Bucket: spec.bucket,
        Key: 'uploads/sdk stream.webm',
        Body: Readable.from(chunks),
        ContentLength: streamed.length,
      }),
    );

    const events = await receive(clients.sqs, queueUrl, 2);
    expect(events.map((e) => [e.record?.eventName, e.record?.s3.object.size]).sort()).toEqual([
      ['ObjectCreated:Put', 20_000_000],
      ['ObjectCreated:Put', 30_000_000],
    ]);
    const head = await clients.s3.send(
      new HeadObjectCommand({ Bucket: spec.bucket, Key: 'uploads/sdk buffer.mov' }),
    );
    expect(head).toMatchObject({ ETag: put.ETag, Metadata: { origin: 'test' }, CacheControl: 'max-age=60' });
    expect(await sha256Of('uploads/sdk buffer.mov')).toMatchObject({
      hash: sha256(buffer),
      size: 30_000_000,
    });
    expect(await sha256Of('uploads/sdk stream.webm')).toMatchObject({
      hash: sha256(streamed),
      size: 20_000_000,
    });
  });

  it('answers a large PUT into a missing bucket with the emulator error before its body is all sent', async () => {
    await expect(
      clients.s3.send(
        new PutObjectCommand({
          Bucket: 'no-such-bucket',
          Key: 'uploads/a.mp4',
          Body: Buffer.alloc(40_000_000, 1),
        }),
      ),
    ).rejects.toMatchObject({ name: 'NoSuchBucket' });
    expect(await receive(clients.sqs, queueUrl, 0)).toEqual([]);
  });

  it('keeps queues, messages, objects and the notification configuration across a restart', async () => {
    await clients.s3.send(
      new PutObjectCommand({ Bucket: spec.bucket, Key: 'uploads/before.mp4', Body: 'before' }),
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    await emulator.stop();

    emulator = await startEmulator(dataDir);
    clients = clientsFor(emulator);
    const resources = await ensurePipelineResources(clients, spec);
    expect(resources.notificationApplied).toBe(false);
    queueUrl = resources.queueUrl;

    await clients.s3.send(
      new PutObjectCommand({ Bucket: spec.bucket, Key: 'uploads/after.mp4', Body: 'after' }),
    );
    const messages = await receive(clients.sqs, queueUrl, 2);
    expect(messages.map((m) => m.record?.s3.object.key).sort()).toEqual([
      'uploads/after.mp4',
      'uploads/before.mp4',
    ]);
    const before = await clients.s3.send(
      new GetObjectCommand({ Bucket: spec.bucket, Key: 'uploads/before.mp4' }),
    );
    expect(await before.Body?.transformToString()).toBe('before');
  });
});
