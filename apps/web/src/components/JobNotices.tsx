'use client';

import type { Job } from '@thumbs/model';
import { useEffect, useRef } from 'react';
import { baseName } from '../lib/format.ts';
import { useNotify } from './Toasts.tsx';

/** A toast, linking to the detail, for each video that fails for good while the page is open. */
export function JobNotices({ jobs }: { jobs: Job[] | null }) {
  const notify = useNotify();
  const failed = useRef<Set<string> | null>(null);
  useEffect(() => {
    if (!jobs) return;
    const previous = failed.current;
    failed.current = new Set(jobs.filter((j) => j.status === 'failed').map((j) => j.source));
    // The first state is history, not news.
    if (!previous) return;
    for (const job of jobs) {
      if (job.status !== 'failed' || previous.has(job.source)) continue;
      const kind = job.errorKind ? ` (${job.errorKind})` : '';
      notify('error', `${baseName(job.source)} failed${kind}`, job.source);
    }
  }, [jobs, notify]);
  return null;
}
