import type { TimeDomain } from '../operators/keyed-operator';
import { emptyProgress, fromJson, toJson, type Progress } from '../progress';
import { TimerQueue } from './timer-queue';

/** Every keyed operator's state of one key, by operator id. */
export type KeyOps = Record<string, unknown>;

/** The earliest pending timer of a key's operators in a domain (the executor's operators decide). */
export type NextTimer = (ops: KeyOps, domain: TimeDomain) => number | undefined;

const DOMAINS: readonly TimeDomain[] = ['event', 'processing'];
/** What an entry's progress header adds to the log, roughly: only snapshot timing depends on it. */
const ENTRY_HEADER_ESTIMATE = 256;

/**
 * Everything one keyed stage partition owns, as of commit `seq`: its keys' operator state,
 * the progress (offsets, lane watermarks and fences), and the timers, kept as queues
 * restored with the state (no timer index items). An environment holds it between
 * invocations; a batch changes it in place and the executor drops it if the batch fails.
 */
export class PartitionState {
  seq = 0;
  progress: Progress = emptyProgress();
  readonly keys = new Map<string, KeyOps>();
  /** JSON bytes of each key's state, as last written. */
  private readonly sizes = new Map<string, number>();
  /** Sum of `sizes`: what a snapshot would hold. */
  bytes = 0;
  /** Bytes of the commits since the last snapshot. */
  logBytes = 0;
  /** Commits since the last snapshot. */
  logEntries = 0;
  private readonly next: Record<TimeDomain, Map<string, number>> = { event: new Map(), processing: new Map() };
  private readonly queues: Record<TimeDomain, TimerQueue> = { event: new TimerQueue(), processing: new TimerQueue() };

  constructor(private readonly nextTimer: NextTimer) {}

  /** Sets (or with undefined, deletes) a key's state; `json` is its encoded form when the caller has it. */
  set(key: string, ops: KeyOps | undefined, json?: string): void {
    if (ops === undefined || Object.keys(ops).length === 0) {
      this.keys.delete(key);
      this.bytes -= this.sizes.get(key) ?? 0;
      this.sizes.delete(key);
      for (const d of DOMAINS) this.next[d].delete(key);
      return;
    }
    this.keys.set(key, ops);
    // A batch's key is encoded once, when its commit is (encodeEntry sizes it then).
    if (json !== undefined) this.resize(key, json.length);
    this.refreshTimers(key, ops);
  }

  private resize(key: string, size: number): void {
    this.bytes += size - (this.sizes.get(key) ?? 0);
    this.sizes.set(key, size);
  }

  /** JSON bytes of a key's state (0 when it has none). */
  sizeOf(key: string): number {
    return this.sizes.get(key) ?? 0;
  }

  /** Re-reads a key's earliest timers after its state changed in place. */
  refreshTimers(key: string, ops: KeyOps): void {
    for (const d of DOMAINS) {
      const t = this.nextTimer(ops, d);
      const m = this.next[d];
      if (t === undefined) m.delete(key);
      else if (m.get(key) !== t) {
        m.set(key, t);
        this.queues[d].push(t, key);
      }
    }
  }

  /** The key with the earliest timer at or before `upTo`, and that timer, without removing it. */
  due(domain: TimeDomain, upTo: number): [number, string] | undefined {
    const q = this.queues[domain];
    const live = this.next[domain];
    for (;;) {
      const top = q.peek();
      if (!top || top[0] > upTo) return undefined;
      if (live.get(top[1]) === top[0]) return [top[0], top[1]];
      q.pop();
      q.compact(live);
    }
  }

  /** Applies a decoded commit of another environment (or this one, on restore). */
  apply(entry: DecodedEntry): void {
    this.progress = entry.progress;
    for (const [key, ops, json] of entry.set) this.set(key, ops, json);
    for (const key of entry.deleted) this.set(key, undefined);
    this.seq = entry.seq;
    this.logBytes = entry.logBytes;
    this.logEntries = entry.logEntries;
  }

  /** The commit body of a batch: progress and the changed keys' states. */
  encodeEntry(changed: Iterable<string>): EncodedEntry {
    const lines: string[] = [];
    for (const key of changed) {
      const ops = this.keys.get(key);
      if (ops === undefined) lines.push(JSON.stringify([key]));
      else {
        const line = encodeKeyLine(key, ops);
        this.resize(key, line.length);
        lines.push(line);
      }
    }
    const tail = lines.join('\n');
    // The header carries the log's size since the last snapshot (this entry's changes
    // included), so whichever environment holds the partition next knows when to snapshot.
    const logBytes = this.logBytes + tail.length + ENTRY_HEADER_ESTIMATE;
    const header = toJson({ p: this.progress, lb: logBytes, ln: this.logEntries + 1 });
    return { body: lines.length ? `${header}\n${tail}` : header, lines: lines.length, logBytes };
  }

  /** The entry encodeEntry made is now commit seq + 1: the same log counts as its header carries. */
  committed(entry: EncodedEntry): void {
    this.seq++;
    this.logBytes = entry.logBytes;
    this.logEntries++;
  }

  /** The whole partition: progress and every key, one line each. */
  encodeSnapshot(): string {
    const lines = [toJson({ p: this.progress, lb: 0, ln: 0 })];
    for (const [key, ops] of this.keys) {
      const line = encodeKeyLine(key, ops);
      this.resize(key, line.length);
      lines.push(line);
    }
    return lines.join('\n');
  }
}

export interface EncodedEntry {
  readonly body: string;
  /** Key lines in it (changed or deleted keys). */
  readonly lines: number;
  /** The log's size since the last snapshot with this entry, as its header says. */
  readonly logBytes: number;
}

export interface DecodedEntry {
  readonly seq: number;
  readonly progress: Progress;
  readonly logBytes: number;
  readonly logEntries: number;
  readonly set: ReadonlyArray<readonly [string, KeyOps, string]>;
  readonly deleted: readonly string[];
}

/** Decodes a commit or snapshot body (see encodeEntry / encodeSnapshot). */
export function decodeBody(seq: number, body: string): DecodedEntry {
  const lines = body.split('\n');
  const head = fromJson<{ p: Partial<Progress>; lb?: number; ln?: number }>(lines[0] ?? '{}');
  const set: Array<readonly [string, KeyOps, string]> = [];
  const deleted: string[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    const [key, ops] = fromJson<[string, KeyOps?]>(line);
    if (ops === undefined) deleted.push(key);
    else set.push([key, ops, line]);
  }
  return { seq, progress: { ...emptyProgress(), ...head.p }, logBytes: head.lb ?? 0, logEntries: head.ln ?? 0, set, deleted };
}

function encodeKeyLine(key: string, ops: KeyOps): string {
  return toJson([key, ops]);
}
