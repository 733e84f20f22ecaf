import { randomBytes } from 'node:crypto';
import type { Admin, Kafka } from 'kafkajs';
import type { KafkaRecord } from '../runtime/msk-event';
import { fromKafkaJs } from './esm/kafka-records';

/** End offsets to read up to: topic -> partition -> the offset after the last record wanted. */
export type EndOffsets = ReadonlyMap<string, ReadonlyMap<number, number>>;

export interface ReadOptions {
  readonly timeoutMs: number;
  /** Names what is read in the error at the deadline ("reading the outputs"). */
  readonly what?: string;
  /** @default a fresh group per call */
  readonly groupId?: string;
}

/**
 * Every record of the given topics from the start up to the end offsets given, in
 * (topic, partition, offset) order. By offset: a consumer that kafkajs restarts after a
 * broker fault reads again from its last position, and nothing is counted twice. Fails at
 * the deadline rather than waiting for ever, and when kafkajs gives the consumer up.
 */
export async function readUpTo(kafka: Kafka, ends: EndOffsets, options: ReadOptions): Promise<KafkaRecord[]> {
  let remaining = 0;
  for (const byPartition of ends.values()) for (const end of byPartition.values()) remaining += end;
  const got = new Map<string, KafkaRecord>();
  if (remaining > 0) {
    const consumer = kafka.consumer({ groupId: options.groupId ?? `weir-reader-${randomBytes(4).toString('hex')}`, maxWaitTimeInMs: 50, maxBytesPerPartition: 4 << 20 });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [...ends.keys()], fromBeginning: true });
      await new Promise<void>((done, fail) => {
        const settle = (f: () => void): void => {
          clearTimeout(timer);
          f();
        };
        const timer = setTimeout(() => fail(new Error(`${options.what ?? 'reading topics'}: ${remaining} records still missing after ${options.timeoutMs} ms`)), options.timeoutMs);
        consumer.on(consumer.events.CRASH, ({ payload }) => payload.restart || settle(() => fail(payload.error)));
        consumer
          .run({
            autoCommit: false,
            eachBatch: async ({ batch }) => {
              const end = ends.get(batch.topic)?.get(batch.partition) ?? 0;
              for (const m of batch.messages) {
                const r = fromKafkaJs(batch.topic, batch.partition, m);
                const id = `${r.topic}/${r.partition}/${r.offset}`;
                if (r.offset >= end || got.has(id)) continue;
                got.set(id, r);
                remaining--;
              }
              if (remaining === 0) settle(done);
            },
          })
          .catch((err: unknown) => settle(() => fail(err)));
      });
    } finally {
      await consumer.disconnect().catch(() => undefined);
    }
  }
  return [...got.values()].sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition || a.offset - b.offset));
}

/** A topic's end offsets now: partition -> the offset its next record will get. */
export async function endOffsets(admin: Admin, topic: string): Promise<Map<number, number>> {
  return new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, Number(o.high)]));
}
