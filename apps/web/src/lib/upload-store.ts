/**
 * Multipart uploads in progress, remembered in localStorage so that a reload (or a closed tab) can resume one:
 * the same file dropped again continues where S3's list of parts says it stopped.
 */
export interface SavedUpload {
  fingerprint: string;
  name: string;
  size: number;
  key: string;
  uploadId: string;
  partSize: number;
  partCount: number;
  savedAt: string;
}

const STORAGE_KEY = 'thumbs.multipart-uploads';

/** What identifies a file the user picks again: a File cannot be kept across a reload, only recognised. */
export function fingerprint(file: { name: string; size: number; lastModified: number }): string {
  return JSON.stringify([file.name, file.size, file.lastModified]);
}

function storage(): Storage | undefined {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined;
  }
}

export function savedUploads(store: Storage | undefined = storage()): SavedUpload[] {
  try {
    const value: unknown = JSON.parse(store?.getItem(STORAGE_KEY) ?? '[]');
    return Array.isArray(value) ? (value as SavedUpload[]) : [];
  } catch {
    return [];
  }
}

function write(uploads: SavedUpload[], store: Storage | undefined): void {
  if (uploads.length === 0) store?.removeItem(STORAGE_KEY);
  else store?.setItem(STORAGE_KEY, JSON.stringify(uploads));
}

export function saveUpload(upload: SavedUpload, store: Storage | undefined = storage()): void {
  write([...savedUploads(store).filter((u) => u.fingerprint !== upload.fingerprint), upload], store);
}

export function forgetUpload(uploadId: string, store: Storage | undefined = storage()): void {
  write(
    savedUploads(store).filter((u) => u.uploadId !== uploadId),
    store,
  );
}
