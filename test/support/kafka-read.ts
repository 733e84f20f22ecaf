import type { Kafka } from 'kafkajs';
import { fromKafkaJs } from '../../shared/local/esm/kafka-records';
import type { KafkaRecord } from '../../shared/runtime/msk-event';

/**
 * Every record of a (physical) topic up to the end offsets seen now, by partition and
 * offset; fails after `timeoutMs` rather than waiting for ever.
 */
export async function readTopic(kafka: Kafka, topic: string, timeoutMs = 60_000): Promise<KafkaRecord[]> {
  const admin = kafka.admin();
  await admin.connect();
  let ends: Array<{ partition: number; high: string }>;
  try {
    ends = await admin.fetchTopicOffsets(topic);
  } finally {
    await admin.disconnect();
  }
  let remaining = ends.reduce((a, e) => a + Number(e.high), 0);
  const got = new Map<string, KafkaRecord>();
  if (remaining > 0) {
    const consumer = kafka.consumer({ groupId: `weir-test-reader-${topic}-${Date.now()}`, maxWaitTimeInMs: 50 });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await new Promise<void>((done, fail) => {
        const timer = setTimeout(() => fail(new Error(`reading ${topic}: ${remaining} records still missing after ${timeoutMs} ms`)), timeoutMs);
        consumer
          .run({
            eachMessage: async ({ partition, message }) => {
              const r = fromKafkaJs(topic, partition, message);
              const id = `${partition}/${r.offset}`;
              if (got.has(id)) return;
              got.set(id, r);
              if (--remaining === 0) {
                clearTimeout(timer);
                done();
              }
            },
          })
          .catch((err: unknown) => {
            clearTimeout(timer);
            fail(err);
          });
      });
    } finally {
      await consumer.disconnect().catch(() => undefined);
    }
  }
  return [...got.values()].sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}
