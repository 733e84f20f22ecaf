/**
 * The event an Amazon MSK event source mapping hands a Lambda function: records grouped
 * by `<topic>-<partition>`, key and value base64, headers as single-entry objects of bytes.
 */
export interface MskRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
  readonly timestampType: 'CREATE_TIME' | 'LOG_APPEND_TIME';
  readonly key?: string | null;
  readonly value?: string | null;
  readonly headers?: ReadonlyArray<Readonly<Record<string, readonly number[]>>>;
}

export interface MskEvent {
  readonly eventSource: 'aws:kafka';
  readonly eventSourceArn: string;
  readonly bootstrapServers?: string;
  readonly records: Readonly<Record<string, readonly MskRecord[]>>;
}

/** A Kafka record as Weir's ports see it, bytes decoded from the event. */
export interface KafkaRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Readonly<Record<string, string>>;
}

export function decodeMskRecord(r: MskRecord): KafkaRecord {
  const headers: Record<string, string> = {};
  for (const h of r.headers ?? []) {
    for (const [name, bytes] of Object.entries(h)) headers[name] = Buffer.from(bytes).toString('utf8');
  }
  return {
    topic: r.topic,
    partition: r.partition,
    offset: Number(r.offset),
    timestamp: Number(r.timestamp),
    key: r.key == null ? null : Buffer.from(r.key, 'base64'),
    value: r.value == null ? null : Buffer.from(r.value, 'base64'),
    headers,
  };
}

export function encodeMskRecord(r: KafkaRecord, timestampType: MskRecord['timestampType'] = 'CREATE_TIME'): MskRecord {
  return {
    topic: r.topic,
    partition: r.partition,
    offset: r.offset,
    timestamp: r.timestamp,
    timestampType,
    key: r.key === null ? null : r.key.toString('base64'),
    value: r.value === null ? null : r.value.toString('base64'),
    headers: Object.entries(r.headers).map(([k, v]) => ({ [k]: [...Buffer.from(v, 'utf8')] })),
  };
}

/** Groups records as the MSK event does; records keep their order within a partition. */
export function buildMskEvent(records: readonly KafkaRecord[], arn = 'arn:aws:kafka:local:000000000000:cluster/weir-local/local'): MskEvent {
  const grouped: Record<string, MskRecord[]> = {};
  for (const r of records) (grouped[`${r.topic}-${r.partition}`] ??= []).push(encodeMskRecord(r));
  return { eventSource: 'aws:kafka', eventSourceArn: arn, bootstrapServers: '127.0.0.1:9092', records: grouped };
}
