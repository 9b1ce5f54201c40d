/**
 * AWS's error responses, in each service's own shape, so that SDK clients see exactly the errors AWS gives
 * them: S3's XML <Error> document; SQS's JSON protocol (AWS JSON 1.0 with the x-amzn-query-error header that
 * the SDKs map to the query protocol's codes) or its query protocol; the query-protocol XML of SNS and STS.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { escapeXml } from '../xml-text.ts';

export type AwsService = 's3' | 'sqs' | 'sns' | 'sts';

export interface AwsErrorSpec {
  status: number;
  code: string;
  message: string;
  /** S3's <Resource>. */
  resource?: string;
  /** S3's <BucketName>. */
  bucket?: string;
  /** S3's <Key>. */
  key?: string;
  /** Further elements of S3's error document, in order: AWSAccessKeyId, Region, HeadersNotSigned, Token-0… */
  details?: Record<string, string>;
}

export interface ErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const CORAL_AUTH_ERRORS = {
  InvalidClientTokenId: {
    status: 403,
    code: 'InvalidClientTokenId',
    message: 'The security token included in the request is invalid.',
  },
  ExpiredToken: {
    status: 403,
    code: 'ExpiredToken',
    message: 'The security token included in the request is expired',
  },
  MissingAuthenticationToken: {
    status: 403,
    code: 'MissingAuthenticationToken',
    message: 'Request is missing Authentication Token',
  },
  SignatureDoesNotMatch: {
    status: 403,
    code: 'SignatureDoesNotMatch',
    message:
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret ' +
      'Access Key and signing method. Consult the service documentation for details.',
  },
} as const satisfies Record<string, AwsErrorSpec>;

/**
 * The authentication errors the endpoint answers with, per service. S3's InvalidAccessKeyId carries the key as
 * details.AWSAccessKeyId, its InvalidToken and ExpiredToken the token as details['Token-0'].
 */
export const AWS_ERRORS = {
  s3: {
    AccessDenied: { status: 403, code: 'AccessDenied', message: 'Access Denied' },
    InvalidAccessKeyId: {
      status: 403,
      code: 'InvalidAccessKeyId',
      message: 'The AWS Access Key Id you provided does not exist in our records.',
    },
    InvalidToken: {
      status: 400,
      code: 'InvalidToken',
      message: 'The provided token is malformed or otherwise invalid.',
    },
    ExpiredToken: { status: 400, code: 'ExpiredToken', message: 'The provided token has expired.' },
    SignatureDoesNotMatch: {
      status: 403,
      code: 'SignatureDoesNotMatch',
      message:
        'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    },
    RequestTimeTooSkewed: {
      status: 403,
      code: 'RequestTimeTooSkewed',
      message: 'The difference between the request time and the current time is too large.',
    },
    XAmzContentSHA256Mismatch: {
      status: 400,
      code: 'XAmzContentSHA256Mismatch',
      message: "The provided 'x-amz-content-sha256' header does not match what was computed.",
    },
  },
  sqs: CORAL_AUTH_ERRORS,
  sns: CORAL_AUTH_ERRORS,
  sts: CORAL_AUTH_ERRORS,
} as const satisfies Record<AwsService, Record<string, AwsErrorSpec>>;

const QUERY_NAMESPACES = {
  sqs: 'http://queue.amazonaws.com/doc/2012-11-05/',
  sns: 'http://sns.amazonaws.com/doc/2010-03-31/',
  sts: 'https://sts.amazonaws.com/doc/2011-06-15/',
} as const;

/** The JSON __type of the coral errors SQS answers over its JSON protocol; SQS's own errors use its namespace. */
const SQS_JSON_TYPES: Record<string, string> = {
  AccessDenied: 'com.amazon.coral.service#AccessDeniedException',
  InvalidClientTokenId: 'com.amazon.coral.service#UnrecognizedClientException',
  ExpiredToken: 'com.amazon.coral.service#ExpiredTokenException',
  MissingAuthenticationToken: 'com.amazon.coral.service#MissingAuthenticationTokenException',
  SignatureDoesNotMatch: 'com.amazon.coral.service#InvalidSignatureException',
  IncompleteSignature: 'com.amazon.coral.service#IncompleteSignatureException',
};

const element = (name: string, value: string | undefined) =>
  value === undefined ? '' : `<${name}>${escapeXml(value)}</${name}>`;

function s3Body(spec: AwsErrorSpec, requestId: string, hostId: string): string {
  const details = Object.entries(spec.details ?? {})
    .map(([name, value]) => element(name, value))
    .join('');
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error>${element('Code', spec.code)}${element('Message', spec.message)}` +
    `${element('BucketName', spec.bucket)}${element('Key', spec.key)}${element('Resource', spec.resource)}${details}` +
    `${element('RequestId', requestId)}${element('HostId', hostId)}</Error>`
  );
}

/** Coral's query-protocol document; SQS's has the XML declaration and an empty <Detail/>, SNS's and STS's are indented. */
function queryBody(
  service: 'sqs' | 'sns' | 'sts',
  spec: AwsErrorSpec,
  type: string,
  requestId: string,
): string {
  const open = `<ErrorResponse xmlns="${QUERY_NAMESPACES[service]}">`;
  const fields = [element('Type', type), element('Code', spec.code), element('Message', spec.message)];
  if (service === 'sqs') {
    return `<?xml version="1.0"?>${open}<Error>${fields.join('')}<Detail/></Error>${element('RequestId', requestId)}</ErrorResponse>`;
  }
  return (
    `${open}\n  <Error>\n${fields.map((field) => `    ${field}\n`).join('')}  </Error>\n` +
    `  ${element('RequestId', requestId)}\n</ErrorResponse>\n`
  );
}

/**
 * The response AWS sends for an error. `protocol` matters for SQS only: 'json' for the AWS JSON 1.0 protocol
 * the SDKs use (x-amz-target AmazonSQS.<Op>), 'query' for form-encoded Action=… requests; S3 always answers
 * in XML, SNS and STS in query XML. A HEAD request gets the headers without a body, as from S3.
 */
export function awsError(
  service: AwsService,
  protocol: 'xml' | 'json' | 'query',
  spec: AwsErrorSpec,
  options: { head?: boolean; requestId?: string } = {},
): ErrorResponse {
  const fault = spec.status < 500 ? 'Sender' : 'Receiver';
  let headers: Record<string, string>;
  let body: string;
  if (service === 's3') {
    const requestId = options.requestId ?? randomBytes(8).toString('hex').toUpperCase();
    const hostId = randomBytes(57).toString('base64');
    body = s3Body(spec, requestId, hostId);
    headers = { 'content-type': 'application/xml', 'x-amz-request-id': requestId, 'x-amz-id-2': hostId };
  } else if (service === 'sqs' && protocol === 'json') {
    const requestId = options.requestId ?? randomUUID();
    body = JSON.stringify({
      __type: SQS_JSON_TYPES[spec.code] ?? `com.amazonaws.sqs#${spec.code}`,
      message: spec.message,
    });
    headers = {
      'content-type': 'application/x-amz-json-1.0',
      'x-amzn-requestid': requestId,
      'x-amzn-query-error': `${spec.code};${fault}`,
    };
  } else {
    const requestId = options.requestId ?? randomUUID();
    body = queryBody(service, spec, fault, requestId);
    headers = { 'content-type': 'text/xml', 'x-amzn-requestid': requestId };
  }
  if (options.head) return { status: spec.status, headers, body: '' };
  return {
    status: spec.status,
    headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
    body,
  };
}
