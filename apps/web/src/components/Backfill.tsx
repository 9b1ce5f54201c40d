'use client';

import type { BackfillStatus } from '@thumbs/model';
import { formatCount, formatSince } from '../lib/format.ts';
import { useNow } from '../lib/use-now.ts';
import { Spinner } from './Header.tsx';
import { useAdminAction } from './use-admin-action.ts';

/** What the last backfill sweep found (videos no event ever brought to a worker), and a sweep on demand. */
export function Backfill({ status }: { status: BackfillStatus | null }) {
  const { busy, run, notify } = useAdminAction<'backfill'>();
  const now = useNow(5000);

  const sweep = async () => {
    const result = await run<{ unprocessed: number; queued: number }>('backfill', {
      path: '/api/backfill',
      method: 'POST',
      failure: 'Backfill failed',
    });
    if (!result) return;
    notify(
      'ok',
      result.unprocessed === 0
        ? 'Backfill: every video has its thumbnails or a recorded failure'
        : `Backfill: queued ${formatCount(result.queued)} of ${formatCount(result.unprocessed)} unprocessed videos`,
    );
  };

  const summary =
    !status || status.sweptAt === null || status.unprocessed === null
      ? 'No backfill sweep yet'
      : `Last sweep ${formatSince(status.sweptAt, now)} ago: ${formatCount(status.unprocessed)} unprocessed` +
        (status.unprocessed > 0 ? `, ${formatCount(status.queued)} queued again` : '');

  return (
    <div className="backfill" data-testid="backfill">
      <span className="muted small" data-testid="backfill-summary">
        {summary}
      </span>
      <button
        type="button"
        className="btn btn-small"
        disabled={busy !== null}
        onClick={sweep}
        title="Find videos under uploads/ with no thumbnails and no recorded failure, and queue them"
      >
        {busy !== null && <Spinner />}
        Backfill
      </button>
    </div>
  );
}
