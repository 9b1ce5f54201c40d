'use client';

import { useState } from 'react';
import type { LivePipeline } from '../lib/use-live-pipeline.ts';
import { useAdmin } from './AdminProvider.tsx';
import { ConfirmDialog } from './ConfirmDialog.tsx';
import { useAdminAction } from './use-admin-action.ts';

export function Header({ live }: { live: LivePipeline }) {
  return (
    <header className="topbar">
      <div className="brand">
        <Logo />
        <div>
          <h1>Thumbnail pipeline</h1>
          <p className="brand-sub">S3 → SQS → workers → thumbnails</p>
        </div>
      </div>
      <div className="topbar-status">
        <LiveBadge status={live.status} />
        {live.state && <SourceDots sources={live.state.sources} />}
      </div>
      <AdminActions />
    </header>
  );
}

function Logo() {
  return (
    <svg className="logo" viewBox="0 0 32 32" aria-hidden="true">
      <rect x="3" y="6" width="11" height="8" rx="2" fill="#38bdf8" />
      <rect x="18" y="6" width="11" height="8" rx="2" fill="#a78bfa" />
      <rect x="3" y="18" width="11" height="8" rx="2" fill="#34d399" />
      <rect x="18" y="18" width="11" height="8" rx="2" fill="#fbbf24" />
    </svg>
  );
}

export function LiveBadge({ status }: { status: LivePipeline['status'] }) {
  const label = status === 'live' ? 'LIVE' : status === 'down' ? 'DOWN' : 'CONNECTING';
  return (
    <span className={`badge badge-${status}`} data-testid="live-badge" role="status" aria-live="polite">
      <span className="badge-dot" aria-hidden="true" />
      {label}
    </span>
  );
}

function SourceDots({ sources }: { sources: NonNullable<LivePipeline['state']>['sources'] }) {
  const entries = [
    ['SQS', sources.sqs],
    ['S3', sources.s3],
    ['Pods', sources.pods],
  ] as const;
  return (
    <ul className="sources" aria-label="Data sources">
      {entries.map(([name, source]) => (
        <li key={name} className={source.ok ? 'ok' : 'bad'} title={source.error ?? `${name} answering`}>
          <span className="source-dot" aria-hidden="true" />
          {name}
          <span className="sr-only">{source.ok ? ' ok' : ` failing: ${source.error ?? ''}`}</span>
        </li>
      ))}
    </ul>
  );
}

function AdminActions() {
  const admin = useAdmin();
  const { busy, run, notify } = useAdminAction<'test' | 'purge'>();
  const [confirming, setConfirming] = useState(false);

  const test = async () => {
    const result = await run<{ queued: number }>('test', {
      path: '/api/test',
      method: 'POST',
      failure: 'Test pipeline failed',
    });
    if (result) notify('ok', `Test pipeline: ${result.queued} sample videos uploaded`);
  };
  const purge = async () => {
    const result = await run<{ deleted: number }>('purge', {
      path: '/api/purge',
      method: 'DELETE',
      failure: 'Purge failed',
    });
    if (result) notify('ok', `Purged ${result.deleted} objects`);
  };

  return (
    <div className="topbar-actions">
      <button type="button" className="btn btn-primary" disabled={busy !== null} onClick={test}>
        {busy === 'test' ? <Spinner /> : <PlayIcon />}
        Test Pipeline
      </button>
      <button
        type="button"
        className="btn btn-danger-outline"
        disabled={busy !== null}
        onClick={() => setConfirming(true)}
      >
        {busy === 'purge' ? <Spinner /> : <TrashIcon />}
        Purge
      </button>
      {admin.hasToken && (
        <button
          type="button"
          className="btn btn-ghost"
          title="Forget the admin token"
          onClick={admin.forgetToken}
        >
          <KeyIcon />
          <span className="sr-only">Forget the admin token</span>
        </button>
      )}
      {confirming && (
        <ConfirmDialog
          title="Purge everything?"
          confirmLabel="Purge"
          onDone={(confirmed) => {
            setConfirming(false);
            if (confirmed) void purge();
          }}
        >
          <p>This deletes every uploaded video and every thumbnail. It cannot be undone.</p>
        </ConfirmDialog>
      )}
    </div>
  );
}

export function Spinner() {
  return <span className="spinner" aria-hidden="true" />;
}

function PlayIcon() {
  return (
    <svg className="icon" viewBox="0 0 16 16" aria-hidden="true">
      <path d="M4 2.5v11l9-5.5z" fill="currentColor" />
    </svg>
  );
}

function TrashIcon() {
  return (
    <svg className="icon" viewBox="0 0 16 16" aria-hidden="true">
      <path
        d="M6 2h4M2.5 4h11M4 4l.7 9.2a1 1 0 0 0 1 .8h4.6a1 1 0 0 0 1-.8L12 4"
        fill="none"
        stroke="currentColor"
        strokeWidth="1.5"
        strokeLinecap="round"
      />
    </svg>
  );
}

function KeyIcon() {
  return (
    <svg className="icon" viewBox="0 0 16 16" aria-hidden="true">
      <circle cx="5" cy="8" r="3" fill="none" stroke="currentColor" strokeWidth="1.5" />
      <path
        d="M8 8h6M12 8v2.5M14 8v2"
        fill="none"
        stroke="currentColor"
        strokeWidth="1.5"
        strokeLinecap="round"
      />
    </svg>
  );
}
