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

/** One key's state item as stored: JSON-able, with an optimistic version. */
export interface StoredKey {
  readonly key: string;
  readonly version: number;
  readonly data: string;
}

export interface KeyWrite {
  readonly key: string;
  /** The version read (0 when the key did not exist); the write fails if it changed. */
  readonly expectedVersion: number;
  readonly data: string;
}

/** A timer index entry: key `key` has its earliest timer of `domain` at `time`. */
export interface TimerEntry {
  readonly domain: 'event' | 'processing';
  readonly time: number;
  readonly key: string;
}

/** The progress record written with a keyed batch's state. */
export interface ProgressWrite {
  readonly scope: string;
  readonly data: string;
}

/** Keyed state of one stage partition (scope = pipeline, stage and partition). */
export interface StateStore {
  getMany(scope: string, keys: readonly string[]): Promise<Map<string, StoredKey>>;
  /**
   * Conditional writes, one per key; throws StateConflictError when a version moved.
   * With `progress`, the progress record is written with the last of them: atomically
   * where the store can (a DynamoDB transaction holds up to 100 items), and never before
   * every key write has succeeded.
   */
  commit(scope: string, writes: readonly KeyWrite[], progress?: ProgressWrite): Promise<void>;
  /** Timer index entries with time <= upTo (a key may be listed more than once). */
  dueTimers(scope: string, domain: 'event' | 'processing', upTo: number): Promise<TimerEntry[]>;
  /** Adds index entries; `tag` names the batch, so a retried batch overwrites its own entries. */
  addTimers(scope: string, entries: readonly TimerEntry[], tag: string): Promise<void>;
  /** Drops every index entry with time <= upTo (their timers have fired). */
  clearTimers(scope: string, domain: 'event' | 'processing', upTo: number): Promise<void>;
}

/** Progress of one (stage, input topic, partition). */
export interface ProgressStore {
  get(scope: string): Promise<string | undefined>;
  put(scope: string, data: string): Promise<void>;
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
  | 'timerWrites'
  | 'progressWrites'
  /** Keys written this batch whose state is over LARGE_STATE_BYTES (a hot key nearing DynamoDB's item limit; the store spills it). */
  | 'largeStateKeys';

/**
 * A key's state above this many bytes is reported in the `largeStateKeys` metric: the
 * DynamoDB store spills state over 300 KB into more items (400 KB is DynamoDB's item limit).
 */
export const LARGE_STATE_BYTES = 300_000;

export type { KafkaRecord };
