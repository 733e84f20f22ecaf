/**
 * What the `weir dev --ui` page shows, as one JSON document pushed over Server-Sent Events.
 * Times are epoch milliseconds; watermarks that are not finite are the strings '-inf' and
 * '+inf' (JSON has no infinities).
 */
export type Watermark = number | '-inf' | '+inf';

export interface StageFigures {
  readonly id: string;
  readonly keyed: boolean;
  readonly inputTopics: readonly string[];
  /** Data records the stage's invocations took in (watermark markers not counted). */
  readonly recordsIn: number;
  /** Records the stage wrote to Kafka, in-band watermark markers included. */
  readonly recordsOut: number;
  /** Per second over the last `rateWindowMs`. */
  readonly inPerSec: number;
  readonly outPerSec: number;
  /** Batch invocations, retries included. */
  readonly invocations: number;
  /** Ticker invocations (idle partitions, processing time). */
  readonly controlInvocations: number;
  /** Failed invocations (batch or control); each is retried. */
  readonly errors: number;
  readonly lastError?: string;
  /** Duration of batch invocations: the last one and the mean over the rate window (ms). */
  readonly lastBatchMs?: number;
  readonly meanBatchMs?: number;
  readonly lateRecords: number;
  readonly dlqRecords: number;
  readonly windowsFired: number;
}

export interface PartitionFigures {
  readonly stage: string;
  readonly topic: string;
  readonly partition: number;
  /** Offset after the last record in the topic partition. */
  readonly endOffset: number;
  /** Offset the stage's consumer group has committed (-1: nothing yet). */
  readonly committed: number;
  /** Records not yet processed: end offset minus committed offset (end offset while nothing is committed). */
  readonly lag: number;
  /** The watermark the partition last sent downstream (from its progress record). */
  readonly watermark: Watermark;
  readonly idle: boolean;
}

export interface NextWindow {
  readonly stage: string;
  readonly partition: number;
  readonly operator: string;
  readonly key: string;
  readonly start: number;
  readonly end: number;
  /** The window fires when the partition's watermark reaches this (end - 1). */
  readonly firesAt: number;
}

export interface WindowFigures {
  /** Time windows held in state that have not fired yet, and count windows with elements. */
  readonly open: number;
  /** Keys with state. */
  readonly keys: number;
  /** The open event-time window that fires first. */
  readonly next?: NextWindow;
  /** The state table holds more than one read covers; figures are a lower bound. */
  readonly truncated: boolean;
}

export interface TopicCount {
  readonly topic: string;
  /** Records in the topic (sum of end offsets; a retried batch may have written a copy twice). */
  readonly records: number;
}

export interface WindowResult {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
  readonly key: string | null;
  readonly value: string | null;
}

export interface UiSnapshot {
  readonly pipeline: string;
  /** When this snapshot was taken. */
  readonly at: number;
  readonly startedAt: number;
  readonly stages: readonly StageFigures[];
  readonly partitions: readonly PartitionFigures[];
  readonly windows: WindowFigures;
  readonly dlq: TopicCount;
  readonly late: readonly TopicCount[];
  readonly sinks: readonly TopicCount[];
  /** The latest records of the sink topics, newest first. */
  readonly results: readonly WindowResult[];
  /** Why some figures are missing (a service not answering), with what to do. */
  readonly problems: readonly string[];
}

export function toWatermark(wm: number): Watermark {
  return wm === Infinity ? '+inf' : wm === -Infinity || Number.isNaN(wm) ? '-inf' : wm;
}
