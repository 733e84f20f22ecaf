import type { Kafka, Message, ProducerBatch, Producer as KafkaJsProducer } from 'kafkajs';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../../runtime/limits';
import type { OutRecord, Producer } from '../../runtime/ports';
import { splitBySize } from './split-by-size';

/**
 * The Producer port on kafkajs: idempotent, acks=all, one request in flight so records of
 * a partition land in the order given. Partitions are chosen by the executor (murmur2 as
 * the Java client, or forward), so they are passed explicitly. Connects once and is reused
 * by every invocation of a warm container, until a send fails.
 *
 * A failed send may have been appended all the same (its response lost past the retries),
 * and kafkajs then rolls its sequence numbers back while keeping its producer id: the next
 * send with the same record count per partition would be taken by the broker for a
 * duplicate of that append, acknowledged, and never written; another count is refused as
 * out of order, for ever. Lambda keeps the container after a function error, so that next
 * send can be another batch's. The failed producer is therefore dropped and the next send
 * gets a new one, with a new producer id and fresh sequences.
 */
export class KafkaProducer implements Producer {
  private producer: KafkaJsProducer | undefined;
  private connecting: Promise<void> | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly topicPrefix = '',
    /** The brokers' max message size: no produce request is larger (split-by-size.ts). */
    private readonly maxRequestBytes = DEFAULT_MAX_MESSAGE_BYTES,
  ) {}

  async send(records: readonly OutRecord[]): Promise<void> {
    if (!records.length) return;
    const producer = await this.connected();
    try {
      for (const chunk of splitBySize(records, this.maxRequestBytes)) await producer.sendBatch(this.request(chunk));
    } catch (err) {
      this.drop(producer);
      throw err;
    }
  }

  private request(records: readonly OutRecord[]): ProducerBatch {
    const byTopic = new Map<string, Message[]>();
    for (const r of records) {
      const topic = this.topicPrefix + r.topic;
      let list = byTopic.get(topic);
      if (!list) byTopic.set(topic, (list = []));
      list.push({ partition: r.partition, key: r.key, value: r.value, timestamp: String(r.timestamp), headers: { ...r.headers } });
    }
    return { acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) };
  }

  /** Forgets `p` if it is still the current producer; its disconnect is not waited for (Kafka may be unreachable). */
  private drop(p: KafkaJsProducer): void {
    if (this.producer !== p) return;
    this.producer = undefined;
    this.connecting = undefined;
    void p.disconnect().catch(() => undefined);
  }

  async disconnect(): Promise<void> {
    const p = this.producer;
    this.producer = undefined;
    this.connecting = undefined;
    await p?.disconnect();
  }

  private async connected(): Promise<KafkaJsProducer> {
    if (!this.connecting) {
      const p = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
      this.connecting = p.connect().then(() => void (this.producer = p));
      this.connecting.catch(() => (this.connecting = undefined));
    }
    await this.connecting;
    return this.producer as KafkaJsProducer;
  }
}
