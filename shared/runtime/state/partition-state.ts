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
  /** Per key with state: its JSON bytes as last encoded and its earliest timer per domain. */
  private readonly meta = new Map<string, KeyMeta>();
  /** Sum of the keys' sizes: what a snapshot would hold. */
  bytes = 0;
  /** Bytes of the commits since the last snapshot. */
  logBytes = 0;
  /** Commits since the last snapshot. */
  logEntries = 0;
  private readonly queues: Record<TimeDomain, TimerQueue> = { event: new TimerQueue(), processing: new TimerQueue() };

  constructor(private readonly nextTimer: NextTimer) {}

  /** Sets (or with no state, deletes) a key's state; `size` is its encoded length when the caller knows it. */
  set(key: string, ops: KeyOps | undefined, size?: number): void {
    if (ops === undefined || isEmpty(ops)) {
      this.keys.delete(key);
      const m = this.meta.get(key);
      if (m) {
        this.bytes -= m.size;
        this.meta.delete(key);
      }
      return;
    }
    this.keys.set(key, ops);
    let m = this.meta.get(key);
    if (!m) this.meta.set(key, (m = { size: 0, event: undefined, processing: undefined }));
    // A batch's key is encoded once, when its commit is (encodeEntry sizes it then).
    if (size !== undefined) this.resize(m, size);
    for (const d of DOMAINS) {
      const t = this.nextTimer(ops, d);
      if (t !== undefined && m[d] !== t) this.queues[d].push(t, key);
      m[d] = t;
    }
  }

  private resize(m: KeyMeta, size: number): void {
    this.bytes += size - m.size;
    m.size = size;
  }

  /** JSON bytes of a key's state (0 when it has none). */
  sizeOf(key: string): number {
    return this.meta.get(key)?.size ?? 0;
  }

  /** The key with the earliest timer at or before `upTo`, and that timer, without removing it. */
  due(domain: TimeDomain, upTo: number): [number, string] | undefined {
    const q = this.queues[domain];
    for (;;) {
      const top = q.peek();
      if (!top || top[0] > upTo) return undefined;
      if (this.meta.get(top[1])?.[domain] === top[0]) return [top[0], top[1]];
      q.pop();
      q.compact(this.meta.size, () => this.liveTimers(domain));
    }
  }

  private *liveTimers(domain: TimeDomain): Generator<[string, number]> {
    for (const [key, m] of this.meta) {
      const t = m[domain];
      if (t !== undefined) yield [key, t];
    }
  }

  /** Applies a decoded commit of another environment (or this one, on restore). */
  apply(entry: DecodedEntry): void {
    this.progress = entry.progress;
    for (const [key, ops, size] of entry.set) this.set(key, ops, size);
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
        this.resizeKey(key, line.length);
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
      this.resizeKey(key, line.length);
      lines.push(line);
    }
    return lines.join('\n');
  }

  private resizeKey(key: string, size: number): void {
    const m = this.meta.get(key);
    if (m) this.resize(m, size);
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
  /** Keys set, with the length of their encoded line. */
  readonly set: ReadonlyArray<readonly [string, KeyOps, number]>;
  readonly deleted: readonly string[];
}

/** Decodes a commit or snapshot body (see encodeEntry / encodeSnapshot). */
export function decodeBody(seq: number, body: string): DecodedEntry {
  const lines = body.split('\n');
  const head = fromJson<{ p: Partial<Progress>; lb?: number; ln?: number }>(lines[0] ?? '{}');
  const set: Array<readonly [string, KeyOps, number]> = [];
  const deleted: string[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    const [key, ops] = fromJson<[string, KeyOps?]>(line);
    if (ops === undefined) deleted.push(key);
    else set.push([key, ops, line.length]);
  }
  return { seq, progress: { ...emptyProgress(), ...head.p }, logBytes: head.lb ?? 0, logEntries: head.ln ?? 0, set, deleted };
}

interface KeyMeta {
  size: number;
  event: number | undefined;
  processing: number | undefined;
}

function isEmpty(ops: KeyOps): boolean {
  for (const _ in ops) return false;
  return true;
}

function encodeKeyLine(key: string, ops: KeyOps): string {
  return toJson([key, ops]);
}
