import { StateConflictError } from '../../runtime/errors';
import type { CommitLog, LogRead, LogRecord, ProgressStore, StoredProgress } from '../../runtime/ports';

interface Partition {
  readonly entries: Map<number, string>;
  snapshot?: LogRecord;
}

/**
 * Commit logs in memory, with the DynamoDB log's semantics: an entry is appended only if
 * its seq is free, and a read after a point the latest snapshot already covers starts from
 * that snapshot. Covered entries are kept (this serves bounded runs), so a stale append
 * still finds its seq taken, as the DynamoDB log's recycled slots ensure.
 */
export class MemoryCommitLog implements CommitLog {
  private readonly parts = new Map<string, Partition>();
  /** What the same run would write to DynamoDB, in requests (the embedded run's report). */
  readonly stats = { appends: 0, snapshots: 0 };

  async read(scope: string, after?: number): Promise<LogRead> {
    const p = this.parts.get(scope);
    if (!p) return { entries: [] };
    const snap = p.snapshot;
    const from = after !== undefined && (!snap || after >= snap.seq) ? after : snap?.seq ?? 0;
    const entries: LogRecord[] = [];
    for (let seq = from + 1; p.entries.has(seq); seq++) entries.push({ seq, body: p.entries.get(seq) as string });
    return from === after ? { entries } : { ...(snap ? { snapshot: snap } : {}), entries };
  }

  async append(scope: string, seq: number, body: string): Promise<void> {
    const p = this.partition(scope);
    if (p.entries.has(seq)) throw new StateConflictError(`partition ${scope}: commit ${seq} exists (another invocation committed first); the batch will be retried`);
    if (seq > 1 && !p.entries.has(seq - 1) && (p.snapshot?.seq ?? 0) < seq - 1) {
      throw new StateConflictError(`partition ${scope}: commit ${seq} does not follow the log (no commit ${seq - 1})`);
    }
    p.entries.set(seq, body);
    this.stats.appends++;
  }

  async snapshot(scope: string, seq: number, body: string): Promise<void> {
    const p = this.partition(scope);
    if ((p.snapshot?.seq ?? -1) >= seq) return;
    p.snapshot = { seq, body };
    this.stats.snapshots++;
  }

  private partition(scope: string): Partition {
    let p = this.parts.get(scope);
    if (!p) this.parts.set(scope, (p = { entries: new Map() }));
    return p;
  }
}

/** Progress in memory, with the DynamoDB store's conditional put. */
export class MemoryProgressStore implements ProgressStore {
  private readonly items = new Map<string, StoredProgress>();
  writes = 0;

  async get(scope: string): Promise<StoredProgress | undefined> {
    return this.items.get(scope);
  }

  async put(scope: string, seq: number, data: string): Promise<void> {
    const current = this.items.get(scope)?.seq ?? 0;
    if (current !== seq - 1) throw new StateConflictError(`progress of ${scope} is at ${current}, not ${seq - 1}: another invocation wrote it; the batch will be retried`);
    this.items.set(scope, { seq, data });
    this.writes++;
  }
}
