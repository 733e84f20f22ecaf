import type { KafkaRecord } from './msk-event';

/**
 * The ports of the stage executor. The executor is pure: it reaches Kafka, DynamoDB and
 * the clock only through these. Adapters live in shared/adapters.
 */

/** A record to produce; `partition` is chosen by the executor (murmur2 or forward). */
export interface OutRecord {
  readonly topic: string;
  readonly partition: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly timestamp: number;
  readonly headers: Readonly<Record<string, string>>;
}

/** Produces records; resolves once Kafka acknowledged them all (acks=all), order kept per partition. */
export interface Producer {
  send(records: readonly OutRecord[]): Promise<void>;
}

/** A row for a DynamoDB or function sink; `id` is the deterministic weir-id. */
export interface SinkRow {
  readonly sink: string;
  readonly id: string;
  readonly key: string | null;
  readonly value: unknown;
  readonly timestamp: number;
  /** A DynamoDB sink's own item (its `item` function's result, with `weirId`), when it has one. */
  readonly item?: Readonly<Record<string, unknown>>;
}

/** Writes non-Kafka sinks (DynamoDB tables, custom functions); idempotent by `id` where it can be. */
export interface SinkWriter {
  write(rows: readonly SinkRow[]): Promise<void>;
}

/** One commit (or snapshot) of a stage partition as the store holds it: an opaque body. */
export interface LogRecord {
  readonly seq: number;
  readonly body: string;
}

/** What a partition's log holds after a point: a snapshot to start from (when needed) and the commits after it. */
export interface LogRead {
  /** Present when the read started from nothing, or the entries after `after` were already folded into it. */
  readonly snapshot?: LogRecord;
  /** Contiguous commits after the snapshot (or after `after`), in seq order. */
  readonly entries: readonly LogRecord[];
}

/**
 * The commit log of one keyed stage partition (DESIGN.md section 5). A batch's state
 * changes, offsets, watermarks and fences are one entry, appended at seq n+1 only if no
 * entry n+1 exists: that put is the batch's commit point, so a stale or concurrent
 * invocation cannot commit. Snapshots bound the log.
 */
export interface CommitLog {
  /**
   * The entries after `after` when the log still holds them all; otherwise (or without
   * `after`) the latest snapshot and every entry after it.
   */
  read(scope: string, after?: number): Promise<LogRead>;
  /** Appends entry `seq`; throws StateConflictError when it exists (another invocation committed first). */
  append(scope: string, seq: number, body: string): Promise<void>;
  /** Stores the whole partition state as of `seq`, then retires the entries it covers. */
  snapshot(scope: string, seq: number, body: string): Promise<void>;
}

/** Progress of a stateless or source stage partition, with the seq it was committed at. */
export interface StoredProgress {
  readonly seq: number;
  readonly data: string;
}

/** Progress of one (stage, input topic, partition) of a stage without keyed state. */
export interface ProgressStore {
  get(scope: string): Promise<StoredProgress | undefined>;
  /** Writes progress `seq` only if the stored one is `seq - 1` (absent for seq 1); throws StateConflictError otherwise. */
  put(scope: string, seq: number, data: string): Promise<void>;
}

export interface Clock {
  now(): number;
}

/** Counters an executor reports; adapters map them to metrics. */
export interface Metrics {
  count(name: MetricName, value?: number): void;
}
export type MetricName =
  | 'recordsIn'
  | 'recordsOut'
  | 'duplicatesSkipped'
  | 'batchesSkipped'
  | 'lateRecords'
  | 'dlqRecords'
  | 'windowsFired'
  | 'stateReads'
  | 'stateWrites'
  | 'progressWrites'
  /** Batches whose partition state this environment already held at the latest commit. */
  | 'cacheHits'
  /** Batches that had to read missed commits (a stale cache) or restore the partition (a cold one). */
  | 'cacheMisses'
  | 'restores'
  | 'snapshots'
  /** Bytes of the partitions' state (JSON) after the batch: watch it before the cache limit is reached. */
  | 'stateBytes'
  /** Records whose firing (a window result, onTimer) threw: sent to the DLQ, the key goes on. */
  | 'firingErrors'
  /** Keys written this batch whose state is over LARGE_STATE_BYTES (a hot key: its commits spill into part items). */
  | 'largeStateKeys';

/**
 * A key's state above this many bytes is reported in the `largeStateKeys` metric: every
 * commit that changes it carries it whole (the DynamoDB log spills commits over 350 KB
 * into part items; 400 KB is DynamoDB's item limit).
 */
export const LARGE_STATE_BYTES = 300_000;

export type { KafkaRecord };
