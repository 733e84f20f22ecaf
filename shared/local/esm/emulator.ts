import type { Consumer, Kafka, Producer } from 'kafkajs';
import type { StartingPosition } from '../../api/sources';
import type { StagePlan } from '../../plan/types';
import { buildMskEvent, type KafkaRecord } from '../../runtime/msk-event';
import { retryFor, sleep } from '../retry';
import { BundleInvoker } from './invoker';
import { LambdaApiInvoker } from './lambda-api-invoker';
import { fromKafkaJs } from './kafka-records';
import { SandboxPool, type PoolInvocation, type Routing } from './sandbox-pool';

export interface EsmOptions {
  /** Records per invocation per partition (MSK BatchSize). @default 100 */
  readonly batchSize?: number;
  /** How long a partial batch waits to fill (MaximumBatchingWindowInSeconds). @default 100 ms */
  readonly batchingWindowMs?: number;
  /** Retries of a failing batch (or control event) before it goes to the on-failure topic (is thrown). @default 10 */
  readonly maxRetries?: number;
  /**
   * Lockstep: when a partition has waited this long for records that exist and nothing was
   * fetched for it, the consumer is replaced by a new one (which refetches from the committed
   * offset). A last resort for a consumer that stopped without reporting a crash. @default 30000
   */
  readonly stallMs?: number;
  /** Invoke functions deployed behind a Lambda API (LocalStack) instead of the local bundles. */
  readonly lambdaEndpoint?: { readonly url: string; readonly functionName: (stage: string) => string; readonly region?: string };
  /** Where a group with no committed offsets starts. @default 'TRIM_HORIZON' */
  readonly startingPosition?: StartingPosition;
  /** Physical topic name prefix (fresh names per local run). */
  readonly topicPrefix?: string;
  readonly invokeTimeoutMs?: number;
  /** Where a batch goes after maxRetries (physical name); without one, a failing batch is retried until it succeeds. */
  readonly onFailureTopic?: string;
  /** Chaos: probability of delivering a successful batch again (a lost offset commit). */
  readonly redeliverRate?: number;
  readonly rand?: () => number;
  /** Called with errors of free-running partitions (the emulator goes on). */
  readonly onError?: (err: unknown) => void;
  /** Called after every invocation, successful or not (observers such as `weir dev --ui`). */
  readonly onInvocation?: (report: InvocationReport) => void;
  /** Which sandbox takes an invocation (see Routing); 'pinned' only to compare with. @default 'lambda' */
  readonly routing?: Routing;
  /** Sandboxes at most, as a function's reserved concurrency. @default unlimited (one batch in flight per partition bounds it) */
  readonly maxConcurrency?: number;
  /** Seed of the choice among idle sandboxes. @default 1 */
  readonly routingSeed?: number;
}

/** One invocation as an observer sees it. */
export interface InvocationReport {
  readonly stage: string;
  /** `batch`: an MSK event of `records` records of `topic`/`partition`; `control`: ticker or end of input. */
  readonly kind: 'batch' | 'control';
  readonly topic?: string;
  readonly partition?: number;
  readonly records: number;
  /** The sandbox that ran it (1, 2, ... in creation order, per stage). */
  readonly sandbox?: number;
  readonly durationMs: number;
  /** What the function returned (the stage handler's result); absent when it failed. */
  readonly result?: unknown;
  readonly error?: unknown;
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
  /**
   * Fetched records from `committed` up to `fetched`: a batch leaves the buffer only once its
   * offset is committed, so a failing commit cannot lose records, and whatever a consumer
   * (re)fetches below `fetched` after a rebalance or restart is already here and dropped.
   */
  readonly buffer: KafkaRecord[];
  /** Next offset to hand out (fetched offsets below it are buffered or delivered). */
  fetched: number;
  /** Next offset after the last successful invocation (what the group has committed). */
  committed: number;
  busy: boolean;
  /** When each fetched chunk arrived (first offset, time): the batching window runs from its oldest buffered record's arrival. */
  readonly arrivals: Array<{ offset: number; at: number }>;
  /** Wakes a worker waiting out the batching window once a full batch is buffered. */
  wake?: () => void;
}


/**
 * The Amazon MSK event source mapping, locally. A consumer group per stage fetches into
 * per-partition buffers; batches of at most BatchSize go to the stage's bundle as the exact
 * MSK event, one invocation in flight per partition, in whichever sandbox the pool routes it
 * to (sandbox-pool.ts: any idle one, as Lambda, by default); offsets are committed only after
 * a successful return; a failing batch is retried with backoff and, after maxRetries, sent
 * to the on-failure topic. `start('free')` runs every partition on its own (as the ESM);
 * `start('lockstep')` leaves the order of batches to the caller (`deliverNext`), which the
 * bounded `weir run --local` uses to replay the embedded runtime's schedule exactly.
 */
export class EsmEmulator {
  private consumer: Consumer | undefined;
  private mode: 'free' | 'lockstep' = 'free';
  private replacing: Promise<void> | undefined;
  private readonly pool: SandboxPool;
  private readonly feeds = new Map<string, PartitionFeed>();
  private running = false;
  readonly stats: EsmStats = { invocations: 0, failures: 0, redeliveries: 0, toOnFailure: 0, recordsIn: 0, stateWrites: 0, dynamo: { writeRequests: 0, readRequests: 0, writeUnits: 0, readUnits: 0 } };

  constructor(
    private readonly kafka: Kafka,
    readonly stage: StagePlan,
    private readonly groupId: string,
    private readonly bundleFile: string,
    private readonly env: Readonly<Record<string, string>>,
    private readonly options: EsmOptions = {},
    private readonly producer?: Producer,
  ) {
    const remote = options.lambdaEndpoint;
    const timeoutMs = options.invokeTimeoutMs ?? 60_000;
    this.pool = new SandboxPool(
      () => (remote ? new LambdaApiInvoker(remote.url, remote.functionName(stage.id), remote.region, timeoutMs) : new BundleInvoker(bundleFile, env, `weir-${stage.id}`, timeoutMs)),
      { routing: options.routing ?? 'lambda', seed: options.routingSeed ?? 1, ...(options.maxConcurrency !== undefined ? { maxConcurrency: options.maxConcurrency } : {}) },
    );
  }

  /** Cold-start times of the stage's sandboxes (complete once stopped). */
  get initMs(): number[] {
    return this.pool.initMs;
  }

  /** Sandboxes started so far. */
  get sandboxesCreated(): number {
    return this.pool.sandboxesCreated;
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
    this.mode = mode;
    await this.connectConsumer();
  }

  /** Starts a consumer, retrying while Kafka is unreachable. */
  private connectConsumer(): Promise<void> {
    return retryFor(() => this.startConsumer(), { what: `stage ${this.stage.id}: starting the consumer of group ${this.groupId}`, keepGoing: () => this.running });
  }

  private async startConsumer(): Promise<void> {
    // A short session lets the coordinator drop a member that vanished with a broker crash
    // soon (30 s by default), so the group's next join does not wait for it that long.
    const consumer = this.kafka.consumer({
      groupId: this.groupId,
      maxWaitTimeInMs: this.options.batchingWindowMs ?? 100,
      allowAutoTopicCreation: false,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      // kafkajs would restart a crashed consumer itself, on a timer that a disconnect can
      // miss (a consumer restarting after stop()); and not at all after some errors, leaving
      // the feeds without records. Every crash is handled here instead: a new consumer.
      retry: { retries: 5, restartOnFailure: async () => false },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, () => {
      if (this.running && this.consumer === consumer) void this.replaceConsumer().catch(() => undefined);
    });
    try {
      await consumer.connect();
      const position = this.options.startingPosition ?? 'TRIM_HORIZON';
      if (typeof position === 'object') await this.startAtTimestamp(position.atTimestamp);
      await consumer.subscribe({ topics: this.stage.inputTopics.map((t) => this.physical(t)), fromBeginning: position !== 'LATEST' });
      const mode = this.mode;
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: 16,
        eachBatch: async ({ batch, resolveOffset }) => {
          const feed = this.feed(batch.topic, batch.partition, Number(batch.firstOffset() ?? 0));
          const before = feed.fetched;
          for (const m of batch.messages) {
            const r = fromKafkaJs(batch.topic, batch.partition, m);
            // After a rebalance or a new consumer, fetching restarts from the committed
            // offset: what is below `fetched` is buffered or delivered already.
            if (r.offset < feed.fetched) continue;
            feed.buffer.push(r);
            feed.fetched = r.offset + 1;
          }
          const last = batch.lastOffset();
          if (Number(last) >= 0) resolveOffset(last);
          if (feed.fetched > before) feed.arrivals.push({ offset: before, at: Date.now() });
          if (feed.buffer.length >= (this.options.batchSize ?? 100)) feed.wake?.();
          if (mode === 'free' && !feed.busy) this.keepDraining(feed);
        },
      });
    } catch (err) {
      if (this.consumer === consumer) this.consumer = undefined;
      await consumer.disconnect().catch(() => undefined);
      throw err;
    }
  }

  /**
   * AT_TIMESTAMP: a group that has committed nothing yet starts, per partition, at the first
   * offset whose timestamp is at or after `ts` (as the MSK trigger does).
   */
  private async startAtTimestamp(ts: number): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      for (const t of this.stage.inputTopics) {
        const topic = this.physical(t);
        const [committed] = await admin.fetchOffsets({ groupId: this.groupId, topics: [topic] });
        if (committed?.partitions.some((p) => Number(p.offset) >= 0)) continue;
        const at = await admin.fetchTopicOffsetsByTimestamp(topic, ts);
        await admin.setOffsets({ groupId: this.groupId, topic, partitions: at.map((p) => ({ partition: p.partition, offset: p.offset })) });
      }
    } finally {
      await admin.disconnect();
    }
  }

  /** Replaces the consumer by a new one of the same group (one replacement at a time). */
  private replaceConsumer(): Promise<void> {
    this.replacing ??= (async () => {
      const old = this.consumer;
      this.consumer = undefined;
      await old?.disconnect().catch(() => undefined);
      if (this.running) await this.connectConsumer();
    })().finally(() => (this.replacing = undefined));
    return this.replacing;
  }

  /**
   * Lockstep: delivers the next batch of a partition (waiting until it is fetched), up to
   * `endOffset`. Resolves false when the partition is done; throws once `deadline` (epoch
   * ms) passes while it waits for records or retries the batch.
   */
  async deliverNext(topic: string, partition: number, endOffset: number, deadline = Number.POSITIVE_INFINITY): Promise<boolean> {
    const key = `${this.physical(topic)}/${partition}`;
    const batchSize = this.options.batchSize ?? 100;
    const stallMs = this.options.stallMs ?? 30_000;
    let seen = Number.NaN;
    let since = Date.now();
    for (;;) {
      const feed = this.feeds.get(key);
      const committed = feed?.committed ?? 0;
      if (committed >= endOffset) return false;
      const want = Math.min(batchSize, endOffset - committed);
      if (feed && feed.buffer.length >= want) {
        // Offsets of these topics are contiguous (no transactions, no compaction), so the
        // buffer must start at the committed offset; anything else would skip or repeat records.
        const first = (feed.buffer[0] as KafkaRecord).offset;
        if (first !== committed) throw new Error(`stage ${this.stage.id}: ${key} buffer starts at offset ${first}, expected ${committed}`);
        await this.invokeBatch(feed, feed.buffer.slice(0, want), deadline);
        return true;
      }
      if (!this.running) return false;
      const now = Date.now();
      if (now > deadline) throw new Error(`stage ${this.stage.id}: ${key} has had no records past offset ${feed?.fetched ?? committed} for ${Math.round((now - since) / 1000)} s (end offset ${endOffset})`);
      if ((feed?.fetched ?? -1) !== seen) {
        seen = feed?.fetched ?? -1;
        since = now;
      } else if (now - since > stallMs) {
        await this.replaceConsumer();
        since = Date.now();
      }
      await sleep(5);
    }
  }

  /**
   * Invokes the stage's function with a control event (ticker, end of a bounded source),
   * retried as a batch is (their markers are idempotent); throws after maxRetries.
   */
  async control(event: unknown): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      const started = Date.now();
      const r = await this.pool.invoke(event, 'control');
      this.options.onInvocation?.({ stage: this.stage.id, kind: 'control', records: 0, sandbox: r.sandbox, durationMs: Date.now() - started, ...outcome(r) });
      if (r.ok) {
        this.account(r.result);
        return r.result;
      }
      this.stats.failures++;
      if (attempt >= (this.options.maxRetries ?? 10)) throw r.error;
      await sleep(this.backoffMs(attempt));
    }
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
    await this.replacing?.catch(() => undefined);
    const consumer = this.consumer;
    this.consumer = undefined;
    await consumer?.disconnect().catch(() => undefined);
    this.pool.stop();
  }

  private feed(topic: string, partition: number, first: number): PartitionFeed {
    const key = `${topic}/${partition}`;
    let f = this.feeds.get(key);
    if (!f) {
      f = { topic, partition, buffer: [], fetched: first, committed: first, busy: false, arrivals: [] };
      this.feeds.set(key, f);
    }
    return f;
  }

  /**
   * Starts a partition's worker. A worker that failed (its offset commit kept failing) is
   * started again after a pause while records wait, rather than when new records arrive,
   * which on a quiet partition may be never.
   */
  private keepDraining(feed: PartitionFeed): void {
    this.drain(feed).catch((err: unknown) => {
      if (!this.running) return;
      this.options.onError?.(err);
      setTimeout(() => this.running && !feed.busy && feed.buffer.length && this.keepDraining(feed), 1000).unref();
    });
  }

  /** Free mode: one worker per partition, batching window honoured for partial batches. */
  private async drain(feed: PartitionFeed): Promise<void> {
    feed.busy = true;
    const batchSize = this.options.batchSize ?? 100;
    try {
      while (this.running && feed.buffer.length) {
        if (feed.buffer.length < batchSize) await this.batchingWindow(feed, batchSize);
        await this.invokeBatch(feed, feed.buffer.slice(0, batchSize));
      }
    } finally {
      feed.busy = false;
    }
  }

  /**
   * Waits until the partition's oldest buffered record has waited the batching window, or a
   * full batch is buffered, as the MSK trigger does. (Sleeping a whole window before each
   * partial batch, as this emulator first did, made every stage add a window to latency.)
   */
  private async batchingWindow(feed: PartitionFeed, batchSize: number): Promise<void> {
    const since = feed.arrivals[0]?.at ?? Date.now();
    const wait = since + (this.options.batchingWindowMs ?? 100) - Date.now();
    if (wait <= 0 || feed.buffer.length >= batchSize) return;
    await new Promise<void>((done) => {
      const timer = setTimeout(done, wait);
      feed.wake = () => {
        clearTimeout(timer);
        done();
      };
    });
    feed.wake = undefined;
  }

  /** Between retries: 20 ms doubling up to 2 s. */
  private backoffMs(attempt: number): number {
    return Math.min(2000, 20 * 2 ** Math.min(attempt, 20));
  }

  /**
   * Invokes one batch until it succeeds (or goes to the on-failure topic), then commits it.
   * Past `deadline` it throws instead of retrying on: the batch is neither skipped nor committed.
   */
  private async invokeBatch(feed: PartitionFeed, records: KafkaRecord[], deadline = Number.POSITIVE_INFINITY): Promise<void> {
    const maxRetries = this.options.maxRetries ?? 10;
    const id = `${feed.topic}/${feed.partition}`;
    const event = buildMskEvent(records, `arn:aws:kafka:local:000000000000:cluster/weir-local/${this.groupId}`);
    for (let attempt = 0; ; attempt++) {
      this.stats.invocations++;
      const started = Date.now();
      const r = await this.pool.invoke(event, id);
      this.options.onInvocation?.({ stage: this.stage.id, kind: 'batch', topic: feed.topic, partition: feed.partition, records: records.length, sandbox: r.sandbox, durationMs: Date.now() - started, ...outcome(r) });
      if (r.ok) {
        this.account(r.result);
        break;
      }
      this.stats.failures++;
      // Without an on-failure destination the batch is never skipped: it is retried until it
      // succeeds (as an MSK trigger in on-demand mode does), so a long outage loses nothing.
      if (attempt >= maxRetries && this.producer && this.options.onFailureTopic) {
        await this.toOnFailure(records, r.error);
        break;
      }
      if (Date.now() + this.backoffMs(attempt) > deadline) {
        throw new Error(`stage ${this.stage.id}: ${id} batch at offset ${(records[0] as KafkaRecord).offset} still failing after ${attempt + 1} attempts at the deadline: ${(r.error as Error).message}`);
      }
      await sleep(this.backoffMs(attempt));
    }
    const rand = this.options.rand;
    while (rand && rand() < (this.options.redeliverRate ?? 0)) {
      this.stats.redeliveries++;
      const r = await this.pool.invoke(event, id);
      if (r.ok) this.account(r.result);
      else this.stats.failures++;
    }
    const next = (records[records.length - 1] as KafkaRecord).offset + 1;
    // Stopped meanwhile: leave the offset uncommitted; the batch is delivered again next time.
    if (!this.running) return;
    // The commit is retried while Kafka restarts. kafkajs drops a commit silently while its
    // consumer restarts after a crash; that costs a redelivery at most, never a record: the
    // feed keeps its own committed offset, and a refetch from an older one is dropped above.
    await retryFor(
      async () => {
        const consumer = this.consumer;
        if (!consumer) throw new Error('the consumer is being replaced');
        await consumer.commitOffsets([{ topic: feed.topic, partition: feed.partition, offset: String(next) }]);
      },
      { what: `stage ${this.stage.id}: committing ${id} at ${next}`, keepGoing: () => this.running },
    );
    feed.committed = next;
    feed.buffer.splice(0, records.length);
    const head = feed.buffer[0]?.offset ?? feed.fetched;
    while (feed.arrivals.length > 1 && (feed.arrivals[1]?.offset ?? Infinity) <= head) feed.arrivals.shift();
  }

  private async toOnFailure(records: KafkaRecord[], err: unknown): Promise<void> {
    const topic = this.options.onFailureTopic as string;
    this.stats.toOnFailure += records.length;
    await (this.producer as Producer).send({
      topic,
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

function outcome(r: PoolInvocation): { result: unknown } | { error: unknown } {
  return r.ok ? { result: r.result } : { error: r.error };
}
