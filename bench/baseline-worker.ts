/**
 * The baseline, run by bench/index.ts in a child process of its own: one plain kafkajs
 * consumer computing the same tumbling windowed word counts (5 s, or `windowMs`) in memory, with the same
 * watermark semantics (window-count.ts), writing the same {word,count,windowStart,windowEnd}
 * JSON results (key = word) to a topic. No state store, no checkpoints: no fault tolerance.
 *
 * Config: JSON in BENCH_BASELINE_CONFIG. Reports over IPC: { firstReadAt, lines, words, late, results }.
 */
import { Kafka, logLevel, type Message } from 'kafkajs';
import { TumblingWordCount, type WindowResult } from './window-count';

export interface BaselineConfig {
  readonly brokers: string[];
  readonly inputTopic: string;
  readonly outputTopic: string;
  readonly groupId: string;
  /** End offset of each input partition at start: the bounded input. */
  readonly ends: Record<string, number>;
  readonly timeoutMs: number;
  /** Tumbling window size, ms (the pipeline's). @default 5000 */
  readonly windowMs?: number;
}

export interface BaselineReport {
  readonly firstReadAt: number;
  readonly doneAt: number;
  readonly lines: number;
  readonly words: number;
  readonly late: number;
  readonly results: number;
}

async function main(): Promise<void> {
  const cfg = JSON.parse(process.env.BENCH_BASELINE_CONFIG ?? '') as BaselineConfig;
  const kafka = new Kafka({ clientId: 'weir-bench-baseline', brokers: cfg.brokers, logLevel: logLevel.NOTHING });
  const partitions = Object.keys(cfg.ends).length;
  const counter = new TumblingWordCount(partitions, cfg.windowMs ?? 5000);
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  const consumer = kafka.consumer({ groupId: cfg.groupId, maxWaitTimeInMs: 100, maxBytesPerPartition: 4 << 20 });
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topics: [cfg.inputTopic], fromBeginning: true });
  let firstReadAt = 0;
  let lines = 0;
  let results = 0;
  const position = new Map<number, number>();
  // Fired results not yet written: a failed send is retried with the batch (kafkajs redelivers it).
  const pending: WindowResult[] = [];
  const emit = async (): Promise<void> => {
    while (pending.length) {
      const messages: Message[] = pending.slice(0, 5000).map((r) => ({ key: r.word, value: JSON.stringify(r), timestamp: String(r.windowEnd - 1) }));
      await producer.send({ topic: cfg.outputTopic, acks: -1, messages });
      pending.splice(0, messages.length);
      results += messages.length;
    }
  };
  const finished = (): boolean => Object.entries(cfg.ends).every(([p, end]) => (position.get(Number(p)) ?? 0) >= end);
  // A partition with nothing to read is finished from the start.
  for (const [p, end] of Object.entries(cfg.ends)) if (end === 0) counter.finish(Number(p));
  let batches = 0;
  const problems: string[] = [];
  consumer.on(consumer.events.CRASH, ({ payload }) => problems.push(`consumer crash (restart ${payload.restart}): ${payload.error.message}`));
  await new Promise<void>((done, fail) => {
    const timer = setTimeout(() => {
      const at = Object.keys(cfg.ends).map((p) => `p${p} ${position.get(Number(p)) ?? 0}/${cfg.ends[p]}`);
      fail(new Error(`baseline: input not consumed within ${cfg.timeoutMs} ms (${batches} batches; ${at.join(', ')}; ${problems.slice(-3).join('; ') || 'no errors'})`));
    }, cfg.timeoutMs);
    consumer
      .run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          if (!batch.messages.length) return;
          batches++;
          if (!firstReadAt) firstReadAt = Date.now();
          const end = cfg.ends[String(batch.partition)] ?? 0;
          for (const m of batch.messages) {
            const offset = Number(m.offset);
            // A batch redelivered after a failed send: its records are in already.
            if (offset >= end || offset < (position.get(batch.partition) ?? 0)) continue;
            counter.add(batch.partition, Number(m.timestamp), m.value ? m.value.toString('utf8') : '');
            lines++;
            position.set(batch.partition, offset + 1);
          }
          if ((position.get(batch.partition) ?? 0) >= end) counter.finish(batch.partition);
          try {
            for (const r of counter.advance()) pending.push(r);
            await emit();
          } catch (err) {
            problems.push(`producing results: ${(err as Error).message}`);
            throw err;
          }
          if (finished()) {
            clearTimeout(timer);
            done();
          }
        },
      })
      .catch(fail);
  });
  const report: BaselineReport = { firstReadAt, doneAt: Date.now(), lines, words: counter.words, late: counter.late, results };
  await consumer.disconnect();
  await producer.disconnect();
  await new Promise<void>((r) => (process.send ? process.send(report, () => r()) : r()));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`baseline: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
