'use client';

import type { Job } from '@thumbs/model';
import { formatDuration, formatSince } from '../lib/format.ts';
import { FailureKindBadge } from './Failures.tsx';
import { KeyLabel } from './KeyLabel.tsx';
import { VideoLink } from './VideoLink.tsx';
import { useNow } from '../lib/use-now.ts';
import { Empty, Panel, Skeleton } from './Panel.tsx';

const SHOWN = 50;

export function Jobs({ jobs }: { jobs: Job[] | null }) {
  const now = useNow(1000);
  const counts = jobs ? countByStatus(jobs) : null;
  return (
    <Panel
      id="jobs"
      title="Jobs"
      area="jobs"
      subtitle={
        counts
          ? `${counts.queued} queued · ${counts.processing} processing · ${counts.done} done · ${counts.failed} failed`
          : undefined
      }
    >
      {jobs === null ? (
        <Skeleton height={200} />
      ) : jobs.length === 0 ? (
        <Empty>No videos yet. Upload one, or press Test Pipeline.</Empty>
      ) : (
        <div className="table-wrap">
          <table className="jobs">
            <thead>
              <tr>
                <th scope="col">Video</th>
                <th scope="col">Stage</th>
                <th scope="col" className="num">
                  Attempts
                </th>
                <th scope="col" className="num col-optional">
                  Wait
                </th>
                <th scope="col" className="num col-optional">
                  Processing
                </th>
                <th scope="col" className="num">
                  Latency
                </th>
                <th scope="col" className="col-optional">
                  Updated
                </th>
              </tr>
            </thead>
            <tbody>
              {jobs.slice(0, SHOWN).map((job) => (
                <tr key={job.source} data-testid="job-row" data-source={job.source} data-status={job.status}>
                  <td className="job-video">
                    <VideoLink source={job.source} className="video-link">
                      <KeyLabel source={job.source} />
                    </VideoLink>
                    {job.error && (
                      <span
                        className="job-error"
                        title={job.errorKind ? `${job.errorKind}: ${job.error}` : job.error}
                      >
                        <FailureKindBadge kind={job.errorKind} />
                        {job.error}
                      </span>
                    )}
                  </td>
                  <td>
                    <Stage status={job.status} />
                  </td>
                  <td className={`num${job.attempts > 1 ? ' text-warn' : ''}`}>{job.attempts}</td>
                  <td className="num col-optional">{formatDuration(waitMs(job))}</td>
                  <td className="num col-optional">{formatDuration(job.processingMs)}</td>
                  <td className="num">{formatDuration(job.latencyMs)}</td>
                  <td className="muted col-optional">
                    {formatSince(job.finishedAt ?? job.startedAt ?? job.uploadedAt, now)} ago
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Panel>
  );
}

const STEPS = ['queued', 'processing', 'done'] as const;

/** queued → processing → done, with the last step turning red when the job failed. */
export function Stage({ status }: { status: Job['status'] }) {
  const reached = status === 'failed' ? 2 : STEPS.indexOf(status);
  return (
    <span className={`stage stage-${status}`} data-testid="stage">
      <span className="stage-steps" aria-hidden="true">
        {STEPS.map((step, i) => (
          <span key={step} className={`stage-step${i <= reached ? ' is-reached' : ''}`} />
        ))}
      </span>
      <span className="stage-label">{status}</span>
    </span>
  );
}

function waitMs(job: Job): number | null {
  if (!job.uploadedAt || !job.startedAt) return null;
  return Math.max(0, Date.parse(job.startedAt) - Date.parse(job.uploadedAt));
}

function countByStatus(jobs: Job[]): Record<Job['status'], number> {
  const counts = { queued: 0, processing: 0, done: 0, failed: 0 };
  for (const job of jobs) counts[job.status]++;
  return counts;
}
