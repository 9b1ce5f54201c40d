'use client';

import { FRAMES, VIDEO_EXTENSIONS, type PipelineState } from '@thumbs/model';
import { useEffect, useId, useRef, useState, type DragEvent } from 'react';
import { ApiError, apiRequest } from '../lib/api-client.ts';
import { baseName, formatBytes } from '../lib/format.ts';
import { abortUpload, ResumableUpload, type ApiCall } from '../lib/multipart-upload.ts';
import { CancelledError } from '../lib/retry.ts';
import { rejectReason } from '../lib/upload.ts';
import { fingerprint, savedUploads, type SavedUpload } from '../lib/upload-store.ts';
import { useAdmin } from './AdminProvider.tsx';
import { useApiBase } from './ApiBase.tsx';
import { Stage } from './Jobs.tsx';
import { Panel } from './Panel.tsx';

interface UploadItem {
  id: number;
  name: string;
  size: number;
  phase: 'rejected' | 'waiting' | 'uploading' | 'uploaded' | 'error' | 'cancelled' | 'interrupted';
  progress: number;
  key?: string;
  message?: string;
  /** Why an upload waits (retrying, offline). */
  status?: string;
  /** The upload a reload interrupted: the same file dropped again resumes it. */
  saved?: SavedUpload;
}

const ACCEPT = ['video/*', ...VIDEO_EXTENSIONS].join(',');
const KEPT = 20;
/** Files uploading at once (each with its own parts in parallel); the others wait their turn. */
const FILE_CONCURRENCY = 2;
const ACTIVE = new Set<UploadItem['phase']>(['waiting', 'uploading', 'interrupted']);

export function Upload({ state }: { state: PipelineState | null }) {
  const admin = useAdmin();
  const api = useApiBase();
  const inputId = useId();
  const [items, setItems] = useState<UploadItem[]>([]);
  const [dragging, setDragging] = useState(false);
  const nextId = useRef(1);
  const files = useRef(new Map<number, File>());
  const running = useRef(new Map<number, ResumableUpload>());
  const waiting = useRef<number[]>([]);

  const update = (id: number, patch: Partial<UploadItem>) =>
    setItems((list) => list.map((item) => (item.id === id ? { ...item, ...patch } : item)));

  // Uploads a reload interrupted: shown until the file is dropped again or the upload is cancelled.
  useEffect(() => {
    const saved = savedUploads();
    if (saved.length === 0) return;
    setItems((list) => [
      ...saved.map((upload) => ({
        id: nextId.current++,
        name: upload.name,
        size: upload.size,
        phase: 'interrupted' as const,
        progress: 0,
        key: upload.key,
        saved: upload,
        message: 'Interrupted: drop the same file again to resume',
      })),
      ...list,
    ]);
  }, []);

  const call: ApiCall = async <T,>(path: string, options: { method?: string; body?: unknown } = {}) => {
    const answer = await admin.withToken(async (token) => ({
      value: await apiRequest<T>(api, path, { ...options, token }),
    }));
    if (!answer) throw new ApiError(401, 'Cancelled: no admin token');
    return answer.value;
  };

  const pump = () => {
    while (running.current.size < FILE_CONCURRENCY) {
      const id = waiting.current.shift();
      if (id === undefined) return;
      const file = files.current.get(id);
      if (file) void run(id, file);
    }
  };

  const run = async (id: number, file: File) => {
    const upload = new ResumableUpload(file, call, {
      onProgress: (progress) => update(id, { progress }),
      onStatus: (status) => update(id, { status }),
      onKey: (key) => update(id, { key }),
    });
    running.current.set(id, upload);
    update(id, { phase: 'uploading', message: undefined, status: undefined, saved: undefined });
    try {
      await upload.run();
      files.current.delete(id);
      update(id, { phase: 'uploaded', progress: 1, status: undefined });
    } catch (error) {
      if (!(error instanceof CancelledError))
        update(id, { phase: 'error', status: undefined, message: (error as Error).message });
    } finally {
      running.current.delete(id);
      pump();
    }
  };

  const start = (dropped: File[]) => {
    if (dropped.length === 0) return;
    const interrupted = new Map(
      items.flatMap((item) => (item.saved ? [[item.saved.fingerprint, item.id] as const] : [])),
    );
    // The same file twice at once would race itself for one upload's parts.
    const busy = new Set(
      [...waiting.current, ...running.current.keys()].flatMap((id) => {
        const file = files.current.get(id);
        return file ? [fingerprint(file)] : [];
      }),
    );
    const added: UploadItem[] = [];
    for (const file of dropped) {
      const reason =
        rejectReason(file) ?? (busy.has(fingerprint(file)) ? 'This file is already uploading' : undefined);
      if (!reason) busy.add(fingerprint(file));
      const resumed = reason ? undefined : interrupted.get(fingerprint(file));
      const id = resumed ?? nextId.current++;
      if (!reason) {
        files.current.set(id, file);
        waiting.current.push(id);
      }
      if (resumed !== undefined) update(id, { phase: 'waiting', message: undefined });
      else
        added.push({
          id,
          name: file.name,
          size: file.size,
          phase: reason ? 'rejected' : 'waiting',
          progress: 0,
          message: reason,
        });
    }
    setItems((list) => [...added.reverse(), ...list].slice(0, KEPT));
    pump();
  };

  const cancel = async (item: UploadItem) => {
    waiting.current = waiting.current.filter((id) => id !== item.id);
    files.current.delete(item.id);
    update(item.id, { phase: 'cancelled', status: 'cancelling…', message: undefined });
    try {
      const upload = running.current.get(item.id);
      if (upload) await upload.cancel();
      else if (item.saved) await abortUpload(call, item.saved);
      update(item.id, { status: undefined, message: 'Cancelled' });
    } catch (error) {
      update(item.id, { phase: 'error', status: undefined, message: (error as Error).message });
    }
  };

  const retry = (item: UploadItem) => {
    if (!files.current.has(item.id)) return;
    waiting.current.push(item.id);
    update(item.id, { phase: 'waiting', message: undefined });
    pump();
  };

  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    start([...event.dataTransfer.files]);
  };

  return (
    <Panel
      id="upload"
      title="Upload"
      area="upload"
      subtitle="Videos go to uploads/ and through the pipeline"
      actions={
        items.length > 0 && (
          <button
            type="button"
            className="btn btn-small btn-ghost"
            onClick={() => setItems((list) => list.filter((i) => ACTIVE.has(i.phase)))}
          >
            Clear
          </button>
        )
      }
    >
      <label
        htmlFor={inputId}
        className={`dropzone${dragging ? ' is-dragging' : ''}`}
        data-testid="dropzone"
        onDragOver={(event) => {
          event.preventDefault();
          event.dataTransfer.dropEffect = 'copy';
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <input
          id={inputId}
          className="sr-only-input"
          type="file"
          multiple
          accept={ACCEPT}
          data-testid="file-input"
          onChange={(event) => {
            start([...(event.target.files ?? [])]);
            event.target.value = '';
          }}
        />
        <UploadIcon />
        <span className="dropzone-title">Drop videos here or choose files</span>
        <span className="muted small">{VIDEO_EXTENSIONS.join(' ')}</span>
      </label>
      {items.length > 0 && (
        <ul className="uploads">
          {items.map((item) => (
            <UploadRow
              key={item.id}
              item={item}
              state={state}
              onCancel={() => void cancel(item)}
              onRetry={files.current.has(item.id) ? () => retry(item) : undefined}
            />
          ))}
        </ul>
      )}
    </Panel>
  );
}

interface UploadRowProps {
  item: UploadItem;
  state: PipelineState | null;
  onCancel: () => void;
  /** Set when the file is still at hand to try again (a failure after every retry). */
  onRetry?: () => void;
}

function UploadRow({ item, state, onCancel, onRetry }: UploadRowProps) {
  const job = item.key ? state?.jobs.find((j) => j.source === item.key) : undefined;
  const thumbnails = item.key ? (state?.thumbnails.filter((t) => t.source === item.key) ?? []) : [];
  const done = FRAMES.every((frame) => thumbnails.some((t) => t.frame === frame.label));
  const stage = item.phase === 'uploaded' ? (done ? 'done' : (job?.status ?? 'queued')) : item.phase;
  const percent = Math.round(item.progress * 100);

  return (
    <li
      className={`upload upload-${stage}`}
      data-testid="upload-item"
      data-stage={stage}
      data-key={item.key ?? ''}
    >
      <div className="upload-top">
        <span className="mono upload-name" title={item.key ?? item.name}>
          {baseName(item.name)}
        </span>
        <span className="muted small">{formatBytes(item.size)}</span>
      </div>
      {item.phase === 'rejected' ||
      item.phase === 'error' ||
      item.phase === 'cancelled' ||
      item.phase === 'interrupted' ? (
        item.message && (
          <p
            {...(item.phase === 'error' || item.phase === 'rejected'
              ? { className: 'upload-message', role: 'alert' }
              : { className: 'muted small upload-status' })}
          >
            {item.message}
          </p>
        )
      ) : (
        <div
          className="progress"
          role="progressbar"
          aria-label={`Uploading ${item.name}`}
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={percent}
          data-testid="upload-progress"
        >
          <span
            className={`progress-bar${item.phase === 'uploaded' ? ' is-complete' : ''}`}
            style={{ width: `${percent}%` }}
          />
          <span className="progress-text">
            {item.phase === 'waiting' ? 'waiting' : item.phase === 'uploaded' ? 'uploaded' : `${percent} %`}
          </span>
        </div>
      )}
      {item.status && (
        <p className="muted small upload-status" role="status" data-testid="upload-status">
          {item.status}
        </p>
      )}
      {(ACTIVE.has(item.phase) || (item.phase === 'error' && onRetry)) && (
        <div className="upload-actions">
          {item.phase === 'error' && onRetry && (
            <button type="button" className="btn btn-small" onClick={onRetry}>
              Retry
            </button>
          )}
          <button
            type="button"
            className="btn btn-small btn-ghost"
            onClick={onCancel}
            aria-label={`Cancel the upload of ${item.name}`}
          >
            Cancel
          </button>
        </div>
      )}
      {item.phase === 'uploaded' && (
        <>
          <Stage status={done ? 'done' : (job?.status ?? 'queued')} />
          {job?.status === 'failed' && job.error && <p className="upload-message">{job.error}</p>}
          {thumbnails.length > 0 && (
            <div className="upload-thumbs">
              {[...thumbnails]
                .sort((a, b) => a.frame.localeCompare(b.frame))
                .map((t) => (
                  <img key={t.key} src={t.url} alt={`${t.frame} frame`} data-testid="upload-thumb" />
                ))}
            </div>
          )}
        </>
      )}
    </li>
  );
}

function UploadIcon() {
  return (
    <svg className="dropzone-icon" viewBox="0 0 24 24" aria-hidden="true">
      <path
        d="M12 16V4m0 0-4.5 4.5M12 4l4.5 4.5M4 15v3a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2v-3"
        fill="none"
        stroke="currentColor"
        strokeWidth="1.6"
        strokeLinecap="round"
        strokeLinejoin="round"
      />
    </svg>
  );
}
