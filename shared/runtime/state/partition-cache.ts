import { PartitionTooLargeError, StateConflictError } from '../errors';
import type { CommitLog, MetricName } from '../ports';
import { decodeBody, PartitionState, type NextTimer } from './partition-state';

/**
 * The keyed partitions this environment holds between invocations. Lambda routes a
 * partition's next batch to any environment, so each load reads the commits made since
 * the held one (usually none or a few small items), or restores from the latest snapshot
 * when it holds nothing or fell behind what the log keeps. The commit that follows is
 * conditional, so a read that raced another environment's commit is caught there.
 */
export class PartitionCache {
  /** Map order is recency: the first entry is the least recently used. */
  private readonly held = new Map<string, PartitionState>();

  constructor(
    private readonly log: CommitLog,
    private readonly nextTimer: NextTimer,
    /** JSON bytes of state this environment may hold, over all partitions. */
    private readonly limitBytes: number,
    private readonly count: (m: MetricName, n?: number) => void,
  ) {}

  async load(scope: string): Promise<PartitionState> {
    const held = this.held.get(scope);
    this.held.delete(scope);
    const read = await this.log.read(scope, held?.seq);
    let ps = held;
    if (!ps || read.snapshot) {
      ps = new PartitionState(this.nextTimer);
      if (read.snapshot) ps.apply(decodeBody(read.snapshot.seq, read.snapshot.body));
      this.count('restores');
    }
    this.count(held && !read.snapshot && read.entries.length === 0 ? 'cacheHits' : 'cacheMisses');
    for (const e of read.entries) {
      if (e.seq !== ps.seq + 1) throw new StateConflictError(`partition ${scope}: commit ${e.seq} follows ${ps.seq} in the log read; the batch will be retried`);
      ps.apply(decodeBody(e.seq, e.body));
    }
    this.held.set(scope, ps);
    this.fit(scope, ps);
    return ps;
  }

  /** Forgets a partition whose batch failed: its in-place changes were not committed. */
  evict(scope: string): void {
    this.held.delete(scope);
  }

  /** Drops the least recently used partitions until the held state fits; fails when one partition alone does not. */
  private fit(scope: string, ps: PartitionState): void {
    if (ps.bytes > this.limitBytes) {
      this.held.delete(scope);
      throw new PartitionTooLargeError(scope, ps.bytes, this.limitBytes);
    }
    let total = 0;
    for (const p of this.held.values()) total += p.bytes;
    for (const [other, p] of this.held) {
      if (total <= this.limitBytes) break;
      if (other === scope) continue;
      this.held.delete(other);
      total -= p.bytes;
    }
  }
}
