import { KafkaProducer } from '../../shared/adapters/kafka/kafka-producer';
import { createKafka } from '../../shared/adapters/kafka/kafka-config';
import { localBrokers } from '../../shared/local/endpoints';
import type { OutRecord } from '../../shared/runtime/ports';
import { readTopic } from '../support/kafka-read';

jest.setTimeout(120_000);

// kafkajs sends a batch as one request; the broker (message.max.bytes 1048588 by default)
// refused a partition's 3 MB of records with MESSAGE_TOO_LARGE on every retry.
describe('KafkaProducer against the local broker', () => {
  it('sends 3 MB for one partition in requests the broker takes, each partition in order', async () => {
    const kafka = createKafka({ brokers: [localBrokers()], clientId: 'weir-test-split' });
    const topic = `split-${Date.now()}`;
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2, replicationFactor: 1 }], waitForLeaders: true });
    await admin.disconnect();
    const records: OutRecord[] = Array.from({ length: 3000 }, (_, i) => ({
      topic,
      partition: i % 10 === 9 ? 1 : 0,
      key: Buffer.from(String(i)),
      value: Buffer.alloc(1024, i % 256),
      timestamp: 1_700_000_000_000 + i,
      headers: { n: String(i) },
    }));
    const producer = new KafkaProducer(kafka);
    try {
      await producer.send(records);
    } finally {
      await producer.disconnect();
    }
    const got = await readTopic(kafka, topic);
    for (const p of [0, 1]) {
      expect(got.filter((r) => r.partition === p).map((r) => Number(r.key?.toString()))).toEqual(records.filter((r) => r.partition === p).map((r) => Number(r.key?.toString())));
    }
    expect(got).toHaveLength(3000);
  });
});
