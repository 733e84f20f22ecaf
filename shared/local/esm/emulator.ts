import type { Consumer, Kafka, Producer } from 'kafkajs';
import type { StagePlan } from '../../plan/types';
import { buildMskEvent, type KafkaRecord } from '../../runtime/msk-event';
import { BundleInvoker } from './invoker';
import { fromKafkaJs } from './kafka-records';

export interface EsmOptions {
  /** Records per invocation per partition (MSK BatchSize). @default 100 */
  readonly batchSize?: number;
  /** How long a partial batch waits to fill (MaximumBatchingWindowInSeconds). @default 100 ms */
  readonly batchingWindowMs?: number;
  /** Retries of a failing batch before it goes to the on-failure topic. @default 10 */
  readonly maxRetries?: number;
  readonly startingPosition?: 'TRIM_HORIZON' | 'LATEST';
  /** Physical topic name prefix (fresh names per local run). */
  readonly topicPrefix?: string;
  readonly invokeTimeoutMs?: number;
  /** Where a batch goes after maxRetries (physical name). */
  readonly onFailureTopic?: string;
  /** Chaos: probability of delivering a successful batch again (a lost offset commit). */
  readonly redeliverRate?: number;
  readonly rand?: () => number;
  /** Called with errors of free-running partitions (the emulator goes on). */
  readonly onError?: (err: unknown) => void;
}

export interface EsmStats {
  invocations: number;
  failures: number;
  redeliveries: number;
  toOnFailure: number;
  recordsIn: number;
  stateWrites: number;
  /** DynamoDB usage the stage's invocations reported (service-measured capacity). */
  dynamo: { writeRequests: number; readRequests: number; writeUnits: number; readUnits: number };
}

interface PartitionFeed {
  readonly topic: string;
  readonly partition: number;
  readonly buffer: KafkaRecord[];
  /** Next offset to hand out (fetched offsets below it are buffered or delivered). */
  fetched: number;
  /** Next offset after the last successful invocation (what the group has committed). */
  committed: number;
  busy: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The Amazon MSK event source mapping, locally. A consumer group per stage fetches into
 * per-partition buffers; batches of at most BatchSize go to the stage's bundle as the exact
 * MSK event, one invocation in flight per partition; offsets are committed only after a
 * successful return; a failing batch is retried with backoff and, after maxRetries, sent
 * to the on-failure topic. `start('free')` runs every partition on its own (as the ESM);
 * `start('lockstep')` leaves the order of batches to the caller (`deliverNext`), which the
 * bounded `weir run --local` uses to replay the embedded runtime's schedule exactly.
 */
export class EsmEmulator {
  private readonly consumer: Consumer;
  private readonly sandboxes = new Map<string, BundleInvoker>();
  private readonly feeds = new Map<string, PartitionFeed>();
  private running = false;
  readonly stats: EsmStats = { invocations: 0, failures: 0, redeliveries: 0, toOnFailure: 0, recordsIn: 0, stateWrites: 0, dynamo: { writeRequests: 0, readRequests: 0, writeUnits: 0, readUnits: 0 } };
  readonly initMs: number[] = [];

  constructor(
    kafka: Kafka,
    readonly stage: StagePlan,
    private readonly groupId: string,
    private readonly bundleFile: string,
    private readonly env: Readonly<Record<string, string>>,
    private readonly options: EsmOptions = {},
    private readonly producer?: Producer,
  ) {
    this.consumer = kafka.consumer({ groupId, maxWaitTimeInMs: options.batchingWindowMs ?? 100, allowAutoTopicCreation: false });
  }

  physical(topic: string): string {
    return (this.options.topicPrefix ?? '') + topic;
  }

  /** Next offset to be read of a logical topic partition (committed). */
  committed(topic: string, partition: number): number {
    return this.feeds.get(`${this.physical(topic)}/${partition}`)?.committed ?? 0;
  }

  async start(mode: 'free' | 'lockstep'): Promise<void> {
    this.running = true;
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.stage.inputTopics.map((t) => this.physical(t)), fromBeginning: (this.options.startingPosition ?? 'TRIM_HORIZON') === 'TRIM_HORIZON' });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 16,
      eachBatch: async ({ batch, resolveOffset }) => {
        const feed = this.feed(batch.topic, batch.partition, Number(batch.firstOffset() ?? 0));
        for (const m of batch.messages) {
          const r = fromKafkaJs(batch.topic, batch.partition, m);
          if (r.offset < feed.fetched) continue;
          feed.buffer.push(r);
          feed.fetched = r.offset + 1;
        }
        const last = batch.lastOffset();
        if (Number(last) >= 0) resolveOffset(last);
        if (mode === 'free' && !feed.busy) this.drain(feed).catch((err: unknown) => this.running && this.options.onError?.(err));
      },
    });
  }

  /**
   * Lockstep: delivers the next batch of a partition (waiting until it is fetched), up to
   * `endOffset`. Resolves false when the partition is done.
   */
  async deliverNext(topic: string, partition: number, endOffset: number): Promise<boolean> {
    const key = `${this.physical(topic)}/${partition}`;
    const batchSize = this.options.batchSize ?? 100;
    for (;;) {
      const feed = this.feeds.get(key);
      const committed = feed?.committed ?? 0;
      if (committed >= endOffset) return false;
      const want = Math.min(batchSize, endOffset - committed);
      if (feed && feed.buffer.length >= want) {
        await this.invokeBatch(feed, feed.buffer.splice(0, want));
        return true;
      }
      if (!this.running) return false;
      await sleep(5);
    }
  }

  /** Invokes the stage's function with a control event (ticker, end of a bounded source). */
  async control(event: unknown): Promise<unknown> {
    const result = await this.sandbox('control').invoke(event);
    this.account(result);
    return result;
  }

  /** Adds what an invocation reported (the stage handler's result) to the stats. */
  private account(result: unknown): void {
    const r = result as { recordsIn?: number; stateWrites?: number; dynamo?: Partial<EsmStats['dynamo']> } | undefined;
    this.stats.recordsIn += r?.recordsIn ?? 0;
    this.stats.stateWrites += r?.stateWrites ?? 0;
    for (const k of ['writeRequests', 'readRequests', 'writeUnits', 'readUnits'] as const) this.stats.dynamo[k] += r?.dynamo?.[k] ?? 0;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.consumer.disconnect().catch(() => undefined);
    for (const s of this.sandboxes.values()) {
      this.initMs.push(...s.initMs);
      s.kill();
    }
    this.sandboxes.clear();
  }

  private feed(topic: string, partition: number, first: number): PartitionFeed {
    const key = `${topic}/${partition}`;
    let f = this.feeds.get(key);
    if (!f) {
      f = { topic, partition, buffer: [], fetched: first, committed: first, busy: false };
      this.feeds.set(key, f);
    }
    return f;
  }

  /** Free mode: one worker per partition, batching window honoured for partial batches. */
  private async drain(feed: PartitionFeed): Promise<void> {
    feed.busy = true;
    const batchSize = this.options.batchSize ?? 100;
    try {
      while (this.running && feed.buffer.length) {
        if (feed.buffer.length < batchSize) await sleep(this.options.batchingWindowMs ?? 100);
        await this.invokeBatch(feed, feed.buffer.splice(0, batchSize));
      }
    } finally {
      feed.busy = false;
    }
  }

  private sandbox(id: string): BundleInvoker {
    let s = this.sandboxes.get(id);
    if (!s) {
      s = new BundleInvoker(this.bundleFile, this.env, `weir-${this.stage.id}`, this.options.invokeTimeoutMs ?? 60_000);
      this.sandboxes.set(id, s);
    }
    return s;
  }

  private async invokeBatch(feed: PartitionFeed, records: KafkaRecord[]): Promise<void> {
    const maxRetries = this.options.maxRetries ?? 10;
    const sandbox = this.sandbox(`${feed.topic}/${feed.partition}`);
    const event = buildMskEvent(records, `arn:aws:kafka:local:000000000000:cluster/weir-local/${this.groupId}`);
    for (let attempt = 0; ; attempt++) {
      this.stats.invocations++;
      try {
        this.account(await sandbox.invoke(event));
        break;
      } catch (err) {
        this.stats.failures++;
        if (attempt >= maxRetries) {
          await this.toOnFailure(records, err);
          break;
        }
        await sleep(Math.min(2000, 20 * 2 ** attempt));
      }
    }
    const rand = this.options.rand;
    while (rand && rand() < (this.options.redeliverRate ?? 0)) {
      this.stats.redeliveries++;
      await sandbox.invoke(event).then(
        (r) => this.account(r),
        () => this.stats.failures++,
      );
    }
    const next = (records[records.length - 1] as KafkaRecord).offset + 1;
    // Stopped meanwhile: leave the offset uncommitted; the batch is delivered again next time.
    if (!this.running) return;
    await this.consumer.commitOffsets([{ topic: feed.topic, partition: feed.partition, offset: String(next) }]);
    feed.committed = next;
  }

  private async toOnFailure(records: KafkaRecord[], err: unknown): Promise<void> {
    this.stats.toOnFailure += records.length;
    if (!this.producer || !this.options.onFailureTopic) return;
    await this.producer.send({
      topic: this.options.onFailureTopic,
      acks: -1,
      messages: records.map((r) => ({
        key: r.key,
        value: r.value,
        timestamp: String(r.timestamp),
        headers: {
          ...r.headers,
          'weir-failed-stage': this.stage.id,
          'weir-failed-topic': r.topic,
          'weir-failed-partition': String(r.partition),
          'weir-failed-offset': String(r.offset),
          'weir-failed-error': err instanceof Error ? err.message : String(err),
        },
      })),
    });
  }
}
