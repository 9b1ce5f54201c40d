'use client';

import { isPermanentFailure, type BackfillStatus, type DlqEntry, type FailureKind } from '@thumbs/model';
import { formatSince } from '../lib/format.ts';
import { useNow } from '../lib/use-now.ts';
import { Backfill } from './Backfill.tsx';
import { Spinner } from './Header.tsx';
import { KeyLabel } from './KeyLabel.tsx';
import { useAdminAction } from './use-admin-action.ts';
import { VideoLink } from './VideoLink.tsx';
import { Empty, Panel, Skeleton } from './Panel.tsx';

/** The failure's kind as a small badge: red when no retry can fix it, amber when a retry may. */
export function FailureKindBadge({ kind }: { kind: FailureKind | null | undefined }) {
  if (!kind) return null;
  const permanent = isPermanentFailure(kind);
  return (
    <span
      data-testid="failure-kind"
      className={`kind-badge ${permanent ? 'kind-permanent' : 'kind-transient'}`}
      title={permanent ? 'no retry can fix this file' : 'a retry may succeed'}
    >
      {kind}
    </span>
  );
}

export function Failures({ dlq, backfill }: { dlq: DlqEntry[] | null; backfill: BackfillStatus | null }) {
  const { busy, run, notify } = useAdminAction<'redrive'>();
  const now = useNow(5000);

  const redrive = async () => {
    const result = await run<{ moved: number }>('redrive', {
      path: '/api/dlq/redrive',
      method: 'POST',
      failure: 'Redrive failed',
    });
    if (result) notify('ok', `Moved ${result.moved} messages back to the work queue`);
  };

  return (
    <Panel
      id="failures"
      title="Failures"
      area="failures"
      subtitle={dlq ? `${dlq.length} in the dead-letter queue` : undefined}
      actions={
        <button
          type="button"
          className="btn btn-small"
          disabled={busy !== null || !dlq?.length}
          onClick={redrive}
        >
          {busy !== null && <Spinner />}
          Redrive
        </button>
      }
    >
      {dlq === null ? (
        <Skeleton />
      ) : dlq.length === 0 ? (
        <Empty>
          <span className="ok-mark" aria-hidden="true">
            ✓
          </span>{' '}
          Dead-letter queue is empty
        </Empty>
      ) : (
        <ul className="dlq">
          {dlq.map((entry) => (
            <li key={entry.messageId} className="dlq-item" data-testid="dlq-item">
              <div className="dlq-top">
                {entry.source ? (
                  <VideoLink source={entry.source} className="video-link">
                    <KeyLabel source={entry.source} />
                  </VideoLink>
                ) : (
                  <span className="mono">unreadable message {entry.messageId}</span>
                )}
                <span className="muted small">
                  {entry.receiveCount}× received · {formatSince(entry.sentAt, now)} ago
                </span>
              </div>
              <p className="dlq-error" title={entry.error ?? undefined}>
                <FailureKindBadge kind={entry.errorKind} />
                {entry.error ?? 'No error recorded'}
              </p>
            </li>
          ))}
        </ul>
      )}
      <Backfill status={backfill} />
    </Panel>
  );
}
