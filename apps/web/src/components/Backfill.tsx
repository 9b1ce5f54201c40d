'use client';

import type { BackfillStatus } from '@thumbs/model';
import { useState } from 'react';
import { apiRequest } from '../lib/api-client.ts';
import { formatCount, formatSince } from '../lib/format.ts';
import { useNow } from '../lib/use-now.ts';
import { useAdmin } from './AdminProvider.tsx';
import { Spinner } from './Header.tsx';

/** What the last backfill sweep found (videos no event ever brought to a worker), and a sweep on demand. */
export function Backfill({ status }: { status: BackfillStatus | null }) {
  const admin = useAdmin();
  const now = useNow(5000);
  const [busy, setBusy] = useState(false);

  const sweep = async () => {
    setBusy(true);
    try {
      const result = await admin.withToken((token) =>
        apiRequest<{ unprocessed: number; queued: number }>(admin.api, '/api/backfill', {
          method: 'POST',
          token,
        }),
      );
      if (result) {
        admin.notify(
          'ok',
          result.unprocessed === 0
            ? 'Backfill: every video has its thumbnails or a recorded failure'
            : `Backfill: queued ${formatCount(result.queued)} of ${formatCount(result.unprocessed)} unprocessed videos`,
        );
      }
    } catch (error) {
      admin.notify('error', `Backfill failed: ${(error as Error).message}`);
    } finally {
      setBusy(false);
    }
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
        disabled={busy}
        onClick={sweep}
        title="Find videos under uploads/ with no thumbnails and no recorded failure, and queue them"
      >
        {busy && <Spinner />}
        Backfill
      </button>
    </div>
  );
}
