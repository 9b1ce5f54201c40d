'use client';

import { Canvas, useFrame, useThree } from '@react-three/fiber';
import { useEffect, useMemo, useRef } from 'react';
import { Color, Object3D, type Group, type InstancedMesh, type Mesh } from 'three';
import type { Flow } from '../lib/flow.ts';
import { formatCount } from '../lib/format.ts';

const MAX_MESSAGES = 30;
/** The scene spans x ∈ [-SPAN/2, SPAN/2]; the camera backs off until all of it fits, whatever the aspect. */
const SPAN = 19;
const UPLOAD_X = -6.2;
const MAX_IN_FLIGHT = 10;
const MAX_TILES = 24;
const QUEUE_X = -2.4;
const WORKERS_X = 2.2;
const TILES_X = 6;

const CYAN = new Color('#38bdf8');
const VIOLET = new Color('#a78bfa');
const GREEN = new Color('#34d399');
const AMBER = new Color('#fbbf24');
const IDLE = new Color('#64748b');

/** The pipeline in 3D, drawn from the live state; renders only while `active` (on screen). */
export default function PipelineScene({ flow, active }: { flow: Flow; active: boolean }) {
  const busy = Math.min(flow.inFlight, flow.workers.length);
  return (
    <div className="scene-3d" data-testid="scene-3d">
      <Canvas
        frameloop={active ? 'always' : 'never'}
        dpr={[1, 2]}
        camera={{ position: [0, 4, 12], fov: 35 }}
        gl={{ antialias: true, alpha: true }}
      >
        <FitCamera />
        <ambientLight intensity={0.55} />
        <directionalLight position={[5, 10, 7]} intensity={1.4} />
        <pointLight position={[WORKERS_X, 3, 2]} intensity={busy ? 25 : 6} color={GREEN} />
        <Uploader active={flow.queued > 0} />
        <Queue count={flow.queued} />
        <InFlight count={Math.min(flow.inFlight, MAX_IN_FLIGHT)} />
        <Workers workers={flow.workers} busy={busy} />
        <Tiles count={flow.thumbnails} />
        <gridHelper args={[20, 20, '#1e293b', '#131a26']} position={[0, -0.75, 0]} />
      </Canvas>
      <ol className="scene-labels" aria-label="Pipeline stages">
        <li style={{ left: labelLeft(UPLOAD_X) }}>
          Upload <b>{formatCount(flow.uploaded)}</b>
        </li>
        <li style={{ left: labelLeft(QUEUE_X) }}>
          Queue <b>{formatCount(flow.queued)}</b>
        </li>
        <li style={{ left: labelLeft(WORKERS_X) }}>
          Workers <b>{flow.workers.length}</b>
          <span className="scene-label-sub">{flow.inFlight} in flight</span>
        </li>
        <li style={{ left: labelLeft(TILES_X) }}>
          Thumbnails <b>{formatCount(flow.thumbnails)}</b>
        </li>
      </ol>
    </div>
  );
}

function labelLeft(x: number): string {
  return `${((x + SPAN / 2) / SPAN) * 100}%`;
}

function FitCamera() {
  const camera = useThree((three) => three.camera);
  const aspect = useThree((three) => three.size.width / Math.max(1, three.size.height));
  useEffect(() => {
    if (!('fov' in camera)) return;
    const halfHeight = SPAN / 2 / aspect;
    const distance = Math.max(halfHeight, 1.9) / Math.tan((camera.fov * Math.PI) / 360);
    camera.position.set(0, distance * 0.3, distance);
    camera.lookAt(0, -0.1, 0);
    camera.updateProjectionMatrix();
  }, [camera, aspect]);
  return null;
}

function Uploader({ active }: { active: boolean }) {
  const mesh = useRef<Mesh>(null);
  useFrame(({ clock }) => {
    if (!mesh.current) return;
    mesh.current.rotation.y = clock.elapsedTime * 0.6;
    mesh.current.position.y = 0.2 + (active ? Math.sin(clock.elapsedTime * 3) * 0.12 : 0);
  });
  return (
    <mesh ref={mesh} position={[UPLOAD_X, 0.2, 0]}>
      <octahedronGeometry args={[0.7]} />
      <meshStandardMaterial
        color={CYAN}
        emissive={CYAN}
        emissiveIntensity={active ? 0.6 : 0.15}
        metalness={0.3}
      />
    </mesh>
  );
}

/** The queue: a glass tube with one cube per waiting message, drifting towards the workers. */
function Queue({ count }: { count: number }) {
  const shown = Math.min(count, MAX_MESSAGES);
  const cubes = useRef<InstancedMesh>(null);
  const dummy = useMemo(() => new Object3D(), []);
  useFrame(({ clock }) => {
    const mesh = cubes.current;
    if (!mesh) return;
    for (let i = 0; i < shown; i++) {
      const lane = i % 3;
      const slot = Math.floor(i / 3);
      const drift = (clock.elapsedTime * 0.35) % 0.3;
      dummy.position.set(QUEUE_X - 1.6 + slot * 0.32 + drift, -0.35 + lane * 0.32, 0);
      dummy.rotation.set(0, clock.elapsedTime + i, 0);
      dummy.updateMatrix();
      mesh.setMatrixAt(i, dummy.matrix);
    }
    mesh.count = shown;
    mesh.instanceMatrix.needsUpdate = true;
  });
  return (
    <group>
      <mesh position={[QUEUE_X, 0, 0]}>
        <boxGeometry args={[3.8, 1.2, 1]} />
        <meshStandardMaterial
          color={VIOLET}
          emissive={VIOLET}
          emissiveIntensity={0.15}
          transparent
          opacity={0.18}
        />
      </mesh>
      <instancedMesh ref={cubes} args={[undefined, undefined, MAX_MESSAGES]}>
        <boxGeometry args={[0.22, 0.22, 0.22]} />
        <meshStandardMaterial color={VIOLET} emissive={VIOLET} emissiveIntensity={0.5} />
      </instancedMesh>
    </group>
  );
}

/** Messages on their way from the queue to a worker (received, not yet deleted). */
function InFlight({ count }: { count: number }) {
  const group = useRef<Group>(null);
  useFrame(({ clock }) => {
    group.current?.children.forEach((child, i) => {
      const t = (clock.elapsedTime * 0.5 + i / Math.max(1, count)) % 1;
      const x = QUEUE_X + 2 + t * (WORKERS_X - QUEUE_X - 2.6);
      child.position.set(x, Math.sin(t * Math.PI) * 1.1, 0.6 - (i % 3) * 0.4);
    });
  });
  return (
    <group ref={group}>
      {Array.from({ length: count }, (_, i) => (
        <mesh key={i}>
          <boxGeometry args={[0.2, 0.2, 0.2]} />
          <meshStandardMaterial color={VIOLET} emissive={VIOLET} emissiveIntensity={1} />
        </mesh>
      ))}
    </group>
  );
}

/** One block per running worker pod; busy ones glow and turn. */
function Workers({ workers, busy }: { workers: Flow['workers']; busy: number }) {
  const group = useRef<Group>(null);
  useFrame(({ clock }) => {
    group.current?.children.forEach((child, i) => {
      if (i < busy) child.rotation.y = clock.elapsedTime * 1.6 + i;
    });
  });
  const columns = Math.max(1, Math.ceil(Math.sqrt(workers.length)));
  if (workers.length === 0) {
    // Scaled to zero: an empty slot where workers will appear.
    return (
      <mesh position={[WORKERS_X, 0, 0.4]}>
        <boxGeometry args={[0.6, 0.9, 0.6]} />
        <meshBasicMaterial color={IDLE} wireframe />
      </mesh>
    );
  }
  return (
    <group ref={group}>
      {workers.slice(0, 16).map((worker, i) => {
        const row = Math.floor(i / columns);
        const column = i % columns;
        const spread = (columns - 1) * 0.45;
        return (
          <mesh key={worker.name} position={[WORKERS_X - spread + column * 0.9, 0, -row * 0.9 + 0.4]}>
            <boxGeometry args={[0.6, 0.9, 0.6]} />
            <meshStandardMaterial
              color={i < busy ? GREEN : IDLE}
              emissive={i < busy ? GREEN : IDLE}
              emissiveIntensity={i < busy ? 0.55 : 0.2}
              metalness={0.2}
              roughness={0.4}
            />
          </mesh>
        );
      })}
    </group>
  );
}

/** The stored thumbnails as a pile of tiles; new ones fall onto it. */
function Tiles({ count }: { count: number }) {
  const shown = Math.min(count, MAX_TILES);
  const group = useRef<Group>(null);
  const landedAt = useRef<number[]>([]);
  const previous = useRef(count);
  useFrame(({ clock }) => {
    const now = clock.elapsedTime;
    // The newest few fall in; a larger jump (the scene was off screen meanwhile) is simply placed.
    const arrived = Math.min(3, count - previous.current);
    for (let i = Math.max(0, shown - arrived); i < shown; i++) landedAt.current[i] = now;
    previous.current = count;
    group.current?.children.forEach((child, i) => {
      const restY = -0.7 + Math.floor(i / 3) * 0.09;
      const age = now - (landedAt.current[i] ?? -10);
      // The clock restarts from 0 when the scene resumes after being off screen: a negative age has landed.
      const fall = age >= 0 && age < 0.8 ? (1 - age / 0.8) ** 2 * 3 : 0;
      child.position.set(TILES_X - 0.75 + (i % 3) * 0.75, restY + fall, 0);
    });
  });
  return (
    <group ref={group}>
      {Array.from({ length: shown }, (_, i) => (
        <mesh key={i} rotation={[-Math.PI / 2, 0, 0]}>
          <boxGeometry args={[0.68, 0.4, 0.06]} />
          <meshStandardMaterial color={AMBER} emissive={AMBER} emissiveIntensity={0.25} />
        </mesh>
      ))}
    </group>
  );
}
