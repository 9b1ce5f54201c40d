import { isVideoKey, videoContentType, VIDEO_EXTENSIONS } from '@thumbs/model';
import { apiRequest } from './api-client.ts';

/** The API's answer to POST /api/uploads: where and how to PUT the file. */
export interface PresignedUpload {
  key: string;
  url: string;
  method?: string;
  headers?: Record<string, string>;
  expiresAt?: string;
}

/** Why a file cannot be uploaded, or undefined when it can. */
export function rejectReason(file: { name: string; size: number }): string | undefined {
  if (!isVideoKey(file.name)) return `Not a video file. Accepted: ${VIDEO_EXTENSIONS.join(' ')}`;
  if (file.size === 0) return 'The file is empty';
  return undefined;
}

export function requestUpload(base: string, token: string, file: File): Promise<PresignedUpload> {
  return apiRequest<PresignedUpload>(base, '/api/uploads', {
    method: 'POST',
    token,
    body: { filename: file.name, contentType: contentTypeOf(file), size: file.size },
  });
}

function contentTypeOf(file: File): string {
  return videoContentType(file.name) ?? (file.type || 'application/octet-stream');
}

/** PUTs the file to its presigned URL, reporting progress (0…1). XMLHttpRequest: fetch has no upload progress. */
export function putFile(
  upload: PresignedUpload,
  file: File,
  onProgress: (fraction: number) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(upload.method ?? 'PUT', upload.url);
    const headers = upload.headers ?? { 'content-type': contentTypeOf(file) };
    for (const [name, value] of Object.entries(headers)) {
      if (name.toLowerCase() !== 'content-length' && name.toLowerCase() !== 'host')
        xhr.setRequestHeader(name, value);
    }
    xhr.upload.onprogress = (event) => event.lengthComputable && onProgress(event.loaded / event.total);
    xhr.onload = () =>
      xhr.status >= 200 && xhr.status < 300
        ? (onProgress(1), resolve())
        : reject(new Error(`Storage refused the upload (${xhr.status})`));
    xhr.onerror = () => reject(new Error('Upload failed: storage cannot be reached'));
    xhr.send(file);
  });
}
