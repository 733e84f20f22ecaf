import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../runtime/errors';
import type { PlacedRecord } from './input-file';

/**
 * The processing time of a bounded local run, as the embedded runtime defines it: the
 * largest timestamp of the source records delivered so far, a round of batches (one per
 * source partition) at a time, moved before the round is delivered. The stage bundles read
 * it from a file (functions/clock.ts), rewritten between invocations.
 */
export class ReplayClock {
  readonly file: string;
  private readonly dir: string;
  private now = Number.NEGATIVE_INFINITY;
  /** Source record timestamps by `topic/partition`, in offset order (the order they were produced). */
  private readonly timestamps = new Map<string, number[]>();

  constructor(placed: readonly PlacedRecord[]) {
    for (const r of placed) {
      const id = `${r.topic}/${r.partition}`;
      let list = this.timestamps.get(id);
      if (!list) this.timestamps.set(id, (list = []));
      list.push(r.timestamp);
    }
    this.dir = mkdtempSync(join(tmpdir(), 'weir-clock-'));
    this.file = join(this.dir, 'now');
    this.write();
  }

  /**
   * Before a round: the clock takes in the batch each partition will deliver next, records
   * `[committed, committed + batchSize)` below its end offset. The end offset must be the
   * number of records produced, or offsets would not map to the produced timestamps.
   */
  advance(round: ReadonlyArray<{ topic: string; partition: number; committed: number; end: number }>, batchSize: number): void {
    for (const tp of round) {
      const list = this.timestamps.get(`${tp.topic}/${tp.partition}`) ?? [];
      if (list.length !== tp.end) {
        throw new ConfigError(`source ${tp.topic}/${tp.partition} holds ${tp.end} records but the run produced ${list.length}; its processing time cannot be replayed (was the topic written by someone else?)`);
      }
      for (let o = tp.committed; o < Math.min(tp.committed + batchSize, tp.end); o++) this.now = Math.max(this.now, list[o] as number);
    }
    this.write();
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private write(): void {
    writeFileSync(this.file, String(this.now));
  }
}
