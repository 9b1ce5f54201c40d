/**
 * The pod-like records of the local processes, versioned the way the Kubernetes API versions objects:
 * every change bumps a global resourceVersion, and the recent changes are kept so a watch can resume
 * from a version it has seen.
 */
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';

export type ContainerState =
  | { waiting: { reason: string; message?: string } }
  | { running: { startedAt: string } }
  | {
      terminated: {
        exitCode: number;
        reason: string;
        startedAt?: string;
        finishedAt: string;
        signal?: number;
      };
    };

export interface PodRecord {
  name: string;
  uid: string;
  labels: Record<string, string>;
  createdAt: string;
  deletionTimestamp?: string;
  phase: PodPhase;
  startedAt?: string;
  container: { name: string; ready: boolean; restarts: number; state: ContainerState };
  resourceVersion: number;
}

export interface PodUsage {
  cpuMillicores: number;
  memoryBytes: number;
  time: string;
}

export type WatchType = 'ADDED' | 'MODIFIED' | 'DELETED';
export interface PodChange {
  type: WatchType;
  pod: PodRecord;
}

const HISTORY = 2000;

export class PodRegistry extends EventEmitter<{ change: [PodChange] }> {
  readonly #pods = new Map<string, PodRecord>();
  readonly #usage = new Map<string, PodUsage>();
  readonly #history: PodChange[] = [];
  #version = 1;

  get resourceVersion(): number {
    return this.#version;
  }

  list(): PodRecord[] {
    return [...this.#pods.values()];
  }

  get(name: string): PodRecord | undefined {
    return this.#pods.get(name);
  }

  usage(name: string): PodUsage | undefined {
    return this.#usage.get(name);
  }

  #record(type: WatchType, pod: PodRecord): void {
    const change = { type, pod };
    this.#history.push(change);
    if (this.#history.length > HISTORY) this.#history.shift();
    this.emit('change', change);
  }

  add(pod: Omit<PodRecord, 'uid' | 'resourceVersion' | 'createdAt'>): PodRecord {
    const record: PodRecord = {
      ...pod,
      uid: randomUUID(),
      createdAt: new Date().toISOString(),
      resourceVersion: ++this.#version,
    };
    this.#pods.set(record.name, record);
    this.#record('ADDED', record);
    return record;
  }

  update(name: string, change: (pod: PodRecord) => PodRecord): void {
    const pod = this.#pods.get(name);
    if (!pod) return;
    const updated = { ...change(pod), resourceVersion: ++this.#version };
    this.#pods.set(name, updated);
    this.#record('MODIFIED', updated);
  }

  remove(name: string): void {
    const pod = this.#pods.get(name);
    if (!pod) return;
    this.#pods.delete(name);
    this.#usage.delete(name);
    this.#record('DELETED', { ...pod, resourceVersion: ++this.#version });
  }

  /** Usage is served by the metrics API and, as in Kubernetes, does not change the pod's version. */
  setUsage(name: string, usage: PodUsage): void {
    if (this.#pods.has(name)) this.#usage.set(name, usage);
  }

  /** Changes after `version`, or undefined when they are no longer all known (a watch must relist: 410 Gone). */
  changesSince(version: number): PodChange[] | undefined {
    if (version >= this.#version) return [];
    const first = this.#history[0];
    if (!first || first.pod.resourceVersion > version + 1) return undefined;
    return this.#history.filter((c) => c.pod.resourceVersion > version);
  }
}
