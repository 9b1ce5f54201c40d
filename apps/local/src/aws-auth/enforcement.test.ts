/**
 * The local AWS endpoint refuses what AWS refuses, over real HTTP with the real AWS SDK: each service's denial
 * in its own error shape, credentials it never issued or that have expired, S3's 403 for a missing key without
 * s3:ListBucket, presigned URLs whose signature, headers or lifetime do not hold, STS for IRSA against the
 * roles' trust policies, per-key DeleteObjects, S3 deliveries against the queue policy, and the switch.
 */
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  GetObjectTorrentCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutBucketNotificationConfigurationCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { PublishCommand } from '@aws-sdk/client-sns';
import {
  ListQueuesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { localOidcIssuer, renderDeploymentPolicies } from '@thumbs/iam';
import { topicMaySendPolicy } from '@thumbs/runtime';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../local-config.ts';
import { REGION, startLocalAws, type LocalAws } from '../testing/local-aws.ts';
import { LOCAL_DEPLOYMENT } from '@thumbs/iam';

const { bucketName: BUCKET, queueName: QUEUE, eventsTopicName: TOPIC } = LOCAL_DEPLOYMENT;
const ACCOUNT = LOCAL_DEPLOYMENT.accountId;
const QUEUE_ARN = `arn:aws:sqs:${REGION}:${ACCOUNT}:${QUEUE}`;
const TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:${TOPIC}`;

let aws: LocalAws;
let queueUrl: string;

/** The error an SDK call throws, with the fields AWS clients look at. */
async function failure(call: Promise<unknown>) {
  try {
    await call;
  } catch (error) {
    const e = error as {
      name: string;
      message: string;
      Code?: string;
      $metadata?: { httpStatusCode?: number };
    };
    return { name: e.name, code: e.Code, message: e.message, status: e.$metadata?.httpStatusCode };
  }
  throw new Error('the call succeeded');
}

function setUp(local: LocalAws): string {
  local.emulator.createBucket(BUCKET);
  local.emulator.createQueue(`${QUEUE}-dlq`);
  local.emulator.createTopic(TOPIC);
  return local.emulator.createQueue(QUEUE).queueUrl;
}

beforeAll(async () => {
  aws = await startLocalAws({ enforce: true });
  queueUrl = setUp(aws);
  await aws
    .clients('deployer')
    .s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'uploads/clip.mp4', Body: 'video' }));
});

afterAll(async () => {
  await aws?.stop();
});

describe('denials in each service’s own shape', () => {
  it('S3: 403 AccessDenied, naming the role session and the action', async () => {
    const worker = aws.clients('worker');
    const denied = await failure(
      worker.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'uploads/planted.mp4', Body: 'x' })),
    );
    expect(denied).toMatchObject({ name: 'AccessDenied', status: 403 });
    expect(denied.message).toMatch(
      /assumed-role\/thumbnail-worker\/.* is not authorized to perform: s3:PutObject on resource: "arn:aws:s3:::thumbnail-pipeline\/uploads\/planted.mp4"/,
    );
    // The same role may do what its policy grants.
    await worker.s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'thumbnails/uploads/clip.mp4/10.jpg', Body: 'j' }),
    );
  });

  it('SQS: 403 AccessDenied over the JSON protocol', async () => {
    const denied = await failure(
      aws.clients('worker').sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'x' })),
    );
    expect(denied).toMatchObject({ name: 'AccessDenied', code: 'AccessDenied', status: 403 });
    expect(denied.message).toContain(`sqs:SendMessage on resource: "${QUEUE_ARN}"`);
  });

  it('account-wide actions are decided on the resource "*"', async () => {
    const listed = await aws.clients('deployer').sqs.send(new ListQueuesCommand({}));
    expect(listed.QueueUrls?.length).toBeGreaterThan(0);
    expect(await failure(aws.clients('worker').sqs.send(new ListQueuesCommand({})))).toMatchObject({
      name: 'AccessDenied',
      status: 403,
    });
  });

  it('SNS: 403 AuthorizationError', async () => {
    const denied = await failure(
      aws.clients('keda').sns.send(new PublishCommand({ TopicArn: TOPIC_ARN, Message: 'x' })),
    );
    expect(denied).toMatchObject({ code: 'AuthorizationError', status: 403 });
    expect(denied.message).toContain('sns:Publish');
  });

  it('an operation without a known IAM mapping is refused, not guessed', async () => {
    const refused = await failure(
      aws
        .clients('deployer')
        .s3.send(new GetObjectTorrentCommand({ Bucket: BUCKET, Key: 'uploads/clip.mp4' })),
    );
    expect(refused).toMatchObject({ name: 'NotImplemented', status: 501 });
  });
});

describe('credentials', () => {
  const clientWith = (credentials: {
    accessKeyId: string;
    secretAccessKey: string;
    sessionToken?: string;
  }) => ({
    s3: new S3Client({
      endpoint: aws.endpoint,
      region: REGION,
      forcePathStyle: true,
      credentials,
      maxAttempts: 1,
    }),
    sqs: new SQSClient({ endpoint: aws.endpoint, region: REGION, credentials, maxAttempts: 1 }),
  });

  it('keys the endpoint never issued are unknown to every service', async () => {
    const stranger = clientWith({ accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'x' });
    expect(
      await failure(stranger.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'uploads/clip.mp4' }))),
    ).toMatchObject({ name: 'InvalidAccessKeyId', status: 403 });
    expect(await failure(stranger.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl })))).toMatchObject(
      {
        code: 'InvalidClientTokenId',
        status: 403,
      },
    );
  });

  it('a session past its expiry is refused as AWS refuses expired STS credentials', async () => {
    const expired = aws.authority.issue('worker', 60, { now: Date.now() - 120_000 });
    const client = clientWith(expired);
    expect(
      await failure(client.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'uploads/clip.mp4' }))),
    ).toMatchObject({ name: 'ExpiredToken', status: 400 });
    expect(await failure(client.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl })))).toMatchObject({
      code: 'ExpiredToken',
      status: 403,
    });
  });

  it('the right key with the wrong secret does not match the signature', async () => {
    const real = aws.credentials('worker');
    const forged = clientWith({ ...real, secretAccessKey: `${real.secretAccessKey.slice(1)}x` });
    expect(
      await failure(forged.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'uploads/clip.mp4' }))),
    ).toMatchObject({ name: 'SignatureDoesNotMatch', status: 403 });
  });

  it('a session token cannot be edited to another role', async () => {
    const real = aws.credentials('worker');
    const [payload = '', mac] = real.sessionToken.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { r: string };
    claims.r = 'deployer';
    const edited = `${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${mac}`;
    expect(
      await failure(
        clientWith({ ...real, sessionToken: edited }).s3.send(
          new GetObjectCommand({ Bucket: BUCKET, Key: 'uploads/clip.mp4' }),
        ),
      ),
    ).toMatchObject({ name: 'InvalidToken', status: 400 });
  });
});

describe('S3 reports a missing key only to a caller that may list the bucket', () => {
  it('404 with s3:ListBucket (the worker now has it), 403 without', async () => {
    const missing = new HeadObjectCommand({ Bucket: BUCKET, Key: 'thumbnails/uploads/new.mp4/10.jpg' });
    expect(await failure(aws.clients('worker').s3.send(missing))).toMatchObject({ status: 404 });

    const iamTf = readFileSync(join(repoRoot, 'terraform/iam.tf'), 'utf8');
    const withoutListBucket = iamTf.replace(
      /\n {2}# [^\n]*\n {2}statement \{\n {4}sid {7}= "KnowMissingKeys"[\s\S]*?\n {2}\}\n/,
      '\n',
    );
    expect(withoutListBucket).not.toContain('KnowMissingKeys');
    const planted = await startLocalAws({
      enforce: true,
      overrides: { 'terraform/iam.tf': withoutListBucket },
    });
    try {
      setUp(planted);
      const worker = planted.clients('worker').s3;
      expect(await failure(worker.send(missing))).toMatchObject({ status: 403 });
      const get = new GetObjectCommand({ Bucket: BUCKET, Key: 'uploads/deleted.mp4' });
      expect(await failure(worker.send(get))).toMatchObject({ name: 'AccessDenied', status: 403 });
    } finally {
      await planted.stop();
    }
  });
});

describe('presigned uploads, as the API signs them', () => {
  const sign = async (options: { signingDate?: Date; expiresIn?: number; secret?: string } = {}) => {
    const credentials = aws.credentials('api');
    const signer = new S3Client({
      endpoint: aws.endpoint,
      region: REGION,
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      credentials: options.secret ? { ...credentials, secretAccessKey: options.secret } : credentials,
    });
    const command = new PutObjectCommand({
      Bucket: BUCKET,
      Key: 'uploads/from-browser.mp4',
      ContentType: 'video/mp4',
      ContentLength: 5,
    });
    return getSignedUrl(signer, command, {
      expiresIn: options.expiresIn ?? 900,
      signableHeaders: new Set(['content-type', 'content-length']),
      ...(options.signingDate ? { signingDate: options.signingDate } : {}),
    });
  };
  const put = (url: string, body = 'video', contentType = 'video/mp4') =>
    fetch(url, { method: 'PUT', body, headers: { 'content-type': contentType } });
  const refusal = async (response: Response) => ({
    status: response.status,
    code: /<Code>([^<]+)<\/Code>/.exec(await response.text())?.[1],
  });

  it('stores exactly what was signed', async () => {
    expect((await put(await sign())).status).toBe(200);
  });

  it('refuses another content type, another length, another key, another secret', async () => {
    const url = await sign();
    expect(await refusal(await put(url, 'video', 'text/html'))).toEqual({
      status: 403,
      code: 'SignatureDoesNotMatch',
    });
    expect(await refusal(await put(url, 'a much longer body'))).toEqual({
      status: 403,
      code: 'SignatureDoesNotMatch',
    });
    expect(await refusal(await put(url.replace('from-browser', 'elsewhere')))).toEqual({
      status: 403,
      code: 'SignatureDoesNotMatch',
    });
    expect(
      await refusal(await put(await sign({ secret: 'not-the-secret-of-this-key-00000000000000' }))),
    ).toEqual({
      status: 403,
      code: 'SignatureDoesNotMatch',
    });
  });

  it('refuses an expired URL as S3 does', async () => {
    const response = await put(await sign({ signingDate: new Date(Date.now() - 120_000), expiresIn: 60 }));
    expect(response.status).toBe(403);
    const body = await response.text();
    expect(body).toContain('<Code>AccessDenied</Code>');
    expect(body).toContain('<Message>Request has expired</Message>');
  });

  it('dies with the session that signed it', async () => {
    const session = aws.authority.issue('api', 60, { now: Date.now() - 120_000 });
    const signer = new S3Client({
      endpoint: aws.endpoint,
      region: REGION,
      forcePathStyle: true,
      credentials: session,
    });
    const url = await getSignedUrl(
      signer,
      new GetObjectCommand({ Bucket: BUCKET, Key: 'uploads/clip.mp4' }),
      {
        expiresIn: 900,
      },
    );
    expect(await refusal(await fetch(url))).toEqual({ status: 400, code: 'ExpiredToken' });
  });
});

describe('STS for IRSA', () => {
  const assume = async (roleArn: string, subject: string) => {
    const token = aws.authority.webIdentityToken(localOidcIssuer(LOCAL_DEPLOYMENT), subject);
    const body = new URLSearchParams({
      Action: 'AssumeRoleWithWebIdentity',
      Version: '2011-06-15',
      RoleArn: roleArn,
      RoleSessionName: 'pod-1',
      WebIdentityToken: token,
    });
    const response = await fetch(aws.endpoint, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    return { status: response.status, text: await response.text() };
  };

  it("gives a service account's pod the credentials of its own role, and only that role", async () => {
    const { roles } = await renderDeploymentPolicies(LOCAL_DEPLOYMENT);
    const granted = await assume(
      roles.worker.arn,
      'system:serviceaccount:thumbnail-pipeline:thumbnail-worker',
    );
    expect(granted.status).toBe(200);
    const field = (name: string) => new RegExp(`<${name}>([^<]+)</${name}>`).exec(granted.text)?.[1] ?? '';
    const client = new S3Client({
      endpoint: aws.endpoint,
      region: REGION,
      forcePathStyle: true,
      credentials: {
        accessKeyId: field('AccessKeyId'),
        secretAccessKey: field('SecretAccessKey'),
        sessionToken: field('SessionToken'),
      },
    });
    const listed = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'uploads/' }));
    expect(listed.KeyCount).toBeGreaterThan(0);
    expect(field('Arn')).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/thumbnail-worker/pod-1`);

    const other = await assume(roles.api.arn, 'system:serviceaccount:thumbnail-pipeline:thumbnail-worker');
    expect(other.status).toBe(403);
    expect(other.text).toContain('<Code>AccessDenied</Code>');
  });

  it('refuses a token it did not sign', async () => {
    const { roles } = await renderDeploymentPolicies(LOCAL_DEPLOYMENT);
    const response = await fetch(aws.endpoint, {
      method: 'POST',
      body: new URLSearchParams({
        Action: 'AssumeRoleWithWebIdentity',
        RoleArn: roles.worker.arn,
        RoleSessionName: 'pod-1',
        WebIdentityToken: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl',
      }),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('<Code>InvalidIdentityToken</Code>');
  });
});

describe('per-key and service-to-service decisions', () => {
  it('DeleteObjects deletes what the role may delete and reports the rest as AccessDenied', async () => {
    const deployer = aws.clients('deployer').s3;
    await deployer.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'failures/uploads/a.mp4.json', Body: '{}' }),
    );
    const result = await aws.clients('worker').s3.send(
      new DeleteObjectsCommand({
        Bucket: BUCKET,
        Delete: { Objects: [{ Key: 'failures/uploads/a.mp4.json' }, { Key: 'uploads/clip.mp4' }] },
      }),
    );
    expect(result.Deleted?.map((d) => d.Key)).toEqual(['failures/uploads/a.mp4.json']);
    expect(result.Errors).toEqual([
      { Key: 'uploads/clip.mp4', Code: 'AccessDenied', Message: 'Access Denied' },
    ]);
    const left = await deployer.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'uploads/clip' }));
    expect(left.KeyCount).toBe(1);
  });

  it('S3 may notify the work queue only once its policy lets S3 send for this bucket', async () => {
    const deployer = aws.clients('deployer');
    const configure = () =>
      deployer.s3.send(
        new PutBucketNotificationConfigurationCommand({
          Bucket: BUCKET,
          NotificationConfiguration: {
            QueueConfigurations: [{ QueueArn: QUEUE_ARN, Events: ['s3:ObjectCreated:*'] }],
          },
        }),
      );
    expect((await failure(configure())).message).toMatch(
      /Unable to validate the following destination configurations/,
    );

    // Terraform's aws_sqs_queue_policy, applied as Terraform applies it.
    const { queuePolicies } = await renderDeploymentPolicies(LOCAL_DEPLOYMENT);
    await deployer.sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl: queueUrl,
        Attributes: { Policy: JSON.stringify(queuePolicies[QUEUE_ARN]) },
      }),
    );
    await configure();
    await deployer.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'uploads/notified.mp4', Body: 'v' }));
    const bodies: string[] = [];
    for (let i = 0; i < 20 && !bodies.some((b) => b.includes('notified.mp4')); i++) {
      const received = await deployer.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1, MaxNumberOfMessages: 10 }),
      );
      bodies.push(...(received.Messages ?? []).map((m) => m.Body ?? ''));
    }
    expect(bodies.some((b) => b.includes('"key":"uploads/notified.mp4"'))).toBe(true);
  });
});

describe('SNS → SQS', () => {
  it('delivers only to the queues whose policy lets SNS send for this topic', async () => {
    const allowing = aws.emulator.createQueue('thumbnail-api-allowing');
    const refusing = aws.emulator.createQueue('thumbnail-api-refusing');
    const policy = topicMaySendPolicy(allowing.queueArn, TOPIC_ARN);
    const deployer = aws.clients('deployer');
    await deployer.sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl: allowing.queueUrl,
        Attributes: { Policy: JSON.stringify(policy) },
      }),
    );
    for (const queue of [allowing, refusing]) {
      aws.emulator.subscribe({
        topic: TOPIC,
        queue: queue.queueName,
        attributes: { RawMessageDelivery: 'true' },
      });
    }
    await aws.clients('worker').sns.send(
      new PublishCommand({
        TopicArn: TOPIC_ARN,
        Message: '{"type":"job.started"}',
        MessageAttributes: { type: { DataType: 'String', StringValue: 'job.started' } },
      }),
    );
    const bodies = (name: string) =>
      (aws.emulator.inspectQueue(name)?.messages.ready ?? []).map((m) => m.body);
    expect(bodies('thumbnail-api-allowing')).toEqual(['{"type":"job.started"}']);
    expect(bodies('thumbnail-api-refusing')).toEqual([]);
  });
});

describe('LOCAL_AWS_ENFORCE=false', () => {
  it('lets every signed or unsigned request through, as the bare emulator would', async () => {
    const open = await startLocalAws({ enforce: false });
    try {
      setUp(open);
      const anyone = new S3Client({
        endpoint: open.endpoint,
        region: REGION,
        forcePathStyle: true,
        credentials: { accessKeyId: 'anything', secretAccessKey: 'anything' },
      });
      await anyone.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'uploads/planted.mp4', Body: 'x' }));
    } finally {
      await open.stop();
    }
  });
});
