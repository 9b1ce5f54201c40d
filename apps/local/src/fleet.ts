/**
 * The local worker fleet: polls the work queue like KEDA's aws-sqs-queue scaler and adds or removes worker
 * processes to match the scaler's decision. Scale-in stops the newest (or not yet ready) workers first with
 * SIGTERM, so they finish or release their job.
 */
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Log } from './log.ts';
import { ManagedProcess, type ProcessSpec } from './managed-process.ts';
import { podName, templateHash } from './pod-names.ts';
import type { PodRegistry } from './pods.ts';
import { decideReplicas, initialScalerState, type QueueMetric, type ScalerSettings } from './scaler.ts';

export interface FleetOptions {
  sqs: SQSClient;
  queueUrl: string;
  settings: ScalerSettings;
  pollMs: number;
  /** The worker process; WORKER_NAME is added per worker. */
  worker: Omit<ProcessSpec, 'app' | 'container'>;
  registry: PodRegistry;
  log: Log;
}

export const WORKER_APP = 'thumbnail-worker';

export class WorkerFleet {
  readonly #options: FleetOptions;
  readonly #hash: string;
  readonly #workers: ManagedProcess[] = [];
  #state = initialScalerState;
  #timer?: NodeJS.Timeout;
  #stopped = false;
  #lastMetric: QueueMetric = { visible: 0, inFlight: 0 };

  constructor(options: FleetOptions) {
    this.#options = options;
    this.#hash = templateHash({ args: options.worker.args, env: options.worker.env });
  }

  /** Workers that are not being stopped. */
  get size(): number {
    return this.#workers.filter((w) => !w.terminating).length;
  }

  /** Every worker process, including those being stopped. */
  get workers(): readonly ManagedProcess[] {
    return this.#workers;
  }

  get lastMetric(): QueueMetric {
    return this.#lastMetric;
  }

  start(): void {
    // An outage is reported when it starts and when it ends, not on every polling interval.
    let failingSince: number | undefined;
    const tick = async (): Promise<void> => {
      try {
        await this.reconcile();
        if (failingSince !== undefined) {
          const seconds = ((Date.now() - failingSince) / 1000).toFixed(0);
          this.#options.log(
            'info',
            `fleet: the work queue answers again (after ${seconds} s); scaling resumes`,
          );
        }
        failingSince = undefined;
      } catch (error) {
        if (failingSince === undefined) {
          this.#options.log(
            'warn',
            `fleet: cannot read the work queue: ${(error as Error).message}; keeping ${this.size} worker(s) until it answers`,
          );
        }
        failingSince ??= Date.now();
      }
      if (!this.#stopped) this.#timer = setTimeout(tick, this.#options.pollMs);
    };
    void tick();
  }

  async #metric(): Promise<QueueMetric> {
    const result = await this.#options.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: this.#options.queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return {
      visible: Number(result.Attributes?.ApproximateNumberOfMessages ?? 0),
      inFlight: Number(result.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
    };
  }

  /** One polling interval: read the queue, decide, scale. */
  async reconcile(): Promise<void> {
    const metric = await this.#metric();
    if (this.#stopped) return;
    this.#lastMetric = metric;
    const current = this.size;
    const decision = decideReplicas(metric, current, this.#state, this.#options.settings, Date.now());
    this.#state = decision.state;
    if (decision.replicas === current) return;
    this.#options.log(
      'info',
      `fleet: ${current} → ${decision.replicas} worker(s) (queue: ${metric.visible} visible, ${metric.inFlight} in flight)`,
    );
    for (let i = current; i < decision.replicas; i++) this.#add();
    if (decision.replicas < current) {
      const candidates = this.#workers
        .filter((w) => !w.terminating)
        .reverse()
        .sort((a, b) => Number(a.ready) - Number(b.ready))
        .slice(0, current - decision.replicas);
      for (const worker of candidates) void this.#remove(worker);
    }
  }

  #add(): void {
    const { worker, registry, log } = this.#options;
    const name = podName(WORKER_APP, this.#hash);
    const pod = new ManagedProcess(
      name,
      { ...worker, app: WORKER_APP, container: 'worker', env: { ...worker.env, WORKER_NAME: name } },
      registry,
      log,
      { 'pod-template-hash': this.#hash },
    );
    this.#workers.push(pod);
    pod.start();
  }

  async #remove(worker: ManagedProcess): Promise<void> {
    await worker.stop();
    this.#workers.splice(this.#workers.indexOf(worker), 1);
  }

  /** Stops polling and every worker (each finishes or releases its job). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await Promise.all([...this.#workers].map((w) => this.#remove(w)));
  }
}
