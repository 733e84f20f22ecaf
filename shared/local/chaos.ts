import { InjectedCrash } from '../runtime/errors';
import type { CrashPoint, FaultHook } from '../runtime/executor';
import type { CommitLog, OutRecord, Producer } from '../runtime/ports';

/** mulberry32: a small seeded PRNG, so a chaos run is the same every time for one seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface ChaosStats {
  crashes: Record<string, number>;
  redeliveries: number;
  duplicatedRecords: number;
}

/**
 * Deterministic fault injection for embedded runs: crashes at each point of an invocation
 * (including while a snapshot is written), whole batches delivered again after success,
 * and upstream records written twice. Each batch crashes a bounded number of times, so
 * every run ends.
 */
export class Chaos {
  private readonly rand: () => number;
  private readonly crashesPerBatch = new Map<string, number>();
  readonly stats: ChaosStats = { crashes: {}, redeliveries: 0, duplicatedRecords: 0 };
  private current = '';

  constructor(
    seed: number,
    private readonly rate = 0.15,
    private readonly maxCrashesPerBatch = 3,
  ) {
    this.rand = prng(seed);
  }

  /** Names the batch being invoked, so crash budgets are per batch. */
  begin(batchId: string): void {
    this.current = batchId;
  }

  private maybeCrash(point: string): void {
    const n = this.crashesPerBatch.get(this.current) ?? 0;
    if (n >= this.maxCrashesPerBatch || this.rand() >= this.rate) return;
    this.crashesPerBatch.set(this.current, n + 1);
    this.stats.crashes[point] = (this.stats.crashes[point] ?? 0) + 1;
    throw new InjectedCrash(point);
  }

  readonly hook: FaultHook = (point: CrashPoint) => this.maybeCrash(point);

  /** Whether to deliver a batch that just succeeded once more (a lost offset commit). */
  redeliver(): boolean {
    const yes = this.rand() < this.rate;
    if (yes) this.stats.redeliveries++;
    return yes;
  }

  /** A producer that sometimes writes a batch's records twice (a retried upstream). */
  producer(inner: Producer): Producer {
    return {
      send: async (records: readonly OutRecord[]) => {
        await inner.send(records);
        if (records.length && this.rand() < this.rate) {
          this.stats.duplicatedRecords += records.length;
          await inner.send(records);
        }
      },
    };
  }

  /**
   * A commit log whose snapshot writes sometimes crash before they take effect: what a crash
   * between the DynamoDB log's parts and its head leaves, the old snapshot and the log in force.
   */
  commitLog(inner: CommitLog): CommitLog {
    return {
      read: (scope, after) => inner.read(scope, after),
      append: (scope, seq, body) => inner.append(scope, seq, body),
      snapshot: async (scope, seq, body) => {
        this.maybeCrash('mid-snapshot');
        await inner.snapshot(scope, seq, body);
      },
    };
  }
}
