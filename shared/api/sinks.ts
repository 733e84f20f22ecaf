import { ConfigError } from '../runtime/errors';
import type { SerdeName } from './serde';
import { checkTopicName } from './sources';

/** A record handed to a custom sink, with its deterministic id for deduplication. */
export interface SinkRecord<T> {
  readonly id: string;
  /** The current key's id (docs/KEYS.md): its text when UTF-8, else `~b64:` + base64url. */
  readonly key: string | null;
  readonly value: T;
  readonly timestamp: number;
}

export interface KafkaSinkSpec<T> {
  readonly kind: 'kafka';
  readonly topic: string;
  readonly serde: SerdeName;
  readonly partitions?: number;
  /**
   * Kafka key of each record: a string is a key id (its UTF-8 text unless `~b64:...`), bytes are written as they are.
   * @default the current key's bytes (the source record's key in a source stage)
   */
  readonly key?: (value: T) => string | Uint8Array | null;
}

export interface DynamoSinkSpec<T> {
  readonly kind: 'dynamodb';
  readonly table: string;
  /** The item to put; Weir adds `weirId`. @default `{ id: weir-id, value }` */
  readonly item?: (value: T, id: string) => Record<string, unknown>;
}

export interface FunctionSinkSpec<T> {
  readonly kind: 'function';
  readonly name: string;
  /** Called with each batch's records before the batch is acknowledged; at least once, ids repeat on retry. */
  readonly write: (records: ReadonlyArray<SinkRecord<T>>) => Promise<void>;
}

export type SinkSpec<T> = KafkaSinkSpec<T> | DynamoSinkSpec<T> | FunctionSinkSpec<T>;

/**
 * A Kafka topic as a sink; every record carries a deterministic `weir-id` header.
 * @example
 * counts.sinkTo(kafkaSink({ topic: 'word-counts' }))
 */
export function kafkaSink<T>(options: {
  readonly topic: string;
  /** @default 'json' */
  readonly value?: SerdeName;
  readonly partitions?: number;
  readonly key?: (value: T) => string | Uint8Array | null;
}): KafkaSinkSpec<T> {
  checkTopicName(options.topic, 'kafkaSink');
  if (options.partitions !== undefined && !(Number.isInteger(options.partitions) && options.partitions > 0)) {
    throw new ConfigError(`kafkaSink(${options.topic}): partitions must be a positive integer, got ${options.partitions}`);
  }
  return {
    kind: 'kafka',
    topic: options.topic,
    serde: options.value ?? 'json',
    ...(options.partitions !== undefined ? { partitions: options.partitions } : {}),
    ...(options.key ? { key: options.key } : {}),
  };
}

/**
 * A DynamoDB table as a sink: one idempotent put per record, keyed by its weir-id.
 * @example
 * totals.sinkTo(dynamoSink({ table: 'totals', item: (v, id) => ({ pk: v.user, total: v.total, id }) }))
 */
export function dynamoSink<T>(options: { readonly table: string; readonly item?: (value: T, id: string) => Record<string, unknown> }): DynamoSinkSpec<T> {
  if (!/^[a-zA-Z0-9_.-]{3,255}$/.test(options.table)) {
    throw new ConfigError(`dynamoSink: table "${options.table}" is not a valid DynamoDB table name; use 3-255 of [a-zA-Z0-9_.-]`);
  }
  return { kind: 'dynamodb', table: options.table, ...(options.item ? { item: options.item } : {}) };
}

/**
 * A custom async function as a sink. It is called at least once per record; use `id` to deduplicate.
 * @example
 * alerts.sinkTo(functionSink({ name: 'pager', write: async (rs) => { for (const r of rs) await page(r.id, r.value); } }))
 */
export function functionSink<T>(options: { readonly name: string; readonly write: (records: ReadonlyArray<SinkRecord<T>>) => Promise<void> }): FunctionSinkSpec<T> {
  if (!options.name) throw new ConfigError('functionSink: name is required');
  return { kind: 'function', name: options.name, write: options.write };
}
