/** Values that can cross a stage boundary or live in state: they are stored as JSON. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/**
 * A key as user code sees it (ctx.key, result callbacks, sink records): its key id, the key's
 * text when its bytes are UTF-8, else `~b64:` + base64url of the bytes (docs/KEYS.md).
 */
export type Key = string;

/** JSON values a composite key may hold; see `KeyValue`. */
export type KeyJson = string | number | boolean | null | readonly KeyJson[] | { readonly [field: string]: KeyJson };

/**
 * What `keyBy` may return. Keys are their bytes: strings as UTF-8, numbers, bigints and
 * booleans as their text, bytes as they are, arrays and plain objects as canonical JSON
 * (fields sorted). Anything else sends the record to the dead-letter topic.
 */
export type KeyValue = string | number | bigint | boolean | Uint8Array | readonly KeyJson[] | { readonly [field: string]: KeyJson };

/** What a source knows about the Kafka record an element came from. */
export interface RecordMeta {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** Kafka record timestamp, ms since the epoch. */
  readonly timestamp: number;
  /** The record's key id: its text when the key is UTF-8 (see `Key`); null without a key. */
  readonly key: string | null;
  /** The record's key bytes, exactly as on the topic. */
  readonly keyBytes: Uint8Array | null;
  readonly headers: Readonly<Record<string, string>>;
}

/** A time window `[start, end)`, as Flink's `TimeWindow`. */
export interface TimeWindow {
  readonly start: number;
  readonly end: number;
}

/** Per-stage deployment settings, set on the operator that starts the stage. */
export interface StageSettings {
  /** Lambda memory in MB. @default 512 */
  readonly memoryMb?: number;
  /** Lambda timeout in seconds. @default 60 */
  readonly timeoutSeconds?: number;
  /** Records per invocation, as the MSK event source mapping's BatchSize. @default 100 */
  readonly batchSize?: number;
  /** Seconds the mapping waits to fill a batch. @default 0 */
  readonly batchingWindowSeconds?: number;
  /** Provisioned pollers for event-driven autoscaling. @default none (on-demand) */
  readonly pollers?: { readonly min: number; readonly max: number };
  /** Partitions of the topic that feeds this stage. @default the runtime's default */
  readonly partitions?: number;
}
