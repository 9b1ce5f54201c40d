/**
 * ListParts and ListMultipartUploads, which the emulator does not implement (it routes them to GetObject and
 * ListObjects): answered from the emulator's own record of uploads in progress under its storage directory
 * (`_multipart/<uploadId>/.upload.json` and `parts/<n>.meta.json` beside `<n>.data`), which it writes before it
 * answers each CreateMultipartUpload and UploadPart, and removes on Complete and Abort.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { escapeXml } from './xml-text.ts';

const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const DEFAULT_MAX = 1000;

interface UploadRecord {
  uploadId: string;
  bucket: string;
  key: string;
  initiated: string;
}

interface PartRecord {
  partNumber: number;
  etag: string;
  lastModified: string;
  size: number;
}

/** An S3 error answer: status, code and message. */
export interface ListingError {
  status: number;
  code: string;
  message: string;
}

const NO_SUCH_UPLOAD: ListingError = {
  status: 404,
  code: 'NoSuchUpload',
  message:
    'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
};

function multipartDir(storageDir: string): string {
  return join(storageDir, '_multipart');
}

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function uploadRecord(storageDir: string, uploadId: string): Promise<UploadRecord | undefined> {
  // An upload ID is the emulator's UUID: anything else names no directory (and never a path outside it).
  if (!/^[0-9a-f-]{36}$/i.test(uploadId)) return undefined;
  return readJson<UploadRecord>(join(multipartDir(storageDir), uploadId, '.upload.json'));
}

async function partRecords(storageDir: string, uploadId: string): Promise<PartRecord[]> {
  const dir = join(multipartDir(storageDir), uploadId, 'parts');
  const names = await readdir(dir).catch(() => [] as string[]);
  const parts: PartRecord[] = [];
  for (const name of names.filter((n) => n.endsWith('.meta.json'))) {
    const meta = await readJson<Omit<PartRecord, 'size'>>(join(dir, name));
    const data = meta && (await stat(join(dir, `${meta.partNumber}.data`)).catch(() => undefined));
    if (meta && data) parts.push({ ...meta, size: data.size });
  }
  return parts.sort((a, b) => a.partNumber - b.partNumber);
}

/** A non-negative integer query parameter, or the default; undefined when malformed. */
function count(params: URLSearchParams, name: string, fallback: number): number | undefined {
  const value = params.get(name);
  if (value === null || value === '') return fallback;
  return /^\d+$/.test(value) ? Number(value) : undefined;
}

const invalid = (name: string): ListingError => ({
  status: 400,
  code: 'InvalidArgument',
  message: `Provided ${name} not an integer or within integer range`,
});

/** ListParts (GET /bucket/key?uploadId=…), paginated by part-number-marker and max-parts as S3 does. */
export async function listParts(
  storageDir: string,
  bucket: string,
  key: string,
  params: URLSearchParams,
): Promise<string | ListingError> {
  const uploadId = params.get('uploadId') ?? '';
  const upload = await uploadRecord(storageDir, uploadId);
  if (!upload || upload.bucket !== bucket || upload.key !== key) return NO_SUCH_UPLOAD;
  const marker = count(params, 'part-number-marker', 0);
  if (marker === undefined) return invalid('part-number-marker');
  const max = count(params, 'max-parts', DEFAULT_MAX);
  if (max === undefined) return invalid('max-parts');
  const after = (await partRecords(storageDir, uploadId)).filter((p) => p.partNumber > marker);
  const page = after.slice(0, Math.min(max, DEFAULT_MAX));
  const truncated = after.length > page.length;
  const parts = page.map(
    (p) =>
      `<Part><PartNumber>${p.partNumber}</PartNumber><LastModified>${p.lastModified}</LastModified>` +
      `<ETag>${escapeXml(p.etag)}</ETag><Size>${p.size}</Size></Part>`,
  );
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<ListPartsResult xmlns="${S3_NS}">` +
    `<Bucket>${escapeXml(bucket)}</Bucket><Key>${escapeXml(key)}</Key><UploadId>${escapeXml(uploadId)}</UploadId>` +
    `<StorageClass>STANDARD</StorageClass><PartNumberMarker>${marker}</PartNumberMarker>` +
    `<NextPartNumberMarker>${page.at(-1)?.partNumber ?? marker}</NextPartNumberMarker>` +
    `<MaxParts>${max}</MaxParts><IsTruncated>${truncated}</IsTruncated>${parts.join('')}</ListPartsResult>`
  );
}

/**
 * ListMultipartUploads (GET /bucket?uploads): the bucket's uploads in progress by key, then initiation time,
 * filtered by prefix and paginated by key-marker / upload-id-marker and max-uploads (no delimiter grouping).
 */
export async function listMultipartUploads(
  storageDir: string,
  bucket: string,
  params: URLSearchParams,
): Promise<string | ListingError> {
  if (params.get('delimiter')) {
    return {
      status: 501,
      code: 'NotImplemented',
      message: 'The local endpoint lists multipart uploads without a delimiter only.',
    };
  }
  const max = count(params, 'max-uploads', DEFAULT_MAX);
  if (max === undefined) return invalid('max-uploads');
  const prefix = params.get('prefix') ?? '';
  const keyMarker = params.get('key-marker') ?? '';
  const idMarker = params.get('upload-id-marker') ?? '';
  const ids = await readdir(multipartDir(storageDir)).catch(() => [] as string[]);
  const uploads: UploadRecord[] = [];
  for (const id of ids) {
    const upload = await uploadRecord(storageDir, id);
    if (upload?.bucket === bucket && upload.key.startsWith(prefix)) uploads.push(upload);
  }
  uploads.sort((a, b) => (a.key === b.key ? a.initiated.localeCompare(b.initiated) : a.key < b.key ? -1 : 1));
  // S3: after key-marker alone, keys greater than it; with upload-id-marker too, the uploads of that key after
  // the marker's (or, for an upload that is gone, those with a greater upload ID). No key-marker: from the start.
  const markerIndex = idMarker
    ? uploads.findIndex((u) => u.key === keyMarker && u.uploadId === idMarker)
    : -1;
  const afterMarker = (u: UploadRecord, i: number) =>
    idMarker !== '' && u.key === keyMarker && (markerIndex >= 0 ? i > markerIndex : u.uploadId > idMarker);
  const after = keyMarker ? uploads.filter((u, i) => u.key > keyMarker || afterMarker(u, i)) : uploads;
  const page = after.slice(0, Math.min(max, DEFAULT_MAX));
  const truncated = after.length > page.length;
  const last = page.at(-1);
  const encodeKeys = params.get('encoding-type') === 'url';
  const text = (value: string) => escapeXml(encodeKeys ? encodeURIComponent(value) : value);
  const entries = page.map(
    (u) =>
      `<Upload><Key>${text(u.key)}</Key><UploadId>${escapeXml(u.uploadId)}</UploadId>` +
      `<StorageClass>STANDARD</StorageClass><Initiated>${u.initiated}</Initiated></Upload>`,
  );
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult xmlns="${S3_NS}">` +
    `<Bucket>${escapeXml(bucket)}</Bucket><KeyMarker>${text(keyMarker)}</KeyMarker>` +
    `<UploadIdMarker>${escapeXml(idMarker)}</UploadIdMarker>` +
    (truncated && last
      ? `<NextKeyMarker>${text(last.key)}</NextKeyMarker><NextUploadIdMarker>${escapeXml(last.uploadId)}</NextUploadIdMarker>`
      : '') +
    `<Prefix>${text(prefix)}</Prefix><MaxUploads>${max}</MaxUploads><IsTruncated>${truncated}</IsTruncated>` +
    (encodeKeys ? '<EncodingType>url</EncodingType>' : '') +
    `${entries.join('')}</ListMultipartUploadsResult>`
  );
}
