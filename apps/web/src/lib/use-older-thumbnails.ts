'use client';

import type { Thumbnail, ThumbnailPage } from '@thumbs/model';
import { useCallback, useEffect, useRef, useState } from 'react';
import { apiRequest } from './api-client.ts';
import { withOlder } from './gallery.ts';

const PAGE_SIZE = 500;

/**
 * Thumbnails older than the ones the live state carries (the API sends only the most recent), paged from
 * GET /api/thumbnails on demand, so that the gallery can reach every thumbnail without holding all of them.
 */
export function useOlderThumbnails(api: string, live: Thumbnail[] | null, total: number) {
  const [older, setOlder] = useState<Thumbnail[]>([]);
  const [loading, setLoading] = useState(false);
  // The total at which the last page came back: paging starts over only if the total changes (e.g. the API
  // restarted with thumbnails it had not announced), never in a loop against a count that cannot be reached.
  const [exhaustedAt, setExhaustedAt] = useState<number | null>(null);
  const cursor = useRef<string | null>(null);

  // A purge empties the live list: the pages are gone too.
  const empty = live !== null && live.length === 0;
  useEffect(() => {
    if (!empty) return;
    setOlder([]);
    setExhaustedAt(null);
    cursor.current = null;
  }, [empty]);

  const all = live ? withOlder(live, older) : [];
  const hasMore = live !== null && exhaustedAt !== total && total > all.length;

  const loadMore = useCallback(async () => {
    if (loading || !hasMore) return;
    setLoading(true);
    try {
      const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
      if (cursor.current) query.set('cursor', cursor.current);
      const page = await apiRequest<ThumbnailPage>(api, `/api/thumbnails?${query}`);
      cursor.current = page.nextCursor;
      if (page.nextCursor === null) setExhaustedAt(total);
      setOlder((list) => withOlder(list, page.items));
    } catch {
      // The API is unreachable: the live badge says so, and the next scroll to the end tries again.
    } finally {
      setLoading(false);
    }
  }, [api, loading, hasMore, total]);

  return { all, hasMore, loading, loadMore };
}
