import { isVideoKey, videoContentType, type UploadRequest } from '@thumbs/model';

/** Content types browsers report for videos besides the canonical one for each extension. */
const GENERIC_TYPES = new Set(['application/octet-stream', 'video/mpeg', 'video/x-m4v', 'video/mp4']);

export interface UploadProblem {
  statusCode: 400 | 413;
  error: string;
  message: string;
}

/** Why an upload request (single PUT or multipart) is refused, or undefined when it is fine. */
export function checkUploadRequest(
  { filename, contentType, size }: UploadRequest,
  maxBytes: number,
): UploadProblem | undefined {
  const expected = videoContentType(filename);
  const bad = (message: string): UploadProblem => ({ statusCode: 400, error: 'Bad Request', message });
  if (!isVideoKey(filename) || !expected)
    return bad(`${JSON.stringify(filename)} is not a supported video file name`);
  if (contentType !== expected && !GENERIC_TYPES.has(contentType))
    return bad(`content type ${contentType} does not match ${filename} (expected ${expected})`);
  if (size > maxBytes)
    return {
      statusCode: 413,
      error: 'Payload Too Large',
      message: `uploads are limited to ${maxBytes} bytes`,
    };
  return undefined;
}

/** Why `key` is not one of the videos this API hands out (under the upload prefix), or undefined. */
export function notAnUpload(key: string, uploadPrefix: string): string | undefined {
  return key.startsWith(uploadPrefix) && isVideoKey(key)
    ? undefined
    : `${JSON.stringify(key)} is not a video under ${uploadPrefix}`;
}
