'use client';

import { VIDEO_EXTENSIONS, type PipelineState } from '@thumbs/model';
import { useId, useRef, useState, type DragEvent } from 'react';
import { ApiError } from '../lib/api-client.ts';
import { baseName, formatBytes } from '../lib/format.ts';
import { putFile, rejectReason, requestUpload, type PresignedUpload } from '../lib/upload.ts';
import { useAdmin } from './AdminProvider.tsx';
import { Stage } from './Jobs.tsx';
import { Panel } from './Panel.tsx';

interface UploadItem {
  id: number;
  name: string;
  size: number;
  phase: 'rejected' | 'waiting' | 'uploading' | 'uploaded' | 'error';
  progress: number;
  key?: string;
  message?: string;
}

const ACCEPT = ['video/*', ...VIDEO_EXTENSIONS].join(',');
const KEPT = 20;

export function Upload({ state }: { state: PipelineState | null }) {
  const admin = useAdmin();
  const inputId = useId();
  const [items, setItems] = useState<UploadItem[]>([]);
  const [dragging, setDragging] = useState(false);
  const nextId = useRef(1);

  const update = (id: number, patch: Partial<UploadItem>) =>
    setItems((list) => list.map((item) => (item.id === id ? { ...item, ...patch } : item)));

  const start = async (files: File[]) => {
    if (files.length === 0) return;
    const added = files.map((file) => {
      const reason = rejectReason(file);
      const item: UploadItem = {
        id: nextId.current++,
        name: file.name,
        size: file.size,
        phase: reason ? 'rejected' : 'waiting',
        progress: 0,
        message: reason,
      };
      return { file, item };
    });
    setItems((list) => [...added.map((a) => a.item).reverse(), ...list].slice(0, KEPT));
    const accepted = added.filter((a) => a.item.phase === 'waiting');
    if (accepted.length === 0) return;

    // Ask the API for every presigned URL under one token prompt; a refused token re-asks and resumes.
    const presigned = new Map<number, PresignedUpload>();
    try {
      const finished = await admin.withToken(async (token) => {
        for (const { file, item } of accepted) {
          if (presigned.has(item.id)) continue;
          try {
            presigned.set(item.id, await requestUpload(admin.api, token, file));
          } catch (error) {
            if (error instanceof ApiError && error.status === 401) throw error;
            update(item.id, { phase: 'error', message: (error as Error).message });
          }
        }
        return true;
      });
      if (!finished) {
        for (const { item } of accepted)
          update(item.id, { phase: 'error', message: 'Cancelled: no admin token' });
        return;
      }
    } catch (error) {
      for (const { item } of accepted) update(item.id, { phase: 'error', message: (error as Error).message });
      return;
    }

    await Promise.all(
      accepted.map(async ({ file, item }) => {
        const upload = presigned.get(item.id);
        if (!upload) return;
        update(item.id, { phase: 'uploading', key: upload.key });
        try {
          await putFile(upload, file, (progress) => update(item.id, { progress }));
          update(item.id, { phase: 'uploaded', progress: 1 });
        } catch (error) {
          update(item.id, { phase: 'error', message: (error as Error).message });
        }
      }),
    );
  };

  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    void start([...event.dataTransfer.files]);
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
            onClick={() =>
              setItems((list) => list.filter((i) => i.phase === 'uploading' || i.phase === 'waiting'))
            }
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
            void start([...(event.target.files ?? [])]);
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
            <UploadRow key={item.id} item={item} state={state} />
          ))}
        </ul>
      )}
    </Panel>
  );
}

function UploadRow({ item, state }: { item: UploadItem; state: PipelineState | null }) {
  const job = item.key ? state?.jobs.find((j) => j.source === item.key) : undefined;
  const thumbnails = item.key ? (state?.thumbnails.filter((t) => t.source === item.key) ?? []) : [];
  const done = thumbnails.length >= 3;
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
      {item.phase === 'rejected' || item.phase === 'error' ? (
        <p className="upload-message" role="alert">
          {item.message}
        </p>
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
