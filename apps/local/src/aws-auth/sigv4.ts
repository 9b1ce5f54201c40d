/**
 * AWS Signature Version 4, checked the way the services check it: the canonical request rebuilt from the
 * request as received, the signature compared in constant time, and every refusal in the service's own words
 * (S3's codes differ from those of SQS, SNS and STS, which share AWS's common "coral" front end).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { AWS_ERRORS, type AwsService } from './aws-errors.ts';

export interface SignedRequest {
  method: string;
  /** Path and query exactly as received on the wire (req.url), still percent-encoded. */
  rawUrl: string;
  headers: IncomingHttpHeaders;
  /**
   * Hex SHA-256 of the body, for services whose canonical request hashes the body (SQS, SNS, STS). Not read for
   * S3: the x-amz-content-sha256 header's value (UNSIGNED-PAYLOAD for presigned URLs) is the payload hash.
   */
  payloadHash?: string;
}

export interface Sigv4Auth {
  kind: 'header' | 'query';
  accessKeyId: string;
  /** ISO 8601 basic format, 20261201T101500Z. */
  date: string;
  scope: { date: string; region: string; service: string };
  signedHeaders: string[];
  signature: string;
  /** The x-amz-security-token header or the X-Amz-Security-Token query parameter. */
  sessionToken?: string;
  /** X-Amz-Expires of a presigned URL. */
  expiresSeconds?: number;
}

export interface Sigv4Options {
  /**
   * The service the endpoint serves: a credential scoped to another one is refused, and errors are worded as
   * that service words them. Unset: the service of the credential scope (S3's wording if even that is unreadable).
   */
  service?: AwsService;
  /** The region the endpoint serves: a credential scoped to another one is refused. Unset: any region. */
  expectedRegion?: string;
}

export class AuthError extends Error {
  status: number;
  code: string;
  /** Elements S3 adds to its error document after <Message>, in order (Region, HeadersNotSigned, StringToSign…). */
  details?: Record<string, string>;

  constructor(status: number, code: string, message: string, details?: Record<string, string>) {
    super(message);
    this.name = 'AuthError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
const TERMINATOR = 'aws4_request';
/** Both S3 (MaxAllowedSkewMilliseconds) and the coral services ("- 15 min.") allow 15 minutes of clock skew. */
const MAX_SKEW_MS = 15 * 60 * 1000;
const MAX_EXPIRES_SECONDS = 604800;
const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
const S3_PAYLOAD_KINDS = new Set([
  UNSIGNED_PAYLOAD,
  'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
  'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD',
  'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER',
]);
const BASIC_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

const SIGV2_MESSAGE =
  'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.';
const S3_THREE_COMPONENTS =
  'the authorization header requires three components: Credential, SignedHeaders, and Signature.';
const S3_QUERY_PARAMETERS =
  'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, ' +
  'X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.';
const CORAL_QUERY_PARAMETERS =
  "AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature', " +
  "'X-Amz-SignedHeaders', 'X-Amz-Date'. Re-examine the query-string parameters.";

const incomplete = (message: string) => new AuthError(400, 'IncompleteSignature', message);
const mismatch = (message: string) => new AuthError(403, 'SignatureDoesNotMatch', message);
const s3Malformed = (detail: string, details?: Record<string, string>) =>
  new AuthError(
    400,
    'AuthorizationHeaderMalformed',
    `The authorization header is malformed; ${detail}`,
    details,
  );
const s3QueryError = (message: string, details?: Record<string, string>) =>
  new AuthError(400, 'AuthorizationQueryParametersError', message, details);

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** AWS's URI encoding: RFC 3986 unreserved characters kept, everything else %XX with uppercase hex. */
function awsEncode(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** One query name or value as the server reads it: `+` is a space; malformed escapes are left as they are. */
function decodeQueryPart(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw.replaceAll('+', ' '));
  } catch {
    return undefined;
  }
}

interface QueryParameter {
  name: string;
  value: string;
  /** Both re-encoded with AWS's URI encoding, as the canonical query string has them. */
  canonical: [string, string];
}

function splitUrl(rawUrl: string): { path: string; query: QueryParameter[] } {
  const mark = rawUrl.indexOf('?');
  const path = mark < 0 ? rawUrl : rawUrl.slice(0, mark);
  const query: QueryParameter[] = [];
  for (const part of mark < 0 ? [] : rawUrl.slice(mark + 1).split('&')) {
    if (part === '') continue;
    const equals = part.indexOf('=');
    const [rawName, rawValue] = equals < 0 ? [part, ''] : [part.slice(0, equals), part.slice(equals + 1)];
    const name = decodeQueryPart(rawName);
    const value = decodeQueryPart(rawValue);
    query.push({
      name: name ?? rawName,
      value: value ?? rawValue,
      canonical: [
        name === undefined ? rawName : awsEncode(name),
        value === undefined ? rawValue : awsEncode(value),
      ],
    });
  }
  return { path, query };
}

function queryParam(query: QueryParameter[], name: string): string | undefined {
  return query.find((parameter) => parameter.name === name)?.value;
}

const isoSeconds = (time: number) => new Date(time).toISOString().replace(/\.\d{3}Z$/, 'Z');
const basicDate = (time: number) => isoSeconds(time).replace(/[-:]/g, '');

function basicToDate(basic: string): Date | undefined {
  if (!BASIC_DATE.test(basic)) return undefined;
  const time = Date.parse(basic.replace(BASIC_DATE, '$1-$2-$3T$4:$5:$6Z'));
  // Only a date that prints back the same is valid: not 20260230T000000Z, whatever Date.parse makes of it.
  return !Number.isNaN(time) && basicDate(time) === basic ? new Date(time) : undefined;
}

/** The request time: X-Amz-Date, else the Date header (RFC 7231), in ISO 8601 basic format. */
function requestDate(headers: IncomingHttpHeaders): { text?: string; basic?: string } {
  const amzDate = headerValue(headers, 'x-amz-date');
  if (amzDate !== undefined) return { text: amzDate, basic: basicToDate(amzDate) ? amzDate : undefined };
  const date = headerValue(headers, 'date');
  if (date === undefined) return {};
  const time = Date.parse(date);
  return { text: date, basic: Number.isNaN(time) ? undefined : basicDate(time) };
}

interface Credential {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  terminator: string;
}

function parseCredential(credential: string): Credential | undefined {
  const parts = credential.split('/');
  if (parts.length !== 5 || parts.some((part) => part === '')) return undefined;
  const [accessKeyId, date, region, service, terminator] = parts as [string, string, string, string, string];
  return { accessKeyId, date, region, service, terminator };
}

const SERVICES: readonly string[] = ['s3', 'sqs', 'sns', 'sts'];

/** The service named in a credential, however malformed, to word errors as that service would. */
function serviceHint(credential: string | undefined): string | undefined {
  return credential
    ?.split('/')
    .slice(1)
    .find((part) => SERVICES.includes(part));
}

function checkScope(
  credential: Credential,
  date: string,
  s3: boolean,
  inQuery: boolean,
  options: Sigv4Options,
) {
  const s3Error = (detail: string, details?: Record<string, string>) =>
    inQuery
      ? s3QueryError(`Error parsing the X-Amz-Credential parameter; ${detail}`, details)
      : s3Malformed(detail, details);
  const { expectedRegion, service } = options;
  if (expectedRegion !== undefined && credential.region !== expectedRegion) {
    throw s3
      ? s3Error(`the region '${credential.region}' is wrong; expecting '${expectedRegion}'`, {
          Region: expectedRegion,
        })
      : mismatch(`Credential should be scoped to a valid region, not '${credential.region}'. `);
  }
  if (service !== undefined && credential.service !== service) {
    throw s3
      ? s3Error(`incorrect service "${credential.service}". This endpoint belongs to "${service}".`)
      : mismatch(`Credential should be scoped to correct service: '${service}'. `);
  }
  if (credential.terminator !== TERMINATOR) {
    throw s3
      ? s3Error(`incorrect terminal "${credential.terminator}". This endpoint uses "${TERMINATOR}".`)
      : mismatch(
          `Credential should be scoped with a valid terminator: '${TERMINATOR}', not '${credential.terminator}'. `,
        );
  }
  const day = date.slice(0, 8);
  if (credential.date !== day) {
    if (!s3) {
      throw mismatch(
        'Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: ' +
          `'${credential.date}' != '${day}', from '${date}'.`,
      );
    }
    throw inQuery
      ? s3QueryError(
          `Invalid credential date "${credential.date}". This date is not the same as X-Amz-Date: "${day}".`,
        )
      : s3Malformed('Invalid credential date. Date is not the same as X-Amz-Date.');
  }
}

/**
 * S3 refuses requests carrying host or x-amz-* headers outside the signature (x-amz-content-sha256 excepted: it
 * is in the canonical request as the payload hash anyway); the coral services require host to be signed and
 * every signed header to be present, and ignore the rest.
 */
function checkSignedHeaders(headers: IncomingHttpHeaders, signed: string[], s3: boolean): void {
  if (s3) {
    const unsigned = Object.keys(headers).filter(
      (name) =>
        (name === 'host' || (name.startsWith('x-amz-') && name !== 'x-amz-content-sha256')) &&
        !signed.includes(name),
    );
    if (unsigned.length > 0) {
      throw new AuthError(
        403,
        'AccessDenied',
        'There were headers present in the request which were not signed',
        {
          HeadersNotSigned: unsigned.join(', '),
        },
      );
    }
    return;
  }
  if (!signed.includes('host')) {
    throw incomplete("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }
  const missing = signed.find((name) => headers[name] === undefined);
  if (missing !== undefined) {
    throw incomplete(`'${missing}' is named as a SignedHeader, but it does not exist in the HTTP request.`);
  }
}

function parseHeaderAuth(
  headers: IncomingHttpHeaders,
  authorization: string,
  s3: boolean,
  options: Sigv4Options,
): Sigv4Auth {
  const space = authorization.indexOf(' ');
  const algorithm = space < 0 ? authorization : authorization.slice(0, space);
  if (s3 && algorithm === 'AWS') throw new AuthError(400, 'InvalidRequest', SIGV2_MESSAGE);
  if (s3 && algorithm !== ALGORITHM) {
    throw new AuthError(400, 'InvalidArgument', 'Unsupported Authorization Type', {
      ArgumentName: 'Authorization',
      ArgumentValue: authorization,
    });
  }
  const fields = new Map<string, string>();
  for (const part of algorithm === ALGORITHM ? authorization.slice(space + 1).split(',') : []) {
    const item = part.trim();
    if (item === '') continue;
    const equals = item.indexOf('=');
    if (equals < 0) {
      throw s3
        ? s3Malformed(S3_THREE_COMPONENTS)
        : incomplete(
            `'${item}' not a valid key=value pair (missing equal-sign) in Authorization header: '${authorization}'.`,
          );
    }
    fields.set(item.slice(0, equals), item.slice(equals + 1));
  }
  const credentialText = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  const date = requestDate(headers);
  // The coral services list every missing part at once; S3 names the three components.
  const problems = [
    ...(['Credential', 'Signature', 'SignedHeaders'] as const)
      .filter((name) => !fields.has(name))
      .map((name) => `Authorization header requires '${name}' parameter.`),
    ...(date.text === undefined
      ? ["Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."]
      : []),
  ];
  if (
    credentialText === undefined ||
    signedHeaders === undefined ||
    signature === undefined ||
    (!s3 && problems.length > 0)
  ) {
    throw s3
      ? s3Malformed(S3_THREE_COMPONENTS)
      : incomplete(`${problems.join(' ')} Authorization=${authorization}`);
  }
  if (date.basic === undefined) {
    throw s3
      ? new AuthError(403, 'AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header')
      : incomplete(
          `Date must be in ISO-8601 'basic format'. Got '${date.text}'. See http://en.wikipedia.org/wiki/ISO_8601`,
        );
  }
  const credential = parseCredential(credentialText);
  if (!credential) {
    throw s3
      ? s3Malformed(
          'the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".',
        )
      : incomplete(
          'Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, ' +
            `got '${credentialText}'`,
        );
  }
  checkScope(credential, date.basic, s3, false, options);
  if (s3) {
    const contentSha256 = headerValue(headers, 'x-amz-content-sha256');
    if (contentSha256 === undefined) {
      throw new AuthError(
        400,
        'InvalidRequest',
        'Missing required header for this request: x-amz-content-sha256',
      );
    }
    if (!S3_PAYLOAD_KINDS.has(contentSha256) && !/^[0-9a-f]{64}$/.test(contentSha256)) {
      throw new AuthError(
        400,
        'InvalidArgument',
        `x-amz-content-sha256 must be ${[...S3_PAYLOAD_KINDS].join(', ')} or a valid sha256 value.`,
        { ArgumentName: 'x-amz-content-sha256', ArgumentValue: contentSha256 },
      );
    }
  }
  const signed = signedHeaders.split(';').filter((name) => name !== '');
  checkSignedHeaders(headers, signed, s3);
  return {
    kind: 'header',
    accessKeyId: credential.accessKeyId,
    date: date.basic,
    scope: { date: credential.date, region: credential.region, service: credential.service },
    signedHeaders: signed,
    signature,
    sessionToken: headerValue(headers, 'x-amz-security-token'),
  };
}

function parseQueryAuth(
  headers: IncomingHttpHeaders,
  query: QueryParameter[],
  s3: boolean,
  options: Sigv4Options,
): Sigv4Auth {
  const algorithm = queryParam(query, 'X-Amz-Algorithm');
  const credentialText = queryParam(query, 'X-Amz-Credential');
  const signature = queryParam(query, 'X-Amz-Signature');
  const date = queryParam(query, 'X-Amz-Date');
  const signedHeaders = queryParam(query, 'X-Amz-SignedHeaders');
  const expires = queryParam(query, 'X-Amz-Expires');
  const queryError = (message: string) => (s3 ? s3QueryError(message) : incomplete(message));
  if (s3 && algorithm !== ALGORITHM) throw s3QueryError('X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
  if (
    credentialText === undefined ||
    signature === undefined ||
    date === undefined ||
    signedHeaders === undefined ||
    (s3 && expires === undefined)
  ) {
    throw queryError(s3 ? S3_QUERY_PARAMETERS : CORAL_QUERY_PARAMETERS);
  }
  if (algorithm !== ALGORITHM) throw incomplete(`Unsupported AWS 'algorithm': '${algorithm}'`);
  if (!basicToDate(date)) {
    throw s3
      ? s3QueryError(`X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`)
      : incomplete(
          `Date must be in ISO-8601 'basic format'. Got '${date}'. See http://en.wikipedia.org/wiki/ISO_8601`,
        );
  }
  let expiresSeconds: number | undefined;
  if (expires !== undefined) {
    if (!/^-?\d+$/.test(expires)) throw queryError('X-Amz-Expires should be a number');
    expiresSeconds = Number(expires);
    if (expiresSeconds < 0) throw queryError('X-Amz-Expires must be non-negative');
    if (expiresSeconds > MAX_EXPIRES_SECONDS) {
      throw queryError(
        'X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than ' +
          `${MAX_EXPIRES_SECONDS} seconds`,
      );
    }
  }
  const credential = parseCredential(credentialText);
  if (!credential) {
    throw s3
      ? s3QueryError(
          'Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting ' +
            '"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".',
        )
      : incomplete(
          'Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, ' +
            `got '${credentialText}'`,
        );
  }
  checkScope(credential, date, s3, true, options);
  const signed = signedHeaders.split(';').filter((name) => name !== '');
  checkSignedHeaders(headers, signed, s3);
  return {
    kind: 'query',
    accessKeyId: credential.accessKeyId,
    date,
    scope: { date: credential.date, region: credential.region, service: credential.service },
    signedHeaders: signed,
    signature,
    sessionToken: queryParam(query, 'X-Amz-Security-Token'),
    expiresSeconds,
  };
}

/**
 * The SigV4 authentication of a request: undefined when it carries none (anonymous); AuthError when it is
 * malformed, as AWS words it (S3: AuthorizationHeaderMalformed, AuthorizationQueryParametersError,
 * InvalidRequest for SigV2; the others: IncompleteSignature, SignatureDoesNotMatch for a wrongly scoped
 * credential).
 */
export function parseSigv4(request: SignedRequest, options: Sigv4Options = {}): Sigv4Auth | undefined {
  const { headers } = request;
  const { query } = splitUrl(request.rawUrl);
  const authorization = headerValue(headers, 'authorization');
  const algorithm = queryParam(query, 'X-Amz-Algorithm');
  const isS3 = (credential: string | undefined) =>
    (options.service ?? serviceHint(credential) ?? 's3') === 's3';
  if (authorization !== undefined) {
    const credential = /Credential=([^,\s]*)/.exec(authorization)?.[1];
    const s3 = isS3(credential);
    if (s3 && (algorithm !== undefined || queryParam(query, 'Signature') !== undefined)) {
      throw new AuthError(
        400,
        'InvalidArgument',
        'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string ' +
          'parameter or the Authorization header should be specified',
        { ArgumentName: 'Authorization', ArgumentValue: authorization },
      );
    }
    return parseHeaderAuth(headers, authorization, s3, options);
  }
  if (algorithm !== undefined) {
    return parseQueryAuth(headers, query, isS3(queryParam(query, 'X-Amz-Credential')), options);
  }
  const sigv2 =
    queryParam(query, 'AWSAccessKeyId') !== undefined && queryParam(query, 'Signature') !== undefined;
  if (sigv2 && isS3(undefined)) throw new AuthError(400, 'InvalidRequest', SIGV2_MESSAGE);
  return undefined;
}

/** The canonical URI: S3 signs the path as sent; the others normalize it and encode it once more. */
function canonicalUri(path: string, s3: boolean): string {
  if (s3) return path === '' ? '/' : path;
  // Dot segments resolved and empty segments dropped, as the SDKs' signer does before double-encoding.
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const trailing = segments.length > 0 && path.endsWith('/') ? '/' : '';
  return `/${segments.map(awsEncode).join('/')}${trailing}`;
}

/** Code-unit order, which is byte order for the all-ASCII encoded names and values. */
const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function canonicalQuery(query: QueryParameter[]): string {
  return query
    .filter((parameter) => parameter.name.toLowerCase() !== 'x-amz-signature')
    .map((parameter) => parameter.canonical)
    .sort(([nameA, valueA], [nameB, valueB]) => compare(nameA, nameB) || compare(valueA, valueB))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

function payloadHash(request: SignedRequest, auth: Sigv4Auth, query: QueryParameter[], s3: boolean): string {
  if (!s3) {
    if (request.payloadHash === undefined) {
      throw new Error(`payloadHash is required to verify ${auth.scope.service}`);
    }
    return request.payloadHash;
  }
  if (auth.kind === 'query') return queryParam(query, 'X-Amz-Content-Sha256') ?? UNSIGNED_PAYLOAD;
  return headerValue(request.headers, 'x-amz-content-sha256') ?? '';
}

function checkTime(auth: Sigv4Auth, s3: boolean, now: number): void {
  // parseSigv4 accepted only valid dates.
  const time = basicToDate(auth.date)!.getTime();
  const serverTime = isoSeconds(now);
  const notYetCurrent = () =>
    mismatch(
      `Signature not yet current: ${auth.date} is still later than ${basicDate(now + MAX_SKEW_MS)} ` +
        `(${basicDate(now)} + 15 min.)`,
    );
  if (auth.expiresSeconds !== undefined) {
    const expiresAt = time + auth.expiresSeconds * 1000;
    if (time - now > MAX_SKEW_MS) {
      throw s3
        ? new AuthError(403, 'AccessDenied', 'Request is not yet valid', {
            'X-Amz-Date': String(time),
            Expires: isoSeconds(expiresAt),
            ServerTime: serverTime,
          })
        : notYetCurrent();
    }
    if (now <= expiresAt) return;
    throw s3
      ? new AuthError(403, 'AccessDenied', 'Request has expired', {
          'X-Amz-Expires': String(auth.expiresSeconds),
          Expires: isoSeconds(expiresAt),
          ServerTime: serverTime,
        })
      : mismatch(
          `Signature expired: ${auth.date} is now earlier than ${basicDate(now - auth.expiresSeconds * 1000)} ` +
            `(${basicDate(now)} - ${auth.expiresSeconds} sec.)`,
        );
  }
  const skew = now - time;
  if (Math.abs(skew) <= MAX_SKEW_MS) return;
  if (s3) {
    throw new AuthError(403, 'RequestTimeTooSkewed', AWS_ERRORS.s3.RequestTimeTooSkewed.message, {
      RequestTime: auth.date,
      ServerTime: serverTime,
      MaxAllowedSkewMilliseconds: String(MAX_SKEW_MS),
    });
  }
  if (skew < 0) throw notYetCurrent();
  throw mismatch(
    `Signature expired: ${auth.date} is now earlier than ${basicDate(now - MAX_SKEW_MS)} (${basicDate(now)} - 15 min.)`,
  );
}

const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();
const spacedHex = (text: string) =>
  Buffer.from(text, 'utf8')
    .toString('hex')
    .replace(/(..)(?!$)/g, '$1 ');

/**
 * Checks the signature with the caller's secret, and the request's time against `now`; throws AuthError as AWS
 * would (S3: AccessDenied for an expired presigned URL, RequestTimeTooSkewed; all: SignatureDoesNotMatch).
 */
export function verifySigv4(
  request: SignedRequest,
  auth: Sigv4Auth,
  secretAccessKey: string,
  now = new Date(),
): void {
  const s3 = auth.scope.service === 's3';
  checkTime(auth, s3, now.getTime());
  const { path, query } = splitUrl(request.rawUrl);
  const canonicalHeaders = auth.signedHeaders
    .map(
      (name) =>
        `${name}:${(headerValue(request.headers, name.toLowerCase()) ?? '').trim().replace(/\s+/g, ' ')}\n`,
    )
    .join('');
  const canonicalRequest = [
    request.method,
    canonicalUri(path, s3),
    canonicalQuery(query),
    canonicalHeaders,
    auth.signedHeaders.join(';'),
    payloadHash(request, auth, query, s3),
  ].join('\n');
  const { date, region, service } = auth.scope;
  const scope = `${date}/${region}/${service}/${TERMINATOR}`;
  const stringToSign = [
    ALGORITHM,
    auth.date,
    scope,
    createHash('sha256').update(canonicalRequest).digest('hex'),
  ].join('\n');
  let key = hmac(`AWS4${secretAccessKey}`, date);
  for (const part of [region, service, TERMINATOR]) key = hmac(key, part);
  const expected = Buffer.from(hmac(key, stringToSign).toString('hex'));
  const provided = Buffer.from(auth.signature);
  if (expected.length === provided.length && timingSafeEqual(expected, provided)) return;
  if (s3) {
    throw new AuthError(403, 'SignatureDoesNotMatch', AWS_ERRORS.s3.SignatureDoesNotMatch.message, {
      AWSAccessKeyId: auth.accessKeyId,
      StringToSign: stringToSign,
      SignatureProvided: auth.signature,
      StringToSignBytes: spacedHex(stringToSign),
      CanonicalRequest: canonicalRequest,
      CanonicalRequestBytes: spacedHex(canonicalRequest),
    });
  }
  // The coral services spell out what they computed in the message itself.
  throw mismatch(
    `${AWS_ERRORS.sqs.SignatureDoesNotMatch.message}\n\nThe Canonical String for this request should have been\n` +
      `'${canonicalRequest}'\n\nThe String-to-Sign should have been\n'${stringToSign}'\n`,
  );
}
