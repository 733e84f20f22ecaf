import type { Admin, Consumer, Kafka } from 'kafkajs';
import { keyIdOf } from '../../runtime/keys';
import type { WindowResult } from './snapshot';

/** End offsets of topics and committed offsets of consumer groups, through one admin client. */
export class OffsetReader {
  private readonly admin: Admin;
  private connected: Promise<void> | undefined;

  constructor(kafka: Kafka) {
    this.admin = kafka.admin();
  }

  private connect(): Promise<void> {
    this.connected ??= this.admin.connect().catch((err: unknown) => {
      this.connected = undefined;
      throw err;
    });
    return this.connected;
  }

  /** Physical topic -> end offset per partition. */
  async endOffsets(topics: readonly string[]): Promise<Map<string, Map<number, number>>> {
    await this.connect();
    const out = new Map<string, Map<number, number>>();
    await Promise.all(
      topics.map(async (t) => {
        const offsets = await this.admin.fetchTopicOffsets(t);
        out.set(t, new Map(offsets.map((o) => [o.partition, Number(o.high)])));
      }),
    );
    return out;
  }

  /** Committed offsets of a group: physical topic -> partition -> offset (-1 when none). */
  async committed(groupId: string, topics: readonly string[]): Promise<Map<string, Map<number, number>>> {
    await this.connect();
    const got = await this.admin.fetchOffsets({ groupId, topics: [...topics] });
    return new Map(got.map((t) => [t.topic, new Map(t.partitions.map((p) => [p.partition, Number(p.offset)]))]));
  }

  async deleteGroup(groupId: string): Promise<void> {
    await this.connect();
    await this.admin.deleteGroups([groupId]);
  }

  async close(): Promise<void> {
    if (this.connected) await this.admin.disconnect().catch(() => undefined);
  }
}

/**
 * The latest `keep` records of the sink topics: a consumer of its own group that starts each
 * partition `keep` records before its end, then follows new records as they come.
 */
export class ResultsTail {
  private readonly consumer: Consumer;
  private readonly latest: WindowResult[] = [];

  constructor(
    kafka: Kafka,
    readonly groupId: string,
    private readonly topics: readonly string[],
    private readonly logical: (topic: string) => string,
    private readonly keep = 50,
  ) {
    this.consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200, allowAutoTopicCreation: false });
  }

  async start(offsets: OffsetReader): Promise<void> {
    if (!this.topics.length) return;
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [...this.topics], fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic, partition, message }) => {
        this.latest.unshift({
          topic: this.logical(topic),
          partition,
          offset: Number(message.offset),
          timestamp: Number(message.timestamp),
          key: keyIdOf(message.key),
          value: message.value ? message.value.toString() : null,
        });
        if (this.latest.length > this.keep) this.latest.length = this.keep;
      },
    });
    // Start `keep` records before each partition's end (the group commits nothing).
    for (const [topic, partitions] of await offsets.endOffsets(this.topics)) {
      for (const [partition, end] of partitions) this.consumer.seek({ topic, partition, offset: String(Math.max(0, end - this.keep)) });
    }
  }

  /** Newest first. */
  results(): WindowResult[] {
    return [...this.latest];
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect().catch(() => undefined);
  }
}
