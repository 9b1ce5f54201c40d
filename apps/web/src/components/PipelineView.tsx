'use client';

import type { PipelineState } from '@thumbs/model';
import dynamic from 'next/dynamic';
import { useEffect, useMemo, useRef, useState } from 'react';
import { pipelineFlow } from '../lib/flow.ts';
import { useInView } from '../lib/use-in-view.ts';
import { Flow2D } from './Flow2D.tsx';
import { Panel } from './Panel.tsx';

// three.js and @react-three/fiber load on demand, only where WebGL exists: never in the first-load JavaScript.
const PipelineScene = dynamic(() => import('../scene/PipelineScene.tsx'), { ssr: false });

function hasWebGL(): boolean {
  try {
    const canvas = document.createElement('canvas');
    return Boolean(canvas.getContext('webgl2') ?? canvas.getContext('webgl'));
  } catch {
    return false;
  }
}

export function PipelineView({ state }: { state: PipelineState | null }) {
  const [webgl, setWebgl] = useState<boolean | null>(null);
  const box = useRef<HTMLDivElement>(null);
  const visible = useInView(box);
  const flow = useMemo(() => pipelineFlow(state), [state]);

  useEffect(() => {
    // Phones get the 2D flow: it stacks into a grid that stays legible on a narrow screen.
    const wide = window.matchMedia('(min-width: 640px)').matches;
    const reducedMotion = window.matchMedia('(prefers-reduced-motion: reduce)').matches;
    setWebgl(wide && !reducedMotion && hasWebGL());
  }, []);

  return (
    <Panel id="pipeline" title="Pipeline" area="scene" subtitle="upload → queue → workers → thumbnails, live">
      <div
        ref={box}
        className="scene-box"
        data-renderer={webgl === null ? 'pending' : webgl ? '3d' : '2d'}
        data-active={visible}
      >
        {webgl ? <PipelineScene flow={flow} active={visible} /> : <Flow2D flow={flow} active={visible} />}
      </div>
    </Panel>
  );
}
