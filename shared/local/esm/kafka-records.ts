import type { KafkaMessage } from 'kafkajs';
import type { KafkaRecord } from '../../runtime/msk-event';

/** A kafkajs message as the MSK event's record (headers as UTF-8 text). */
export function fromKafkaJs(topic: string, partition: number, m: KafkaMessage): KafkaRecord {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.headers ?? {})) {
    const one = Array.isArray(v) ? v[0] : v;
    if (one !== undefined) headers[k] = Buffer.isBuffer(one) ? one.toString('utf8') : String(one);
  }
  return {
    topic,
    partition,
    offset: Number(m.offset),
    timestamp: Number(m.timestamp),
    key: m.key ?? null,
    value: m.value ?? null,
    headers,
  };
}
