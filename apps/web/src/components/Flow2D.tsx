'use client';

import { useEffect, useRef, useState, type ReactNode } from 'react';
import type { Flow } from '../lib/flow.ts';
import { formatCount } from '../lib/format.ts';

const MAX_MESSAGES = 24;
const MAX_WORKERS = 12;
const MAX_TILES = 9;

/** The pipeline drawn in 2D (HTML + CSS animation): where WebGL is missing or motion is reduced. */
export function Flow2D({ flow, active }: { flow: Flow; active: boolean }) {
  const landing = useLanding(flow.thumbnails);
  const busy = Math.min(flow.inFlight, flow.workers.length);
  return (
    <div className={`flow${active ? '' : ' is-paused'}`} data-testid="flow-2d">
      <FlowStage name="Upload" value={flow.uploaded} unit="videos" tone="cyan">
        <div className="flow-upload" aria-hidden="true">
          <span className="flow-upload-arrow" />
        </div>
      </FlowStage>
      <Connector moving={flow.queued > 0} tone="cyan" />
      <FlowStage
        name="Queue"
        value={flow.queued}
        unit="waiting"
        tone="violet"
        extra={flow.dlq ? `${flow.dlq} in DLQ` : undefined}
      >
        <div className="flow-messages" aria-hidden="true">
          {Array.from({ length: Math.min(flow.queued, MAX_MESSAGES) }, (_, i) => (
            <span key={i} className="flow-message" />
          ))}
          {flow.queued > MAX_MESSAGES && <span className="flow-more">+{flow.queued - MAX_MESSAGES}</span>}
        </div>
      </FlowStage>
      <Connector moving={flow.inFlight > 0} tone="violet" />
      <FlowStage
        name="Workers"
        value={flow.workers.length}
        unit="running"
        tone="green"
        extra={`${flow.inFlight} in flight`}
      >
        <div className="flow-workers" aria-hidden="true">
          {flow.workers.slice(0, MAX_WORKERS).map((worker, i) => (
            <span
              key={worker.name}
              className={`flow-worker${i < busy ? ' is-busy' : ''}`}
              title={worker.name}
            />
          ))}
          {flow.workers.length === 0 && <span className="flow-idle">scaled to zero</span>}
        </div>
      </FlowStage>
      <Connector moving={busy > 0} tone="green" />
      <FlowStage name="Thumbnails" value={flow.thumbnails} unit="stored" tone="amber">
        <div className="flow-tiles" aria-hidden="true">
          {Array.from({ length: Math.min(flow.thumbnails, MAX_TILES) }, (_, i) => (
            <span key={i} className="flow-tile" />
          ))}
          {landing.map((id) => (
            <span key={id} className="flow-tile flow-tile-landing" />
          ))}
        </div>
      </FlowStage>
    </div>
  );
}

function FlowStage({
  name,
  value,
  unit,
  tone,
  extra,
  children,
}: {
  name: string;
  value: number;
  unit: string;
  tone: string;
  extra?: string;
  children: ReactNode;
}) {
  return (
    <div className={`flow-stage tone-${tone}`}>
      <div className="flow-stage-name">{name}</div>
      <div className="flow-stage-visual">{children}</div>
      <div className="flow-stage-value">
        {formatCount(value)} <span className="flow-stage-unit">{unit}</span>
      </div>
      {extra && <div className="flow-stage-extra">{extra}</div>}
    </div>
  );
}

function Connector({ moving, tone }: { moving: boolean; tone: string }) {
  return (
    <div className={`flow-connector tone-${tone}${moving ? ' is-moving' : ''}`} aria-hidden="true">
      <span className="flow-line" />
      {moving &&
        [0, 1, 2].map((i) => (
          <span key={i} className="flow-packet" style={{ animationDelay: `${i * 0.5}s` }} />
        ))}
    </div>
  );
}

/** Ids of thumbnails that just landed (count went up), each kept for the length of its animation. */
function useLanding(count: number): number[] {
  const [landing, setLanding] = useState<number[]>([]);
  const previous = useRef(count);
  const nextId = useRef(0);
  const timers = useRef(new Set<ReturnType<typeof setTimeout>>());
  useEffect(() => {
    const pending = timers.current;
    return () => pending.forEach(clearTimeout);
  }, []);
  useEffect(() => {
    const added = Math.min(3, count - previous.current);
    previous.current = count;
    if (added <= 0) return;
    const ids = Array.from({ length: added }, () => nextId.current++);
    setLanding((list) => [...list, ...ids]);
    const timer = setTimeout(() => {
      timers.current.delete(timer);
      setLanding((list) => list.filter((id) => !ids.includes(id)));
    }, 900);
    timers.current.add(timer);
  }, [count]);
  return landing;
}
