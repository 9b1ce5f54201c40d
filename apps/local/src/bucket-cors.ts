/**
 * S3's CORS, from the bucket's rules (Terraform's `aws_s3_bucket_cors_configuration`): a browser on another
 * origin gets a grant only for what a rule allows; SQS, SNS and buckets without rules grant nothing. So a web
 * page the user happens to open cannot drive the local endpoint (list, delete, purge, plant files).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { CorsRule } from '@thumbs/iam';

function matches(pattern: string, value: string): boolean {
  if (!pattern.includes('*')) return pattern === value;
  const escaped = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('.*')}$`).test(value);
}

/** The first rule that allows `origin` to send `method` with `headers` (lower-case names), as S3 picks it. */
export function matchingRule(
  rules: CorsRule[],
  origin: string,
  method: string,
  headers: string[] = [],
): CorsRule | undefined {
  return rules.find(
    (rule) =>
      rule.allowedOrigins.some((allowed) => matches(allowed, origin)) &&
      rule.allowedMethods.includes(method) &&
      headers.every((name) => rule.allowedHeaders.some((allowed) => matches(allowed.toLowerCase(), name))),
  );
}

/** The headers S3 adds to an answer for a matching rule. */
export function grantHeaders(
  rule: CorsRule,
  origin: string,
  preflight?: { headers: string[] },
): Record<string, string> {
  const wildcard = rule.allowedOrigins.includes('*');
  const headers: Record<string, string> = {
    'access-control-allow-origin': wildcard ? '*' : origin,
    'access-control-allow-methods': rule.allowedMethods.join(', '),
    vary: 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method',
  };
  if (rule.exposeHeaders.length > 0) headers['access-control-expose-headers'] = rule.exposeHeaders.join(', ');
  if (rule.maxAgeSeconds !== undefined) headers['access-control-max-age'] = String(rule.maxAgeSeconds);
  if (preflight && preflight.headers.length > 0)
    headers['access-control-allow-headers'] = preflight.headers.join(', ');
  if (!wildcard) headers['access-control-allow-credentials'] = 'true';
  return headers;
}

export function requestedHeaders(headers: IncomingHttpHeaders): string[] {
  const value = headers['access-control-request-headers'];
  return (Array.isArray(value) ? value.join(',') : (value ?? ''))
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter(Boolean);
}
