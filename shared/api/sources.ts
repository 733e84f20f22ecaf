import { ConfigError } from '../runtime/errors';
import type { SerdeName, SerdeValue } from './serde';
import type { RecordMeta } from './types';

/** Event time of a source: Flink's `WatermarkStrategy.forBoundedOutOfOrderness(...).withIdleness(...)`. */
export interface EventTimeOptions<V> {
  /** How far behind the newest timestamp a record may arrive and still be on time. */
  readonly outOfOrdernessMs: number;
  /** A partition with no records for this long stops holding the watermark back. @default never */
  readonly idleTimeoutMs?: number;
  /** The event time of a record. @default the Kafka record timestamp */
  readonly timestamp?: (value: V, meta: RecordMeta) => number;
}

export type StartingPosition = 'TRIM_HORIZON' | 'LATEST' | { readonly atTimestamp: number };

export interface KafkaSourceOptions<S extends SerdeName, V> {
  /** The Kafka topic to read. */
  readonly topic: string;
  /** How values are decoded. @default 'string' */
  readonly value?: S;
  /** Partitions of the topic (used for planning and locally). @default the runtime's default */
  readonly partitions?: number;
  /** Where a new consumer group starts. @default 'TRIM_HORIZON' */
  readonly startingPosition?: StartingPosition;
  /** Event time and watermarks; without it only processing-time operators may follow. */
  readonly eventTime?: EventTimeOptions<V>;
  /** Hand user functions `{ value, meta }` instead of the bare value. @default false */
  readonly withMetadata?: boolean;
}

/** A planned source: a Kafka topic and how its records become elements. */
export interface SourceSpec<T> {
  readonly kind: 'kafka';
  readonly topic: string;
  readonly serde: SerdeName;
  readonly partitions?: number;
  readonly startingPosition: StartingPosition;
  readonly withMetadata: boolean;
  readonly eventTime?: {
    readonly outOfOrdernessMs: number;
    readonly idleTimeoutMs?: number;
    readonly timestamp?: (value: never, meta: RecordMeta) => number;
  };
  /** Phantom: the element type this source produces. */
  readonly __element?: T;
}

export interface SourceElement<V> {
  readonly value: V;
  readonly meta: RecordMeta;
}

const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

/** Why `topic` is not a name Kafka accepts (its own rule: 1-249 legal characters, not "." or ".."), or undefined. */
export function invalidTopicName(topic: string): string | undefined {
  if (TOPIC_NAME.test(topic) && topic !== '.' && topic !== '..') return undefined;
  return `topic "${topic}" is not a valid Kafka topic name; use 1-249 of [a-zA-Z0-9._-], not "." or ".."`;
}

export function checkTopicName(topic: string, where: string): void {
  const why = invalidTopicName(topic);
  if (why) throw new ConfigError(`${where}: ${why}`);
}

/**
 * A Kafka topic as a source.
 * @example
 * p.source(kafkaSource({ topic: 'lines', value: 'string', eventTime: { outOfOrdernessMs: 2000 } }))
 */
export function kafkaSource<S extends SerdeName = 'string'>(
  options: KafkaSourceOptions<S, SerdeValue<S>> & { readonly withMetadata?: false },
): SourceSpec<SerdeValue<S>>;
export function kafkaSource<S extends SerdeName = 'string'>(
  options: KafkaSourceOptions<S, SerdeValue<S>> & { readonly withMetadata: true },
): SourceSpec<SourceElement<SerdeValue<S>>>;
export function kafkaSource<S extends SerdeName>(options: KafkaSourceOptions<S, SerdeValue<S>>): SourceSpec<unknown> {
  checkTopicName(options.topic, 'kafkaSource');
  const et = options.eventTime;
  if (et) {
    if (!Number.isFinite(et.outOfOrdernessMs) || et.outOfOrdernessMs < 0) {
      throw new ConfigError(`kafkaSource(${options.topic}): eventTime.outOfOrdernessMs must be a number >= 0, got ${et.outOfOrdernessMs}`);
    }
    if (et.idleTimeoutMs !== undefined && !(et.idleTimeoutMs > 0)) {
      throw new ConfigError(`kafkaSource(${options.topic}): eventTime.idleTimeoutMs must be > 0, got ${et.idleTimeoutMs}`);
    }
  }
  if (options.partitions !== undefined && !(Number.isInteger(options.partitions) && options.partitions > 0)) {
    throw new ConfigError(`kafkaSource(${options.topic}): partitions must be a positive integer, got ${options.partitions}`);
  }
  return {
    kind: 'kafka',
    topic: options.topic,
    serde: options.value ?? 'string',
    ...(options.partitions !== undefined ? { partitions: options.partitions } : {}),
    startingPosition: options.startingPosition ?? 'TRIM_HORIZON',
    withMetadata: options.withMetadata ?? false,
    ...(et ? { eventTime: et as SourceSpec<unknown>['eventTime'] } : {}),
  };
}
