/** A successful SQS answer in the request's protocol: AWS JSON 1.0, or the query protocol's XML. */
import { randomUUID } from 'node:crypto';
import type { Operation } from './aws-auth/operations.ts';
import { escapeXml } from './xml-text.ts';

/** Query-protocol members: a list is its entries repeated under the list's entry name. */
function xmlMembers(value: Record<string, unknown>, entryName: string): string {
  return Object.entries(value)
    .map(([name, member]) => {
      if (Array.isArray(member)) {
        return member
          .map(
            (entry) =>
              `<${entryName}>${xmlMembers(entry as Record<string, unknown>, entryName)}</${entryName}>`,
          )
          .join('');
      }
      return member === undefined ? '' : `<${name}>${escapeXml(String(member))}</${name}>`;
    })
    .join('');
}

export function sqsResult(
  protocol: Operation['protocol'],
  action: string,
  result: Record<string, unknown>,
): { headers: Record<string, string>; body: string } {
  const requestId = randomUUID();
  if (protocol === 'json') {
    return {
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': requestId },
      body: JSON.stringify(result),
    };
  }
  const members = xmlMembers(result, `${action}ResultEntry`);
  return {
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
    body:
      `<?xml version="1.0"?><${action}Response xmlns="http://queue.amazonaws.com/doc/2012-11-05/">` +
      `<${action}Result>${members}</${action}Result>` +
      `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`,
  };
}
