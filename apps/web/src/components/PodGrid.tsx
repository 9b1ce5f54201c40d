'use client';

import type { Job, Pod } from '@thumbs/model';
import { baseName, formatBytes, formatSince } from '../lib/format.ts';
import { usePresence } from '../lib/use-presence.ts';
import { useNow } from '../lib/use-now.ts';
import { Empty, Panel, Skeleton } from './Panel.tsx';
import { VideoLink } from './VideoLink.tsx';

/** Pods and what each worker is on: a job's `worker` is the name of the pod that runs it. */
export function PodGrid({ pods, jobs }: { pods: Pod[] | null; jobs: Job[] }) {
  const now = useNow(1000);
  const working = new Map(
    jobs.flatMap((job) => (job.status === 'processing' && job.worker ? [[job.worker, job]] : [])),
  );
  const shown = usePresence(pods ?? [], (pod) => pod.name, 450);
  const running = pods?.filter((p) => p.status === 'Running').length ?? 0;
  return (
    <Panel
      id="pods"
      title="Pods"
      area="pods"
      subtitle={pods ? `${running} running · ${pods.length} total` : undefined}
    >
      {pods === null ? (
        <Skeleton />
      ) : shown.length === 0 ? (
        <Empty>No pods. Workers scale from zero when messages arrive.</Empty>
      ) : (
        <ul className="pod-grid">
          {shown.map(({ item: pod, leaving }) => (
            <li
              key={pod.name}
              className={`pod pod-${pod.status.toLowerCase()}${leaving ? ' pod-leaving' : ''}`}
              data-testid="pod-card"
              data-pod={pod.name}
            >
              <div className="pod-top">
                <span className="pod-name" title={pod.name}>
                  {pod.name}
                </span>
                <span className={`chip chip-${pod.status.toLowerCase()}`}>
                  {leaving ? 'Terminating' : pod.status}
                </span>
              </div>
              <dl className="pod-facts">
                <div>
                  <dt>Ready</dt>
                  <dd>
                    <span className={`ready-dot${pod.ready ? ' is-ready' : ''}`} aria-hidden="true" />
                    {pod.ready ? 'yes' : 'no'}
                  </dd>
                </div>
                <div>
                  <dt>Restarts</dt>
                  <dd className={pod.restarts ? 'text-warn' : undefined}>{pod.restarts}</dd>
                </div>
                <div>
                  <dt>Uptime</dt>
                  <dd>{formatSince(pod.startedAt, now)}</dd>
                </div>
                {(pod.cpu !== null || pod.memory !== null) && (
                  <div>
                    <dt>CPU · mem</dt>
                    <dd>
                      {pod.cpu === null ? '—' : `${Math.round(pod.cpu)}m`} ·{' '}
                      {pod.memory === null ? '—' : formatBytes(pod.memory)}
                    </dd>
                  </div>
                )}
              </dl>
              <PodActivity job={working.get(pod.name)} running={pod.status === 'Running'} />
            </li>
          ))}
        </ul>
      )}
    </Panel>
  );
}

function PodActivity({ job, running }: { job: Job | undefined; running: boolean }) {
  if (!job) return running ? <p className="pod-activity muted small">Idle</p> : null;
  return (
    <p
      className="pod-activity small"
      data-testid="pod-activity"
      data-source={job.source}
      data-stage={job.stage ?? ''}
    >
      <VideoLink source={job.source} className="video-link mono" label={`Details of ${baseName(job.source)}`}>
        {baseName(job.source)}
      </VideoLink>
      {job.stage && <span className={`pod-stage pod-stage-${job.stage}`}>{job.stage}</span>}
    </p>
  );
}
