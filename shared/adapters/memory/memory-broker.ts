import type { KafkaRecord } from '../../runtime/msk-event';
import type { OutRecord, Producer } from '../../runtime/ports';
import { ConfigError } from '../../runtime/errors';

/**
 * In-process topics: append-only partition logs with offsets, as a broker keeps them.
 * A real implementation of the Producer port, used by the embedded runtime and tests.
 */
export class MemoryBroker implements Producer {
  private readonly topics = new Map<string, KafkaRecord[][]>();

  createTopic(name: string, partitions: number): void {
    const existing = this.topics.get(name);
    if (existing) {
      if (existing.length !== partitions) throw new ConfigError(`topic "${name}" exists with ${existing.length} partitions, not ${partitions}`);
      return;
    }
    this.topics.set(name, Array.from({ length: partitions }, () => []));
  }

  has(name: string): boolean {
    return this.topics.has(name);
  }

  partitions(name: string): number {
    return this.log(name).length;
  }

  topicNames(): string[] {
    return [...this.topics.keys()];
  }

  append(r: Omit<OutRecord, 'partition'> & { partition: number }): KafkaRecord {
    const log = this.log(r.topic)[r.partition];
    if (!log) throw new ConfigError(`topic "${r.topic}" has no partition ${r.partition}`);
    const rec: KafkaRecord = { topic: r.topic, partition: r.partition, offset: log.length, timestamp: r.timestamp, key: r.key, value: r.value, headers: r.headers };
    log.push(rec);
    return rec;
  }

  async send(records: readonly OutRecord[]): Promise<void> {
    for (const r of records) this.append(r);
  }

  /** Records of a partition from `offset`, at most `max`. */
  read(topic: string, partition: number, offset: number, max: number): KafkaRecord[] {
    const log = this.log(topic)[partition] ?? [];
    return log.slice(offset, offset + max);
  }

  endOffset(topic: string, partition: number): number {
    return (this.log(topic)[partition] ?? []).length;
  }

  all(topic: string, partition: number): readonly KafkaRecord[] {
    return this.log(topic)[partition] ?? [];
  }

  private log(name: string): KafkaRecord[][] {
    const t = this.topics.get(name);
    if (!t) throw new ConfigError(`topic "${name}" does not exist`);
    return t;
  }
}
