import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createHash } from 'node:crypto';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthError, parseSigv4, verifySigv4, type Sigv4Options, type SignedRequest } from './sigv4.ts';

const credentials = {
  accessKeyId: 'AKIDLOCALTEST',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};
const region = 'us-east-1';
const bucket = 'thumbnail-pipeline';
const ODD_KEYS = [
  'plain.txt',
  'with space/and  two.txt',
  'plus+sign+.txt',
  'ünïcødé/日本語 🎬.mp4',
  'tilde~equals=amp&semi;.txt',
  "quote'(paren)*star!.txt",
  'percent%25 hash# question?.txt',
  'double//slash/./dot/../x',
];

interface Recorded extends SignedRequest {
  body: Buffer;
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
const md5 = (data: string) => createHash('md5').update(data).digest('hex');

let server: Server;
let endpoint: string;
const recorded: Recorded[] = [];

/** Answers as S3, SQS (JSON) or SNS (query) would on success, and keeps each request as it arrived. */
function answer(req: Recorded): { status: number; headers: Record<string, string>; body: string } {
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string' && target.startsWith('AmazonSQS.')) {
    const { MessageBody } = JSON.parse(req.body.toString('utf8')) as { MessageBody: string };
    const body = JSON.stringify({ MessageId: 'm-1', MD5OfMessageBody: md5(MessageBody) });
    return { status: 200, headers: { 'content-type': 'application/x-amz-json-1.0' }, body };
  }
  if (req.body.toString('utf8').startsWith('Action=Publish')) {
    const body =
      '<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>m-1</MessageId>' +
      '</PublishResult><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></PublishResponse>';
    return { status: 200, headers: { 'content-type': 'text/xml' }, body };
  }
  if (req.method === 'GET') return { status: 200, headers: { 'content-type': 'text/plain' }, body: 'hello' };
  return { status: 200, headers: { etag: '"5d41402abc4b2a76b9719d911017c592"' }, body: '' };
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const entry = {
        method: req.method ?? '',
        rawUrl: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      recorded.push(entry);
      const { status, headers, body } = answer(entry);
      res.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(body)) }).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function s3Client(options: Partial<ConstructorParameters<typeof S3Client>[0]> = {}) {
  return new S3Client({ endpoint, region, forcePathStyle: true, credentials, maxAttempts: 1, ...options });
}

/** The requests the server received while `action` ran. */
async function capture(action: () => Promise<unknown>): Promise<Recorded[]> {
  const from = recorded.length;
  await action();
  return recorded.slice(from);
}

async function captureOne(action: () => Promise<unknown>): Promise<Recorded> {
  const requests = await capture(action);
  expect(requests).toHaveLength(1);
  return requests[0]!;
}

/** Sends a request with exactly this path and query, as a browser does with a presigned URL. */
function rawRequest(
  url: string,
  method: string,
  headers: Record<string, string> = {},
  body = '',
): Promise<void> {
  return new Promise((resolve, reject) => {
    const path = url.slice(endpoint.length);
    const req = request(`${endpoint}/`, { method, path, headers }, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function check(
  req: SignedRequest,
  options: Sigv4Options = {},
  secret = credentials.secretAccessKey,
  now = new Date(),
) {
  const auth = parseSigv4(req, options);
  if (!auth) throw new Error('no authentication');
  verifySigv4(req, auth, secret, now);
  return auth;
}

function authError(action: () => unknown): AuthError {
  try {
    action();
  } catch (error) {
    if (error instanceof AuthError) return error;
    throw error;
  }
  throw new Error('no AuthError thrown');
}

const withPayloadHash = (req: Recorded): Recorded => ({ ...req, payloadHash: sha256(req.body) });
const withHeaders = (req: Recorded, headers: IncomingHttpHeaders): Recorded => ({
  ...req,
  headers: { ...req.headers, ...headers },
});

describe('S3 header-signed requests from the SDK', () => {
  it.each(ODD_KEYS)('PutObject and GetObject of %j verify', async (key) => {
    const s3 = s3Client();
    const requests = await capture(async () => {
      await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'hello', ContentType: 'text/plain' }),
      );
      await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    });
    expect(requests.map((r) => r.method)).toEqual(['PUT', 'GET']);
    for (const req of requests) {
      const auth = check(req, { service: 's3', expectedRegion: region });
      expect(auth).toMatchObject({ kind: 'header', accessKeyId: credentials.accessKeyId });
      expect(auth.scope).toEqual({ date: auth.date.slice(0, 8), region, service: 's3' });
    }
  });

  it("uses the payload hash the SDK sends: the body's SHA-256, or the aws-chunked kind of a stream", async () => {
    const s3 = s3Client();
    const [plain, streamed] = await capture(async () => {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'plain.bin', Body: 'hello' }));
      const body = Readable.from([Buffer.from('hello')]);
      await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: 'streamed.bin', Body: body, ContentLength: 5 }),
      );
    });
    expect(plain!.headers['x-amz-content-sha256']).toBe(sha256('hello'));
    expect(streamed!.headers['x-amz-content-sha256']).toBe('STREAMING-UNSIGNED-PAYLOAD-TRAILER');
    for (const req of [plain!, streamed!]) check(req, { service: 's3' });
    const invalid = withHeaders(plain!, { 'x-amz-content-sha256': 'SIGNED-PAYLOAD' });
    expect(authError(() => parseSigv4(invalid))).toMatchObject({
      status: 400,
      code: 'InvalidArgument',
      details: { ArgumentName: 'x-amz-content-sha256', ArgumentValue: 'SIGNED-PAYLOAD' },
    });
  });

  it('carries the session token of temporary credentials, in a header or the presigned URL', async () => {
    const s3 = s3Client({ credentials: { ...credentials, sessionToken: 'session/token+1' } });
    const req = await captureOne(() => s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'a.txt' })));
    expect(check(req).sessionToken).toBe('session/token+1');
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'a.txt' }));
    const presigned = await captureOne(() => rawRequest(url, 'GET'));
    expect(check(presigned).sessionToken).toBe('session/token+1');
  });

  it('refuses a wrong secret, a tampered path, query or signed header with SignatureDoesNotMatch', async () => {
    const req = await captureOne(() =>
      s3Client().send(
        new PutObjectCommand({ Bucket: bucket, Key: 'a b.txt', Body: 'hello', ContentType: 'text/plain' }),
      ),
    );
    const wrongSecret = authError(() => check(req, {}, 'not-the-secret'));
    expect(wrongSecret).toMatchObject({
      status: 403,
      code: 'SignatureDoesNotMatch',
      message:
        'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    });
    expect(wrongSecret.details).toMatchObject({ AWSAccessKeyId: credentials.accessKeyId });
    expect(wrongSecret.details?.CanonicalRequest).toContain(`PUT\n/${bucket}/a%20b.txt\nx-id=PutObject\n`);
    expect(wrongSecret.details?.StringToSignBytes).toMatch(/^41 57 53 34 2d/);
    for (const tampered of [
      { ...req, rawUrl: req.rawUrl.replace('a%20b', 'a%20c') },
      { ...req, rawUrl: `${req.rawUrl}&versionId=1` },
      { ...req, method: 'POST' },
      withHeaders(req, { 'content-type': 'text/html' }),
      withHeaders(req, { 'content-length': '6' }),
      withHeaders(req, { host: 'elsewhere:1' }),
    ]) {
      expect(authError(() => check(tampered))).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
    }
  });

  it('ignores headers added after signing that S3 does not require signed', async () => {
    const req = await captureOne(() =>
      s3Client().send(new GetObjectCommand({ Bucket: bucket, Key: 'a.txt' })),
    );
    check(withHeaders(req, { 'user-agent': 'changed', 'x-amzn-trace-id': 'Root=1', accept: 'text/plain' }));
  });

  it('refuses unsigned x-amz-* headers and an unsigned host as S3 does', async () => {
    const req = await captureOne(() =>
      s3Client().send(new GetObjectCommand({ Bucket: bucket, Key: 'a.txt' })),
    );
    expect(authError(() => check(withHeaders(req, { 'x-amz-acl': 'public-read' })))).toMatchObject({
      status: 403,
      code: 'AccessDenied',
      message: 'There were headers present in the request which were not signed',
      details: { HeadersNotSigned: 'x-amz-acl' },
    });
    const authorization = String(req.headers.authorization).replace(
      /SignedHeaders=([^,]*)/,
      (_, list: string) =>
        `SignedHeaders=${list
          .split(';')
          .filter((name) => name !== 'host')
          .join(';')}`,
    );
    expect(authError(() => check(withHeaders(req, { authorization })))).toMatchObject({
      status: 403,
      code: 'AccessDenied',
      details: { HeadersNotSigned: 'host' },
    });
  });

  it('refuses a request time more than 15 minutes away with RequestTimeTooSkewed', async () => {
    const req = await captureOne(() =>
      s3Client().send(new GetObjectCommand({ Bucket: bucket, Key: 'a.txt' })),
    );
    const signedAt = Date.now();
    check(req, {}, credentials.secretAccessKey, new Date(signedAt + 14 * 60_000));
    for (const offset of [16 * 60_000, -16 * 60_000]) {
      const error = authError(() => check(req, {}, credentials.secretAccessKey, new Date(signedAt + offset)));
      expect(error).toMatchObject({
        status: 403,
        code: 'RequestTimeTooSkewed',
        message: 'The difference between the request time and the current time is too large.',
        details: { RequestTime: req.headers['x-amz-date'], MaxAllowedSkewMilliseconds: '900000' },
      });
    }
  });

  it('refuses a credential scoped to another region or service, or another day', async () => {
    const req = await captureOne(() =>
      s3Client().send(new GetObjectCommand({ Bucket: bucket, Key: 'a.txt' })),
    );
    expect(authError(() => parseSigv4(req, { service: 's3', expectedRegion: 'eu-west-1' }))).toMatchObject({
      status: 400,
      code: 'AuthorizationHeaderMalformed',
      message:
        "The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'eu-west-1'",
      details: { Region: 'eu-west-1' },
    });
    const authorization = String(req.headers.authorization);
    const otherService = withHeaders(req, { authorization: authorization.replace('/s3/', '/sqs/') });
    expect(authError(() => parseSigv4(otherService, { service: 's3' }))).toMatchObject({
      code: 'AuthorizationHeaderMalformed',
      message:
        'The authorization header is malformed; incorrect service "sqs". This endpoint belongs to "s3".',
    });
    const otherDay = withHeaders(req, { authorization: authorization.replace(/\/\d{8}\//, '/20000101/') });
    expect(authError(() => parseSigv4(otherDay))).toMatchObject({
      code: 'AuthorizationHeaderMalformed',
      message:
        'The authorization header is malformed; Invalid credential date. Date is not the same as X-Amz-Date.',
    });
  });

  it('refuses malformed authorization headers, SigV2 and other schemes as S3 does', async () => {
    const req = await captureOne(() =>
      s3Client().send(new GetObjectCommand({ Bucket: bucket, Key: 'a.txt' })),
    );
    const authorization = String(req.headers.authorization);
    const cases: [string, Partial<AuthError>][] = [
      [
        authorization.replace(/, Signature=.*/, ''),
        {
          status: 400,
          code: 'AuthorizationHeaderMalformed',
          message:
            'The authorization header is malformed; the authorization header requires three components: ' +
            'Credential, SignedHeaders, and Signature.',
        },
      ],
      [
        authorization.replace(/Credential=[^/]*\//, 'Credential='),
        {
          code: 'AuthorizationHeaderMalformed',
          message:
            'The authorization header is malformed; the Credential is mal-formed; expecting ' +
            '"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".',
        },
      ],
      [
        'AWS AKIDLOCALTEST:frJIUN8DYpKDtOLCwo//yllqDzg=',
        {
          status: 400,
          code: 'InvalidRequest',
          message:
            'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.',
        },
      ],
      ['Bearer abc', { status: 400, code: 'InvalidArgument', message: 'Unsupported Authorization Type' }],
    ];
    for (const [value, expected] of cases) {
      expect(authError(() => parseSigv4(withHeaders(req, { authorization: value })))).toMatchObject(expected);
    }
    const withoutSha = withHeaders(req, { 'x-amz-content-sha256': undefined });
    expect(authError(() => parseSigv4(withoutSha))).toMatchObject({
      status: 400,
      code: 'InvalidRequest',
      message: 'Missing required header for this request: x-amz-content-sha256',
    });
    expect(authError(() => parseSigv4(withHeaders(req, { 'x-amz-date': 'yesterday' })))).toMatchObject({
      status: 403,
      code: 'AccessDenied',
      message: 'AWS authentication requires a valid Date or x-amz-date header',
    });
  });

  it('treats a request with no authentication as anonymous', () => {
    const headers = { host: '127.0.0.1' };
    expect(parseSigv4({ method: 'GET', rawUrl: `/${bucket}/a.txt`, headers })).toBeUndefined();
    expect(
      authError(() =>
        parseSigv4({
          method: 'GET',
          rawUrl: `/${bucket}/a.txt?AWSAccessKeyId=AKID&Expires=1&Signature=x`,
          headers,
        }),
      ),
    ).toMatchObject({ status: 400, code: 'InvalidRequest' });
  });
});

describe('S3 presigned URLs from @aws-sdk/s3-request-presigner', () => {
  it.each(ODD_KEYS)('a presigned GET of %j verifies', async (key) => {
    const url = await getSignedUrl(s3Client(), new GetObjectCommand({ Bucket: bucket, Key: key }), {
      expiresIn: 300,
    });
    const req = await captureOne(() => rawRequest(url, 'GET'));
    const auth = check(req, { service: 's3', expectedRegion: region });
    expect(auth).toMatchObject({ kind: 'query', expiresSeconds: 300, signedHeaders: ['host'] });
  });

  /** As apps/api presigns uploads: bound to content type and length, signed without default checksums. */
  async function presignedPut(key: string, expiresIn = 600) {
    const signer = s3Client({ requestChecksumCalculation: 'WHEN_REQUIRED' });
    const command = new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      ContentType: 'video/mp4',
      ContentLength: 5,
    });
    return getSignedUrl(signer, command, {
      expiresIn,
      signableHeaders: new Set(['content-type', 'content-length']),
    });
  }

  it.each(ODD_KEYS)('a presigned PUT of %j bound to content type and length verifies', async (key) => {
    const url = await presignedPut(key);
    const req = await captureOne(() => rawRequest(url, 'PUT', { 'content-type': 'video/mp4' }, 'hello'));
    expect(check(req, { service: 's3' }).signedHeaders).toEqual(['content-length', 'content-type', 'host']);
  });

  it('refuses another content type or length, a tampered URL or a wrong secret', async () => {
    const url = await presignedPut('uploads/clip one.mp4');
    const other = [
      rawRequest(url, 'PUT', { 'content-type': 'text/html' }, 'hello'),
      rawRequest(url, 'PUT', { 'content-type': 'video/mp4' }, 'hello!'),
      rawRequest(url.replace('clip%20one', 'clip%20two'), 'PUT', { 'content-type': 'video/mp4' }, 'hello'),
      rawRequest(
        url.replace(/X-Amz-Expires=\d+/, 'X-Amz-Expires=900'),
        'PUT',
        { 'content-type': 'video/mp4' },
        'hello',
      ),
      rawRequest(`${url}&x-amz-acl=public-read`, 'PUT', { 'content-type': 'video/mp4' }, 'hello'),
    ];
    const requests = await capture(() => Promise.all(other));
    expect(requests).toHaveLength(other.length);
    for (const req of requests) {
      expect(authError(() => check(req))).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
    }
    const good = await captureOne(() => rawRequest(url, 'PUT', { 'content-type': 'video/mp4' }, 'hello'));
    expect(authError(() => check(good, {}, 'wrong'))).toMatchObject({ code: 'SignatureDoesNotMatch' });
  });

  it('refuses an expired URL, and one not valid yet, with AccessDenied', async () => {
    const url = await presignedPut('uploads/a.mp4', 60);
    const req = await captureOne(() => rawRequest(url, 'PUT', { 'content-type': 'video/mp4' }, 'hello'));
    const auth = parseSigv4(req)!;
    const signedAt = Date.parse(
      auth.date.replace(/(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/, '$1-$2-$3T$4:$5:$6Z'),
    );
    verifySigv4(req, auth, credentials.secretAccessKey, new Date(signedAt + 60_000));
    expect(
      authError(() => verifySigv4(req, auth, credentials.secretAccessKey, new Date(signedAt + 61_000))),
    ).toEqual(
      expect.objectContaining({
        status: 403,
        code: 'AccessDenied',
        message: 'Request has expired',
        details: {
          'X-Amz-Expires': '60',
          Expires: new Date(signedAt + 60_000).toISOString().replace('.000', ''),
          ServerTime: new Date(signedAt + 61_000).toISOString().replace('.000', ''),
        },
      }),
    );
    expect(
      authError(() => verifySigv4(req, auth, credentials.secretAccessKey, new Date(signedAt - 16 * 60_000))),
    ).toEqual(
      expect.objectContaining({ status: 403, code: 'AccessDenied', message: 'Request is not yet valid' }),
    );
  });

  it('refuses X-Amz-Expires over a week, negative or not a number', async () => {
    const url = await presignedPut('uploads/a.mp4');
    const req = await captureOne(() => rawRequest(url, 'PUT', { 'content-type': 'video/mp4' }, 'hello'));
    const withExpires = (value: string) => ({
      ...req,
      rawUrl: req.rawUrl.replace(/X-Amz-Expires=\d+/, `X-Amz-Expires=${value}`),
    });
    expect(parseSigv4(withExpires('604800'))?.expiresSeconds).toBe(604800);
    const cases: [string, string][] = [
      [
        '604801',
        'X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds',
      ],
      ['-1', 'X-Amz-Expires must be non-negative'],
      ['soon', 'X-Amz-Expires should be a number'],
    ];
    for (const [value, message] of cases) {
      expect(authError(() => parseSigv4(withExpires(value)))).toMatchObject({
        status: 400,
        code: 'AuthorizationQueryParametersError',
        message,
      });
    }
  });

  it('refuses missing parameters, an unsigned host, a wrong region and a second auth mechanism', async () => {
    const url = await getSignedUrl(s3Client(), new GetObjectCommand({ Bucket: bucket, Key: 'a.txt' }));
    const req = await captureOne(() => rawRequest(url, 'GET'));
    expect(
      authError(() => parseSigv4({ ...req, rawUrl: req.rawUrl.replace(/&X-Amz-Signature=[^&]*/, '') })),
    ).toMatchObject({
      status: 400,
      code: 'AuthorizationQueryParametersError',
      message:
        'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, ' +
        'X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
    });
    const noHost = { ...req, rawUrl: req.rawUrl.replace('X-Amz-SignedHeaders=host', 'X-Amz-SignedHeaders=') };
    expect(authError(() => parseSigv4(noHost))).toMatchObject({
      status: 403,
      code: 'AccessDenied',
      details: { HeadersNotSigned: 'host' },
    });
    expect(authError(() => parseSigv4(req, { expectedRegion: 'eu-west-1' }))).toMatchObject({
      status: 400,
      code: 'AuthorizationQueryParametersError',
      message:
        "Error parsing the X-Amz-Credential parameter; the region 'us-east-1' is wrong; expecting 'eu-west-1'",
      details: { Region: 'eu-west-1' },
    });
    const both = withHeaders(req, { authorization: 'AWS4-HMAC-SHA256 Credential=a/b/c/s3/aws4_request' });
    expect(authError(() => parseSigv4(both))).toMatchObject({ status: 400, code: 'InvalidArgument' });
  });

  it('reads + in a query value as a space, as clients that encode differently send it', async () => {
    const url = await getSignedUrl(
      s3Client(),
      new GetObjectCommand({
        Bucket: bucket,
        Key: 'a.txt',
        ResponseContentDisposition: 'attachment; filename="a b.txt"',
      }),
    );
    const req = await captureOne(() => rawRequest(url, 'GET'));
    expect(req.rawUrl).toContain('attachment%3B%20filename');
    check({ ...req, rawUrl: req.rawUrl.replace('attachment%3B%20filename', 'attachment%3b+filename') });
  });
});

describe('SQS and SNS requests from the SDK', () => {
  const sqs = () => new SQSClient({ endpoint, region, credentials, maxAttempts: 1 });
  const sns = (path = '') =>
    new SNSClient({ endpoint: `${endpoint}${path}`, region, credentials, maxAttempts: 1 });
  const queueUrl = () => `${endpoint}/000000000000/thumbnail-jobs`;

  it('verifies an SQS SendMessage over the JSON protocol, the body hashed', async () => {
    const req = await captureOne(() =>
      sqs().send(new SendMessageCommand({ QueueUrl: queueUrl(), MessageBody: 'héllo {"a":1} & more' })),
    );
    expect(req.headers['x-amz-target']).toBe('AmazonSQS.SendMessage');
    const auth = check(withPayloadHash(req), { service: 'sqs', expectedRegion: region });
    expect(auth.scope.service).toBe('sqs');
    const tampered = { ...req, payloadHash: sha256(Buffer.concat([req.body, Buffer.from(' ')])) };
    const error = authError(() => check(tampered, { service: 'sqs' }));
    expect(error.status).toBe(403);
    expect(error.code).toBe('SignatureDoesNotMatch');
    expect(error.message).toMatch(
      /^The request signature we calculated does not match the signature you provided\. Check your AWS Secret Access Key and signing method\. Consult the service documentation for details\.\n\nThe Canonical String for this request should have been\n'POST\n\/\n\n/,
    );
    expect(error.message).toContain("\n\nThe String-to-Sign should have been\n'AWS4-HMAC-SHA256\n");
  });

  it('verifies an SNS Publish over the query protocol, also under an endpoint path that must be encoded twice', async () => {
    for (const path of ['', '/sns%20api/v1']) {
      const req = await captureOne(() =>
        sns(path).send(
          new PublishCommand({ TopicArn: 'arn:aws:sns:us-east-1:000000000000:events', Message: 'a+b c' }),
        ),
      );
      expect(req.rawUrl).toBe(`${path}/`);
      check(withPayloadHash(req), { service: 'sns', expectedRegion: region });
    }
  });

  it('refuses skewed times with "Signature expired" and "Signature not yet current"', async () => {
    const req = withPayloadHash(
      await captureOne(() => sqs().send(new SendMessageCommand({ QueueUrl: queueUrl(), MessageBody: 'x' }))),
    );
    const date = String(req.headers['x-amz-date']);
    const signedAt = Date.parse(
      date.replace(/(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/, '$1-$2-$3T$4:$5:$6Z'),
    );
    const basic = (time: number) =>
      new Date(time)
        .toISOString()
        .replace(/\.\d{3}/, '')
        .replace(/[-:]/g, '');
    const late = signedAt + 20 * 60_000;
    expect(authError(() => check(req, {}, credentials.secretAccessKey, new Date(late)))).toMatchObject({
      status: 403,
      code: 'SignatureDoesNotMatch',
      message: `Signature expired: ${date} is now earlier than ${basic(late - 15 * 60_000)} (${basic(late)} - 15 min.)`,
    });
    const early = signedAt - 20 * 60_000;
    expect(authError(() => check(req, {}, credentials.secretAccessKey, new Date(early)))).toMatchObject({
      status: 403,
      code: 'SignatureDoesNotMatch',
      message: `Signature not yet current: ${date} is still later than ${basic(early + 15 * 60_000)} (${basic(early)} + 15 min.)`,
    });
  });

  it('takes the request time from the Date header when there is no X-Amz-Date', async () => {
    const req = await captureOne(() =>
      sqs().send(new SendMessageCommand({ QueueUrl: queueUrl(), MessageBody: 'x' })),
    );
    const date = String(req.headers['x-amz-date']);
    const signedAt = Date.parse(
      date.replace(/(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/, '$1-$2-$3T$4:$5:$6Z'),
    );
    const authorization = String(req.headers.authorization).replace(';x-amz-date', '');
    const headers = { 'x-amz-date': undefined, date: new Date(signedAt).toUTCString(), authorization };
    expect(parseSigv4(withHeaders(req, headers))?.date).toBe(date);
  });

  it('checks presigned URLs to the coral services against X-Amz-Expires', () => {
    const credential = encodeURIComponent(`${credentials.accessKeyId}/20261201/us-east-1/sts/aws4_request`);
    const rawUrl =
      `/?Action=GetCallerIdentity&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${credential}` +
      '&X-Amz-Date=20261201T101500Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=00';
    const req = { method: 'GET', rawUrl, headers: { host: 'sts.local' }, payloadHash: sha256('') };
    const auth = parseSigv4(req, { service: 'sts' })!;
    expect(auth).toMatchObject({ kind: 'query', expiresSeconds: 60, scope: { service: 'sts' } });
    const late = new Date('2026-12-01T10:17:00Z');
    expect(authError(() => verifySigv4(req, auth, credentials.secretAccessKey, late))).toMatchObject({
      code: 'SignatureDoesNotMatch',
      message:
        'Signature expired: 20261201T101500Z is now earlier than 20261201T101600Z (20261201T101700Z - 60 sec.)',
    });
    const missing = { ...req, rawUrl: rawUrl.replace('&X-Amz-Signature=00', '') };
    expect(authError(() => parseSigv4(missing, { service: 'sts' }))).toMatchObject({
      status: 400,
      code: 'IncompleteSignature',
      message:
        "AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature', " +
        "'X-Amz-SignedHeaders', 'X-Amz-Date'. Re-examine the query-string parameters.",
    });
  });

  it('refuses a wrongly scoped credential, a missing host and missing parts as the coral services do', async () => {
    const req = withPayloadHash(
      await captureOne(() => sqs().send(new SendMessageCommand({ QueueUrl: queueUrl(), MessageBody: 'x' }))),
    );
    expect(authError(() => parseSigv4(req, { service: 'sqs', expectedRegion: 'eu-west-1' }))).toMatchObject({
      status: 403,
      code: 'SignatureDoesNotMatch',
      message: "Credential should be scoped to a valid region, not 'us-east-1'. ",
    });
    expect(authError(() => parseSigv4(req, { service: 'sns' }))).toMatchObject({
      status: 403,
      code: 'SignatureDoesNotMatch',
      message: "Credential should be scoped to correct service: 'sns'. ",
    });
    const authorization = String(req.headers.authorization);
    const noHost = authorization.replace(
      /SignedHeaders=([^,]*)/,
      (_, list: string) =>
        `SignedHeaders=${list
          .split(';')
          .filter((name) => name !== 'host')
          .join(';')}`,
    );
    expect(authError(() => parseSigv4(withHeaders(req, { authorization: noHost })))).toMatchObject({
      status: 400,
      code: 'IncompleteSignature',
      message: "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
    });
    const partial = 'AWS4-HMAC-SHA256 Credential=AKIDLOCALTEST/20260101/us-east-1/sqs/aws4_request';
    expect(
      authError(() =>
        parseSigv4({ ...withHeaders(req, { authorization: partial, 'x-amz-date': undefined }) }),
      ),
    ).toMatchObject({
      status: 400,
      code: 'IncompleteSignature',
      message:
        "Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' " +
        "parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. " +
        `Authorization=${partial}`,
    });
    const withoutContentType = withHeaders(req, { 'content-type': undefined });
    expect(authError(() => parseSigv4(withoutContentType))).toMatchObject({
      code: 'IncompleteSignature',
      message: "'content-type' is named as a SignedHeader, but it does not exist in the HTTP request.",
    });
    expect(authError(() => check(withHeaders(req, { 'content-type': 'application/json' })))).toMatchObject({
      code: 'SignatureDoesNotMatch',
    });
  });
});
