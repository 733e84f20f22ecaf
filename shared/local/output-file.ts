import type { SerdeName } from '../api/serde';
import type { PipelinePlan } from '../plan/types';
import { keyIdOf } from '../runtime/keys';
import type { KafkaRecord } from '../runtime/msk-event';
import type { SinkRow } from '../runtime/ports';
import { H_ID } from '../runtime/wire';

/** One line of a `weir run --output` file. */
export interface OutputRecord {
  readonly topic: string;
  readonly partition: number | null;
  readonly key: string | null;
  readonly value: unknown;
  readonly timestamp: number;
  readonly headers: Record<string, string>;
}

export function decodeOutputValue(serde: SerdeName | undefined, value: Buffer | null): unknown {
  if (value === null) return null;
  const text = value.toString('utf8');
  if (serde === 'json') {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}

export function toOutputRecord(plan: PipelinePlan, r: KafkaRecord): OutputRecord {
  const serde = plan.topics.find((t) => t.name === r.topic)?.serde;
  return {
    topic: r.topic,
    partition: r.partition,
    // The key id: the key's text, or ~b64:... for bytes that are not UTF-8 (never a lossy decode).
    key: keyIdOf(r.key),
    value: decodeOutputValue(serde, r.value),
    timestamp: r.timestamp,
    headers: { ...r.headers },
  };
}

export function sinkRowToOutput(kind: 'dynamodb' | 'function', r: SinkRow): OutputRecord {
  return { topic: `${kind}:${r.sink}`, partition: null, key: r.key, value: r.item ?? r.value, timestamp: r.timestamp, headers: { [H_ID]: r.id } };
}

export function formatOutput(records: readonly OutputRecord[]): string {
  return records.map((r) => JSON.stringify(r)).join('\n') + (records.length ? '\n' : '');
}
