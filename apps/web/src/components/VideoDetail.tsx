'use client';

import type { AttemptEvent, Job, SourceRead, VideoDetail as Detail, VideoInfo } from '@thumbs/model';
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, apiRequest } from '../lib/api-client.ts';
import { baseName, formatBytes, formatDuration } from '../lib/format.ts';
import { closeVideo } from '../lib/video-link.ts';
import { useApiBase } from './ApiBase.tsx';
import { ConfirmDialog } from './ConfirmDialog.tsx';
import { FailureKindBadge } from './Failures.tsx';
import { Spinner } from './Header.tsx';
import { Stage } from './Jobs.tsx';
import { Skeleton } from './Panel.tsx';
import { useAdminAction, type AdminCall } from './use-admin-action.ts';

type Loaded = { detail: Detail } | { missing: true } | { error: string };
type Action = 'reprocess' | 'delete' | 'redrive';

/**
 * One video in a drawer: its three frames large, what the probe found, every attempt, and the admin
 * actions. Fetched when it opens and again whenever the live job changes.
 */
export function VideoDetail({ source, job }: { source: string; job: Job | null }) {
  const api = useApiBase();
  const dialog = useRef<HTMLDialogElement>(null);
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const { busy, run, notify } = useAdminAction<Action>();
  const [confirming, setConfirming] = useState(false);
  const query = `?source=${encodeURIComponent(source)}`;
  const name = baseName(source);
  const liveJob = JSON.stringify(job);

  useEffect(() => {
    const element = dialog.current;
    if (element && !element.open) element.showModal();
  }, []);

  useEffect(() => {
    let current = true;
    apiRequest<Detail>(api, `/api/video${query}`)
      .then((detail) => current && setLoaded({ detail }))
      .catch((error: unknown) => {
        if (!current) return;
        setLoaded(
          error instanceof ApiError && error.status === 404
            ? { missing: true }
            : { error: (error as Error).message },
        );
      });
    return () => {
      current = false;
    };
  }, [api, query, liveJob]);

  const act = useCallback(
    async (action: Action) => {
      const calls: Record<Action, Omit<AdminCall, 'failure'>> = {
        reprocess: { path: `/api/video/reprocess${query}`, method: 'POST' },
        delete: { path: `/api/video${query}`, method: 'DELETE' },
        redrive: { path: '/api/dlq/redrive', method: 'POST' },
      };
      const done = await run(action, { ...calls[action], failure: `Could not ${action} ${name}` });
      if (done === undefined) return;
      if (action === 'reprocess') notify('ok', `${name} queued again`, source);
      if (action === 'redrive') notify('ok', 'Dead letters moved back to the work queue', source);
      if (action === 'delete') {
        notify('ok', `${name} and its thumbnails deleted`);
        closeVideo();
      }
    },
    [run, notify, name, query, source],
  );

  const detail = loaded && 'detail' in loaded ? loaded.detail : null;
  const status = job ?? detail?.job ?? null;

  return (
    <dialog
      ref={dialog}
      className="drawer"
      aria-labelledby="video-detail-title"
      data-testid="video-detail"
      data-source={source}
      onCancel={(event) => {
        event.preventDefault();
        closeVideo();
      }}
      onClick={(event) => event.target === dialog.current && closeVideo()}
    >
      <div className="drawer-body">
        <header className="drawer-head">
          <div className="drawer-title">
            <h2 id="video-detail-title" title={source}>
              {name}
            </h2>
            <span className="mono muted small drawer-key">{source}</span>
          </div>
          <button type="button" className="btn btn-ghost" onClick={closeVideo} aria-label="Close">
            ×
          </button>
        </header>

        <div className="drawer-actions">
          {status && <Stage status={status.status} />}
          {status?.stage && (
            <span className="chip" data-testid="detail-stage">
              {status.stage}
            </span>
          )}
          <span className="drawer-actions-end">
            {detail?.deadLetter && (
              <button
                type="button"
                className="btn btn-small"
                disabled={busy !== null}
                // SQS moves dead letters back all at once (a message move task), not one by one.
                title="Moves every dead letter, this one included, back to the work queue"
                onClick={() => act('redrive')}
              >
                {busy === 'redrive' && <Spinner />}
                Redrive dead letters
              </button>
            )}
            <button
              type="button"
              className="btn btn-small"
              disabled={busy !== null || loaded === null || 'missing' in loaded}
              onClick={() => act('reprocess')}
            >
              {busy === 'reprocess' && <Spinner />}
              Reprocess
            </button>
            <button
              type="button"
              className="btn btn-small btn-danger-outline"
              disabled={busy !== null || loaded === null || 'missing' in loaded}
              onClick={() => setConfirming(true)}
            >
              {busy === 'delete' && <Spinner />}
              Delete
            </button>
          </span>
        </div>

        {loaded === null ? (
          <Skeleton height={320} />
        ) : 'missing' in loaded ? (
          <p className="muted" data-testid="detail-missing">
            Nothing is known of this video: it was deleted, or never uploaded.
          </p>
        ) : 'error' in loaded ? (
          <p className="text-error" role="alert">
            Could not load the video: {loaded.error}
          </p>
        ) : (
          <DetailBody detail={loaded.detail} />
        )}
      </div>
      {confirming && (
        <ConfirmDialog
          title={`Delete ${name}?`}
          confirmLabel="Delete"
          onDone={(confirmed) => {
            setConfirming(false);
            if (confirmed) void act('delete');
          }}
        >
          The video, its three thumbnails and any failure record are deleted from the bucket.
        </ConfirmDialog>
      )}
    </dialog>
  );
}

function DetailBody({ detail }: { detail: Detail }) {
  const { thumbnails, video, sourceRead, attempts, job } = detail;
  return (
    <>
      <section aria-labelledby="detail-frames">
        <h3 id="detail-frames">Frames</h3>
        {thumbnails.length === 0 ? (
          <p className="muted">No thumbnails stored.</p>
        ) : (
          <div className="detail-frames">
            {thumbnails.map((thumbnail) => (
              <figure key={thumbnail.key} className="detail-frame" data-testid="detail-frame">
                <img
                  src={thumbnail.url}
                  alt={`${baseName(detail.source)} at ${thumbnail.frame} of its duration`}
                />
                <figcaption className="small">
                  <span>{thumbnail.frame}</span>
                  <span className="muted">{formatBytes(thumbnail.size)}</span>
                  <a href={thumbnail.url} download={`${baseName(detail.source)}-${thumbnail.frame}.jpg`}>
                    Download<span className="sr-only"> the {thumbnail.frame} frame</span>
                  </a>
                </figcaption>
              </figure>
            ))}
          </div>
        )}
      </section>

      <section aria-labelledby="detail-source">
        <h3 id="detail-source">Source</h3>
        {video ? (
          <SourceFacts video={video} sourceRead={sourceRead} />
        ) : (
          <p className="muted">Not probed yet.</p>
        )}
      </section>

      <section aria-labelledby="detail-attempts">
        <h3 id="detail-attempts">Attempts</h3>
        {job && (
          <p className="muted small">
            {job.attempts} {job.attempts === 1 ? 'attempt' : 'attempts'} · processing{' '}
            {formatDuration(job.processingMs)} · upload to thumbnails {formatDuration(job.latencyMs)}
          </p>
        )}
        {attempts.length === 0 ? (
          <p className="muted">No attempts seen since the API started.</p>
        ) : (
          <ol className="timeline" data-testid="timeline">
            {attempts.map((entry, index) => (
              <TimelineEntry key={index} entry={entry} />
            ))}
          </ol>
        )}
      </section>
    </>
  );
}

const EVENT_LABELS: Record<AttemptEvent['event'], string> = {
  queued: 'Queued',
  received: 'Received',
  started: 'Started',
  done: 'Done',
  failed: 'Failed',
};

function TimelineEntry({ entry }: { entry: AttemptEvent }) {
  return (
    <li
      className={`timeline-entry timeline-${entry.event}`}
      data-testid="timeline-entry"
      data-event={entry.event}
    >
      <time dateTime={entry.time} className="mono small muted">
        {new Date(entry.time).toLocaleTimeString()}
      </time>
      <div>
        <strong>{EVENT_LABELS[entry.event]}</strong>
        {entry.attempt !== null && <span className="muted"> · attempt {entry.attempt}</span>}
        {entry.worker && (
          <span className="muted">
            {' '}
            · {entry.event === 'received' ? 'by' : 'on'} <span className="mono">{entry.worker}</span>
          </span>
        )}
        {entry.final && <span className="text-error"> · to the dead-letter queue</span>}
        {entry.error && (
          <p className="timeline-error">
            <FailureKindBadge kind={entry.kind} />
            {entry.error}
          </p>
        )}
      </div>
    </li>
  );
}

function SourceFacts({ video, sourceRead }: { video: VideoInfo; sourceRead: SourceRead | null }) {
  const facts: [string, string][] = [
    ['Duration', formatDuration(video.durationSeconds * 1000)],
    ['Resolution', `${video.width} × ${video.height}`],
    ['Rotation', `${video.rotation}°`],
    ['Codec', video.codec],
    ['Container', video.container ?? '—'],
    ['Size', video.size === null ? '—' : formatBytes(video.size)],
    ['Bit rate', video.bitRate === null ? '—' : formatBitRate(video.bitRate)],
    ['Read by the worker', sourceRead ? readShare(sourceRead, video.size) : '—'],
  ];
  return (
    <dl className="detail-facts" data-testid="detail-facts">
      {facts.map(([term, value]) => (
        <div key={term}>
          <dt>{term}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

function formatBitRate(bitsPerSecond: number): string {
  return bitsPerSecond >= 1e6
    ? `${(bitsPerSecond / 1e6).toFixed(1)} Mbit/s`
    : `${Math.round(bitsPerSecond / 1e3)} kbit/s`;
}

function readShare(read: SourceRead, size: number | null): string {
  const share = size
    ? ` (${Math.min(100, (100 * read.bytes) / size).toFixed(read.bytes < size / 100 ? 2 : 0)} %)`
    : '';
  return `${formatBytes(read.bytes)}${share} in ${read.requests} ${read.requests === 1 ? 'request' : 'requests'}`;
}
