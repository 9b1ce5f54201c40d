import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AWS_ERRORS, awsError, type AwsErrorSpec, type ErrorResponse } from './aws-errors.ts';
import { AuthError } from './sigv4.ts';

const region = 'us-east-1';
const credentials = { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'secret' };
const requestId = '0123456789ABCDEF';
const principal = 'arn:aws:sts::000000000000:assumed-role/thumbs-worker/pod-1';

interface SdkError {
  name: string;
  message: string;
  $metadata: { httpStatusCode?: number; requestId?: string };
  [field: string]: unknown;
}

let server: Server;
let endpoint: string;
/** What the server answers next, sent as the proxy sends it. */
let next: ErrorResponse;

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(next.status, next.headers).end(next.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function sdkError(response: ErrorResponse, call: () => Promise<unknown>): Promise<SdkError> {
  next = response;
  try {
    await call();
  } catch (error) {
    return error as SdkError;
  }
  throw new Error('the SDK call succeeded');
}

describe('S3', () => {
  const s3 = () => new S3Client({ endpoint, region, forcePathStyle: true, credentials, maxAttempts: 1 });
  const getObject = () => s3().send(new GetObjectCommand({ Bucket: 'b', Key: 'k' }));

  it('renders the XML error document with its request id headers', () => {
    const spec = { ...AWS_ERRORS.s3.InvalidAccessKeyId, details: { AWSAccessKeyId: 'AKID<&>' } };
    const response = awsError('s3', 'xml', spec, { requestId });
    const hostId = response.headers['x-amz-id-2'];
    expect(hostId).toMatch(/^[A-Za-z0-9+/]{76}$/);
    expect(response).toEqual({
      status: 403,
      headers: {
        'content-type': 'application/xml',
        'x-amz-request-id': requestId,
        'x-amz-id-2': hostId,
        'content-length': String(Buffer.byteLength(response.body)),
      },
      body:
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InvalidAccessKeyId</Code>' +
        '<Message>The AWS Access Key Id you provided does not exist in our records.</Message>' +
        `<AWSAccessKeyId>AKID&lt;&amp;&gt;</AWSAccessKeyId><RequestId>${requestId}</RequestId>` +
        `<HostId>${hostId}</HostId></Error>`,
    });
  });

  it('puts BucketName, Key and Resource after the message, then the details', () => {
    const spec = {
      status: 404,
      code: 'NoSuchKey',
      message: "The specified key doesn't exist.",
      bucket: 'b',
      key: 'a & b',
      resource: '/b/a & b',
      details: { Extra: '"x"' },
    };
    expect(awsError('s3', 'xml', spec, { requestId }).body).toMatch(
      '<Code>NoSuchKey</Code><Message>The specified key doesn&apos;t exist.</Message><BucketName>b</BucketName>' +
        '<Key>a &amp; b</Key><Resource>/b/a &amp; b</Resource><Extra>&quot;x&quot;</Extra><RequestId>',
    );
  });

  const cases: [string, AwsErrorSpec][] = [
    ['AccessDenied', AWS_ERRORS.s3.AccessDenied],
    ['InvalidAccessKeyId', AWS_ERRORS.s3.InvalidAccessKeyId],
    ['InvalidToken', AWS_ERRORS.s3.InvalidToken],
    ['ExpiredToken', AWS_ERRORS.s3.ExpiredToken],
    ['SignatureDoesNotMatch', AWS_ERRORS.s3.SignatureDoesNotMatch],
    ['RequestTimeTooSkewed', AWS_ERRORS.s3.RequestTimeTooSkewed],
    ['XAmzContentSHA256Mismatch', AWS_ERRORS.s3.XAmzContentSHA256Mismatch],
  ];
  it.each(cases)('GetObject throws %s with its message, status and request id', async (code, spec) => {
    const error = await sdkError(awsError('s3', 'xml', spec, { requestId }), getObject);
    expect(error).toMatchObject({ name: code, Code: code, message: spec.message });
    expect(error.$metadata).toMatchObject({ httpStatusCode: spec.status, requestId });
  });

  it("exposes an AuthError's details as fields of the SDK's error", async () => {
    const details = {
      AWSAccessKeyId: 'AKID',
      StringToSign: 'AWS4-HMAC-SHA256\n20261201T101500Z',
      SignatureProvided: 'ab',
    };
    const authError = new AuthError(
      403,
      'SignatureDoesNotMatch',
      AWS_ERRORS.s3.SignatureDoesNotMatch.message,
      details,
    );
    const error = await sdkError(awsError('s3', 'xml', authError), getObject);
    expect(error).toMatchObject({ name: 'SignatureDoesNotMatch', ...details });
  });

  it('answers HEAD without a body, which the SDK reports by status alone, as from S3', async () => {
    const response = awsError('s3', 'xml', AWS_ERRORS.s3.AccessDenied, { head: true, requestId });
    expect(response.body).toBe('');
    expect(response.headers['content-length']).toBeUndefined();
    const error = await sdkError(response, () => s3().send(new HeadObjectCommand({ Bucket: 'b', Key: 'k' })));
    // SDK v3 names a bodiless error only for 404 (NotFound); a 403 HEAD is "Unknown" from S3 itself too.
    expect(error.name).toBe('Unknown');
    expect(error.$metadata).toMatchObject({ httpStatusCode: 403, requestId });
  });
});

describe('SQS', () => {
  const sqs = () => new SQSClient({ endpoint, region, credentials, maxAttempts: 1 });
  const sendMessage = () =>
    sqs().send(new SendMessageCommand({ QueueUrl: `${endpoint}/000000000000/q`, MessageBody: 'x' }));
  const denial: AwsErrorSpec = {
    status: 403,
    code: 'AccessDenied',
    message: `User: ${principal} is not authorized to perform: sqs:sendmessage on resource: arn:aws:sqs:us-east-1:000000000000:q because no identity-based policy allows the sqs:sendmessage action`,
  };

  it('renders the JSON protocol error with the query-compatible code in x-amzn-query-error', () => {
    const response = awsError('sqs', 'json', denial, { requestId });
    const body = JSON.stringify({
      __type: 'com.amazon.coral.service#AccessDeniedException',
      message: denial.message,
    });
    expect(response).toEqual({
      status: 403,
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amzn-requestid': requestId,
        'x-amzn-query-error': 'AccessDenied;Sender',
        'content-length': String(Buffer.byteLength(body)),
      },
      body,
    });
    expect(
      awsError('sqs', 'json', { status: 500, code: 'InternalError', message: 'x' }).headers,
    ).toMatchObject({
      'x-amzn-query-error': 'InternalError;Receiver',
    });
  });

  it('renders the query protocol error document', () => {
    expect(awsError('sqs', 'query', AWS_ERRORS.sqs.InvalidClientTokenId, { requestId })).toMatchObject({
      status: 403,
      headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
      body:
        '<?xml version="1.0"?><ErrorResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><Error>' +
        '<Type>Sender</Type><Code>InvalidClientTokenId</Code>' +
        '<Message>The security token included in the request is invalid.</Message><Detail/></Error>' +
        `<RequestId>${requestId}</RequestId></ErrorResponse>`,
    });
  });

  const cases: [string, AwsErrorSpec][] = [
    ['AccessDenied', denial],
    ['InvalidClientTokenId', AWS_ERRORS.sqs.InvalidClientTokenId],
    ['ExpiredToken', AWS_ERRORS.sqs.ExpiredToken],
    ['MissingAuthenticationToken', AWS_ERRORS.sqs.MissingAuthenticationToken],
    ['SignatureDoesNotMatch', AWS_ERRORS.sqs.SignatureDoesNotMatch],
    ['IncompleteSignature', { status: 400, code: 'IncompleteSignature', message: "'Host' must be signed." }],
  ];
  it.each(cases)(
    'SendMessage throws %s, as AWS clients name it, with its message and status',
    async (code, spec) => {
      const error = await sdkError(awsError('sqs', 'json', spec, { requestId }), sendMessage);
      expect(error).toMatchObject({ name: code, Code: code, Type: 'Sender', message: spec.message });
      expect(error.$metadata).toMatchObject({ httpStatusCode: spec.status, requestId });
    },
  );

  it("maps SQS's own query codes to the SDK's modeled errors", async () => {
    const spec = {
      status: 400,
      code: 'AWS.SimpleQueueService.NonExistentQueue',
      message: 'The specified queue does not exist.',
    };
    const error = await sdkError(awsError('sqs', 'json', spec), sendMessage);
    expect(error).toMatchObject({ name: 'QueueDoesNotExist', Code: spec.code, message: spec.message });
  });
});

describe('SNS and STS', () => {
  const sns = () => new SNSClient({ endpoint, region, credentials, maxAttempts: 1 });
  const publish = () =>
    sns().send(new PublishCommand({ TopicArn: 'arn:aws:sns:us-east-1:000000000000:t', Message: 'x' }));
  const denial: AwsErrorSpec = {
    status: 403,
    code: 'AuthorizationError',
    message: `User: ${principal} is not authorized to perform: SNS:Publish on resource: arn:aws:sns:us-east-1:000000000000:t because no identity-based policy allows the SNS:Publish action`,
  };

  it('renders the indented query protocol error document in each namespace', () => {
    for (const [service, namespace] of [
      ['sns', 'http://sns.amazonaws.com/doc/2010-03-31/'],
      ['sts', 'https://sts.amazonaws.com/doc/2011-06-15/'],
    ] as const) {
      expect(awsError(service, 'query', AWS_ERRORS[service].ExpiredToken, { requestId })).toEqual({
        status: 403,
        headers: {
          'content-type': 'text/xml',
          'x-amzn-requestid': requestId,
          'content-length': expect.any(String),
        },
        body:
          `<ErrorResponse xmlns="${namespace}">\n  <Error>\n    <Type>Sender</Type>\n    <Code>ExpiredToken</Code>\n` +
          '    <Message>The security token included in the request is expired</Message>\n  </Error>\n' +
          `  <RequestId>${requestId}</RequestId>\n</ErrorResponse>\n`,
      });
    }
  });

  const cases: [string, string, AwsErrorSpec][] = [
    ['AuthorizationErrorException', 'AuthorizationError', denial],
    ['InvalidClientTokenId', 'InvalidClientTokenId', AWS_ERRORS.sns.InvalidClientTokenId],
    ['ExpiredToken', 'ExpiredToken', AWS_ERRORS.sns.ExpiredToken],
    ['MissingAuthenticationToken', 'MissingAuthenticationToken', AWS_ERRORS.sns.MissingAuthenticationToken],
    ['SignatureDoesNotMatch', 'SignatureDoesNotMatch', AWS_ERRORS.sns.SignatureDoesNotMatch],
  ];
  it.each(cases)('Publish throws %s (Code %s) with its message and status', async (name, code, spec) => {
    const error = await sdkError(awsError('sns', 'query', spec, { requestId }), publish);
    expect(error).toMatchObject({ name, Code: code, Type: 'Sender', message: spec.message });
    expect(error.$metadata).toMatchObject({ httpStatusCode: 403, requestId });
  });
});
