/** Values that can cross a stage boundary or live in state: they are stored as JSON. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** A key produced by `keyBy`; numbers are turned into their decimal string. */
export type Key = string;

/** What a source knows about the Kafka record an element came from. */
export interface RecordMeta {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** Kafka record timestamp, ms since the epoch. */
  readonly timestamp: number;
  readonly key: string | null;
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
