import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Presets, SingleBar } from 'cli-progress';
import type { Admin, Kafka, Message } from 'kafkajs';
import { readUpTo } from '../shared/local/read-topics';
import { servicePid } from './cpu';
import type { Workload } from './workload';

export { endOffsets } from '../shared/local/read-topics';

export interface TopicSpec {
  readonly topic: string;
  readonly partitions: number;
  /** Broker-stamped append time instead of the producer's timestamp (for measuring write time). */
  readonly logAppendTime?: boolean;
}

/**
 * Creates the topics with time-based retention off: the workload's event timestamps lie at a
 * fixed date in the past, and the broker's retention check (every 5 minutes) would otherwise
 * delete whole partitions, active segment included, while the bench still reads them.
 */
export async function createTopics(admin: Admin, topics: readonly TopicSpec[]): Promise<void> {
  await admin.createTopics({
    waitForLeaders: true,
    topics: topics.map((t) => ({
      topic: t.topic,
      numPartitions: t.partitions,
      replicationFactor: 1,
      configEntries: [{ name: 'retention.ms', value: '-1' }, ...(t.logAppendTime ? [{ name: 'message.timestamp.type', value: 'LogAppendTime' }] : [])],
    })),
  });
}

/** End offsets of a topic, by partition. */
export function progressBar(label: string, total: number): SingleBar {
  const bar = new SingleBar(
    {
      format: `${label.padEnd(26)} [{bar}] {percentage}% | {value}/{total} | {rate}/s | {duration}s`,
      hideCursor: true,
      noTTYOutput: true,
      notTTYSchedule: 5000,
      etaBuffer: 50,
      clearOnComplete: false,
    },
    Presets.shades_classic,
  );
  bar.start(total, 0, { rate: '0' });
  return bar;
}

/** Produces the workload to `topic` in batches per partition (acks=all), with a progress bar. */
export async function produceWorkload(kafka: Kafka, topic: string, w: Workload): Promise<number> {
  // Idempotent: a send retried after a timeout on a loaded machine must not append the lines
  // twice (a trial once found 30,000 records in the topic of a 25,000-line workload).
  const producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const started = Date.now();
  const bar = progressBar('producing input lines', w.text.length);
  try {
    const CHUNK = 4000;
    for (let i = 0; i < w.text.length; i += CHUNK) {
      const byPartition = new Map<number, Message[]>();
      for (let j = i; j < Math.min(i + CHUNK, w.text.length); j++) {
        const p = w.partition[j] as number;
        let list = byPartition.get(p);
        if (!list) byPartition.set(p, (list = []));
        list.push({ partition: p, value: w.text[j] as string, timestamp: String(w.timestamp[j]) });
      }
      await producer.sendBatch({ acks: -1, topicMessages: [{ topic, messages: [...byPartition.values()].flat() }] });
      const done = Math.min(i + CHUNK, w.text.length);
      bar.update(done, { rate: Math.round(done / Math.max(0.001, (Date.now() - started) / 1000)).toString() });
    }
  } finally {
    bar.stop();
    await producer.disconnect();
  }
  return Date.now() - started;
}

export interface ReadRecord {
  readonly partition: number;
  readonly offset: number;
  readonly key: string | null;
  readonly value: string | null;
  /** The record's timestamp: with LogAppendTime, when the broker appended it. */
  readonly timestamp: number;
  readonly headers: Readonly<Record<string, string>>;
}

/** Reads a topic from the start up to the end offsets given (bounded by `timeoutMs`), as text. */
export async function readTopic(kafka: Kafka, topic: string, ends: ReadonlyMap<number, number>, timeoutMs = 120_000): Promise<ReadRecord[]> {
  const records = await readUpTo(kafka, new Map([[topic, ends]]), { timeoutMs, what: `reading ${topic}` });
  return records.map((r) => ({ ...r, key: r.key?.toString('utf8') ?? null, value: r.value?.toString('utf8') ?? null }));
}

/**
 * Bytes on the broker's disk for each topic with `prefix`: the log segments of the local
 * Kafka (the `log.dirs` of its server.properties), for the MSK data-in estimate.
 */
export function brokerBytes(prefix: string): Map<string, number> | undefined {
  try {
    // The running broker's own properties file (its last argument), else the one local:up writes.
    const pid = servicePid('kafka');
    const args = pid ? readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0') : [];
    const propsFile = args.find((a) => a.endsWith('server.properties')) ?? resolve('.local/kafka/server.properties');
    const props = readFileSync(propsFile, 'utf8');
    const dirs = /^log\.dirs=(.*)$/m.exec(props)?.[1]?.split(',') ?? [];
    const out = new Map<string, number>();
    for (const d of dirs) {
      for (const tp of readdirSync(d)) {
        if (!tp.startsWith(prefix)) continue;
        const topic = tp.replace(/-\d+$/, '');
        let bytes = 0;
        for (const f of readdirSync(join(d, tp))) if (f.endsWith('.log')) bytes += statSync(join(d, tp, f)).size;
        out.set(topic, (out.get(topic) ?? 0) + bytes);
      }
    }
    return out;
  } catch {
    return undefined;
  }
}
