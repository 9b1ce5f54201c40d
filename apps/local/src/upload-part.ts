/**
 * What S3 refuses in an UploadPart before reading its body, and the one part size the emulator cannot take:
 * it reads a request body whole, up to 11 MiB, while S3 takes parts up to 5 GiB.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { AwsErrorSpec } from './aws-auth/aws-errors.ts';

/** The emulator's request body limit (fauxqs's Fastify bodyLimit). */
export const EMULATOR_MAX_PART = 11 * 1024 * 1024;
const MAX_PART = 5 * 1024 ** 3;

export function uploadPartRefusal(
  params: URLSearchParams,
  headers: IncomingHttpHeaders,
): AwsErrorSpec | undefined {
  const partNumber = params.get('partNumber') ?? '';
  if (!/^\d+$/.test(partNumber) || Number(partNumber) < 1 || Number(partNumber) > 10_000) {
    return {
      status: 400,
      code: 'InvalidArgument',
      message: 'Part number must be an integer between 1 and 10000, inclusive',
    };
  }
  const length = Number(headers['x-amz-decoded-content-length'] ?? headers['content-length'] ?? 0);
  if (length > MAX_PART)
    return {
      status: 400,
      code: 'EntityTooLarge',
      message: 'Your proposed upload exceeds the maximum allowed size',
    };
  if (length > EMULATOR_MAX_PART) {
    return {
      status: 501,
      code: 'NotImplemented',
      message: `The local endpoint takes parts of up to ${EMULATOR_MAX_PART} bytes (S3: 5 GiB); use smaller parts.`,
    };
  }
  return undefined;
}
