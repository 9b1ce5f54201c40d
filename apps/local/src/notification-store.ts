/** Bucket notification configurations kept in one JSON file, so they survive a restart like the emulator's state. */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { QueueConfiguration } from './notifications.ts';

export class NotificationStore {
  readonly #file: string;
  #byBucket: Record<string, QueueConfiguration[]>;

  constructor(file: string) {
    this.#file = file;
    this.#byBucket = NotificationStore.#load(file);
  }

  static #load(file: string): Record<string, QueueConfiguration[]> {
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as Record<string, QueueConfiguration[]>;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw new Error(`cannot read ${file}: ${(error as Error).message}`, { cause: error });
    }
  }

  get(bucket: string): QueueConfiguration[] {
    return this.#byBucket[bucket] ?? [];
  }

  set(bucket: string, configurations: QueueConfiguration[]): void {
    if (configurations.length === 0) delete this.#byBucket[bucket];
    else this.#byBucket[bucket] = configurations;
    // Write-then-rename so a crash never leaves a half-written file behind.
    const temporary = `${this.#file}.tmp`;
    writeFileSync(temporary, JSON.stringify(this.#byBucket, null, 2));
    renameSync(temporary, this.#file);
  }
}
