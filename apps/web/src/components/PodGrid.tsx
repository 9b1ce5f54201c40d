'use client';

import type { Pod } from '@thumbs/model';
import { formatBytes, formatSince } from '../lib/format.ts';
import { usePresence } from '../lib/use-presence.ts';
import { useNow } from '../lib/use-now.ts';
import { Empty, Panel, Skeleton } from './Panel.tsx';

export function PodGrid({ pods }: { pods: Pod[] | null }) {
  const now = useNow(1000);
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
            </li>
          ))}
        </ul>
      )}
    </Panel>
  );
}
