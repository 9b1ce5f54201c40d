'use client';

import { formatDuration } from '../lib/format.ts';
import type { LivePipeline } from '../lib/use-live-pipeline.ts';
import { useNow } from '../lib/use-now.ts';

export function StaleBanner({ live }: { live: LivePipeline }) {
  const now = useNow(1000);
  if (live.status !== 'down') return null;
  const retryIn = live.retryAt === null ? null : Math.max(0, live.retryAt - now);
  return (
    <div className="stale-banner" role="alert">
      <strong>Connection to the API lost</strong>
      <span>
        {live.state ? 'Showing the last known state, which may be out of date' : 'No data yet'}
        {live.downSince !== null && ` · down for ${formatDuration(now - live.downSince)}`}
        {retryIn !== null && (retryIn > 0 ? ` · retrying in ${Math.ceil(retryIn / 1000)} s` : ' · retrying…')}
      </span>
    </div>
  );
}
