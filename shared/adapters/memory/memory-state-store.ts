import { StateConflictError } from '../../runtime/errors';
import type { KeyWrite, ProgressStore, StateStore, StoredKey, TimerEntry } from '../../runtime/ports';

/** Keyed state and timer index in memory, with DynamoDB's conditional-write semantics. */
export class MemoryStateStore implements StateStore {
  private readonly items = new Map<string, StoredKey>();
  private readonly timers = new Map<string, Map<string, TimerEntry>>();
  /** Counts, for write-amplification reports. */
  readonly stats = { reads: 0, writes: 0, timerWrites: 0 };

  async getMany(scope: string, keys: readonly string[]): Promise<Map<string, StoredKey>> {
    this.stats.reads += keys.length;
    const out = new Map<string, StoredKey>();
    for (const k of keys) {
      const item = this.items.get(`${scope}#${k}`);
      if (item) out.set(k, item);
    }
    return out;
  }

  async putMany(scope: string, writes: readonly KeyWrite[]): Promise<void> {
    for (const w of writes) {
      const id = `${scope}#${w.key}`;
      const current = this.items.get(id)?.version ?? 0;
      if (current !== w.expectedVersion) {
        throw new StateConflictError(`key "${w.key}" in ${scope} is at version ${current}, expected ${w.expectedVersion}: another invocation wrote it; the batch will be retried`);
      }
      this.items.set(id, { key: w.key, version: current + 1, data: w.data });
      this.stats.writes++;
    }
  }

  async dueTimers(scope: string, domain: 'event' | 'processing', upTo: number): Promise<TimerEntry[]> {
    return [...(this.timers.get(scope)?.values() ?? [])].filter((t) => t.domain === domain && t.time <= upTo);
  }

  async addTimers(scope: string, entries: readonly TimerEntry[]): Promise<void> {
    const m = this.timers.get(scope) ?? new Map<string, TimerEntry>();
    this.timers.set(scope, m);
    for (const e of entries) m.set(timerId(e), e);
    this.stats.timerWrites += entries.length;
  }

  async removeTimers(scope: string, entries: readonly TimerEntry[]): Promise<void> {
    const m = this.timers.get(scope);
    for (const e of entries) m?.delete(timerId(e));
    this.stats.timerWrites += entries.length;
  }

  /** Every stored key of a scope prefix, for tests and the local view. */
  dump(prefix = ''): StoredKey[] {
    return [...this.items.entries()].filter(([id]) => id.startsWith(prefix)).map(([, v]) => v);
  }
}

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
