import type { Kafka } from 'kafkajs';
import { endOffsets, readUpTo } from '../../shared/local/read-topics';
import type { KafkaRecord } from '../../shared/runtime/msk-event';

/**
 * Every record of a (physical) topic up to the end offsets seen now, by partition and
 * offset; fails after `timeoutMs` rather than waiting for ever.
 */
export async function readTopic(kafka: Kafka, topic: string, timeoutMs = 60_000): Promise<KafkaRecord[]> {
  const admin = kafka.admin();
  await admin.connect();
  let ends: Map<number, number>;
  try {
    ends = await endOffsets(admin, topic);
  } finally {
    await admin.disconnect();
  }
  return readUpTo(kafka, new Map([[topic, ends]]), { timeoutMs, what: `reading ${topic}` });
}

/**
 * Waits until a (physical) topic holds at least `n` records, then reads them all; fails
 * after `timeoutMs`. For tests that wait for a running pipeline's outputs.
 */
export async function waitForRecords(kafka: Kafka, topic: string, n: number, timeoutMs = 60_000): Promise<KafkaRecord[]> {
  const deadline = Date.now() + timeoutMs;
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (;;) {
      const have = [...(await endOffsets(admin, topic)).values()].reduce((a, b) => a + b, 0);
      if (have >= n) break;
      if (Date.now() > deadline) throw new Error(`${topic} holds ${have} records, not ${n}, after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await admin.disconnect();
  }
  return readTopic(kafka, topic, Math.max(1000, deadline - Date.now()));
}
