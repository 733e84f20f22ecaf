import { StateConflictError } from '../../runtime/errors';
import type { KeyWrite, ProgressStore, ProgressWrite, StateStore, StoredKey, TimerEntry } from '../../runtime/ports';

/** Keyed state and timer index in memory, with DynamoDB's conditional-write semantics. */
export class MemoryStateStore implements StateStore {
  private readonly items = new Map<string, StoredKey>();
  private readonly timers = new Map<string, Map<string, TimerEntry>>();
  /** Counts, for write-amplification reports: key writes, and requests as DynamoDB would make them. */
  readonly stats = { reads: 0, writes: 0, timerWrites: 0, writeRequests: 0 };

  constructor(private readonly progress: ProgressStore = new MemoryProgressStore()) {}

  async getMany(scope: string, keys: readonly string[]): Promise<Map<string, StoredKey>> {
    this.stats.reads += keys.length;
    const out = new Map<string, StoredKey>();
    for (const k of keys) {
      const item = this.items.get(`${scope}#${k}`);
      if (item) out.set(k, item);
    }
    return out;
  }

  /** All or nothing, as one DynamoDB transaction would be. */
  async commit(scope: string, writes: readonly KeyWrite[], progress?: ProgressWrite): Promise<void> {
    for (const w of writes) {
      const current = this.items.get(`${scope}#${w.key}`)?.version ?? 0;
      if (current !== w.expectedVersion) {
        throw new StateConflictError(`key "${w.key}" in ${scope} is at version ${current}, expected ${w.expectedVersion}: another invocation wrote it; the batch will be retried`);
      }
    }
    for (const w of writes) this.items.set(`${scope}#${w.key}`, { key: w.key, version: w.expectedVersion + 1, data: w.data });
    this.stats.writes += writes.length;
    this.stats.writeRequests += Math.ceil((writes.length + (progress ? 1 : 0)) / TRANSACTION_ITEMS);
    if (progress) await this.progress.put(progress.scope, progress.data);
  }

  async dueTimers(scope: string, domain: 'event' | 'processing', upTo: number): Promise<TimerEntry[]> {
    return [...(this.timers.get(scope)?.values() ?? [])].filter((t) => t.domain === domain && t.time <= upTo);
  }

  async addTimers(scope: string, entries: readonly TimerEntry[], _tag: string): Promise<void> {
    const m = this.timers.get(scope) ?? new Map<string, TimerEntry>();
    this.timers.set(scope, m);
    for (const e of entries) m.set(timerId(e), e);
    this.stats.timerWrites += new Set(entries.map((e) => `${e.domain}#${e.time}`)).size;
  }

  async clearTimers(scope: string, domain: 'event' | 'processing', upTo: number): Promise<void> {
    const m = this.timers.get(scope);
    if (!m) return;
    const buckets = new Set<number>();
    for (const [id, e] of m) {
      if (e.domain === domain && e.time <= upTo) {
        m.delete(id);
        buckets.add(e.time);
      }
    }
    this.stats.timerWrites += Math.ceil(buckets.size / 25);
  }

  /** Every stored key of a scope prefix, for tests and the local view. */
  dump(prefix = ''): StoredKey[] {
    return [...this.items.entries()].filter(([id]) => id.startsWith(prefix)).map(([, v]) => v);
  }
}

/** Items in one DynamoDB transaction. */
export const TRANSACTION_ITEMS = 100;

function timerId(e: TimerEntry): string {
  return `${e.domain}#${e.time}#${e.key}`;
}

export class MemoryProgressStore implements ProgressStore {
  private readonly items = new Map<string, string>();
  writes = 0;

  async get(scope: string): Promise<string | undefined> {
    return this.items.get(scope);
  }

  async put(scope: string, data: string): Promise<void> {
    this.items.set(scope, data);
    this.writes++;
  }
}
