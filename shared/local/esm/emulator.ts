import type { Consumer, Kafka, Producer } from 'kafkajs';
import type { StagePlan } from '../../plan/types';
import { buildMskEvent, type KafkaRecord } from '../../runtime/msk-event';
import type { MetricName } from '../../runtime/ports';
import { retryFor } from '../retry';
import { BundleInvoker } from './invoker';
import { LambdaApiInvoker } from './lambda-api-invoker';
import { fromKafkaJs } from './kafka-records';
import { batchingWindow, committedPart, type Part, type PartitionFeed } from './feeds';
import type { EsmOptions, EsmStats } from './options';
import { SandboxPool, type PoolInvocation } from './sandbox-pool';
import { backoffDelay, sleep } from '../../runtime/backoff';

export type { EsmOptions, EsmStats, InvocationReport } from './options';

/**
 * The Amazon MSK event source mapping, locally. A consumer group per stage fetches into
 * per-partition buffers; batches of at most BatchSize go to the stage's bundle as the exact
 * MSK event (in free mode one event may carry several partitions, as the trigger's do), one
 * invocation in flight per partition, in whichever sandbox the pool routes it to
 * (sandbox-pool.ts: any idle one, as Lambda, by default); offsets are committed only after
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
  readonly stats: EsmStats = { invocations: 0, failures: 0, redeliveries: 0, toOnFailure: 0, recordsIn: 0, stateWrites: 0, dynamo: { writeRequests: 0, readRequests: 0, writeUnits: 0, readUnits: 0 }, metrics: {} };

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
      { routing: options.routing ?? 'lambda', ...(options.maxConcurrency !== undefined ? { maxConcurrency: options.maxConcurrency } : {}) },
    );
  }

  /** Cold-start times of the stage's sandboxes (complete once stopped). */
  get initMs(): number[] {
    return this.pool.initMs;
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
        await this.invokeBatch([{ feed, records: feed.buffer.slice(0, want) }], deadline);
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
    const r = result as { recordsIn?: number; stateWrites?: number; dynamo?: Partial<EsmStats['dynamo']>; metrics?: Record<string, unknown> } | undefined;
    this.stats.recordsIn += r?.recordsIn ?? 0;
    this.stats.stateWrites += r?.stateWrites ?? 0;
    for (const k of ['writeRequests', 'readRequests', 'writeUnits', 'readUnits'] as const) this.stats.dynamo[k] += r?.dynamo?.[k] ?? 0;
    for (const [k, v] of Object.entries(r?.metrics ?? {})) if (typeof v === 'number' && !GAUGES.has(k)) this.stats.metrics[k] = (this.stats.metrics[k] ?? 0) + v;
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

  /**
   * Free mode: one worker per partition, batching window honoured for partial batches; its
   * event also carries what other partitions not in flight have buffered, up to batchSize.
   */
  private async drain(feed: PartitionFeed): Promise<void> {
    feed.busy = true;
    const batchSize = this.options.batchSize ?? 100;
    try {
      while (this.running && feed.buffer.length) {
        if (feed.buffer.length < batchSize) await batchingWindow(feed, batchSize, this.options.batchingWindowMs ?? 100);
        // Another worker's event took this partition's records meanwhile: they are delivered
        // once it settles; only what is left (if anything) is this worker's.
        if (feed.carried) {
          await feed.carried.catch(() => undefined);
          continue;
        }
        // Another worker's event carried and committed everything while this one waited out
        // the batching window: nothing is left (an empty part would commit offset undefined).
        if (!feed.buffer.length) break;
        const parts = [{ feed, records: feed.buffer.slice(0, batchSize) }];
        let room = batchSize - (parts[0] as Part).records.length;
        for (const f of this.options.routing !== 'pinned' ? this.feeds.values() : []) {
          if (room <= 0) break;
          if (f === feed || f.carried || !f.buffer.length) continue;
          parts.push({ feed: f, records: f.buffer.slice(0, room) });
          room -= Math.min(room, f.buffer.length);
        }
        await this.invokeBatch(parts);
      }
    } finally {
      feed.busy = false;
    }
  }

  /** Between retries: 20 ms doubling up to 2 s. */
  private backoffMs(attempt: number): number {
    return backoffDelay(attempt, { baseDelayMs: 20, maxDelayMs: 2000 });
  }

  /**
   * Invokes one event (a batch of each of `parts`' partitions) until it succeeds (or goes to
   * the on-failure topic), then commits it, marking its partitions carried meanwhile.
   * Past `deadline` it throws instead of retrying on: the batch is neither skipped nor committed.
   */
  private async invokeBatch(parts: readonly Part[], deadline = Number.POSITIVE_INFINITY): Promise<void> {
    let settle = (): void => undefined;
    const carried = new Promise<void>((done) => (settle = done));
    for (const p of parts) p.feed.carried = carried;
    try {
      await this.invokeAndCommit(parts, deadline);
    } finally {
      for (const p of parts) p.feed.carried = undefined;
      settle();
      // A partition carried by another's event may have had records fetched meanwhile, with no worker started for them.
      for (const p of parts) if (this.running && this.mode === 'free' && !p.feed.busy && p.feed.buffer.length) this.keepDraining(p.feed);
    }
  }

  private async invokeAndCommit(parts: readonly Part[], deadline: number): Promise<void> {
    const maxRetries = this.options.maxRetries ?? 10;
    const { feed } = parts[0] as Part;
    const id = `${feed.topic}/${feed.partition}`;
    const records = parts.flatMap((p) => p.records);
    const event = buildMskEvent(records, `arn:aws:kafka:local:000000000000:cluster/weir-local/${this.groupId}`);
    const partitions = parts.map((p) => ({ topic: p.feed.topic, partition: p.feed.partition, records: p.records.length }));
    for (let attempt = 0; ; attempt++) {
      this.stats.invocations++;
      const started = Date.now();
      const r = await this.pool.invoke(event, id);
      this.options.onInvocation?.({ stage: this.stage.id, kind: 'batch', topic: feed.topic, partition: feed.partition, partitions, records: records.length, sandbox: r.sandbox, durationMs: Date.now() - started, ...outcome(r) });
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
    // Stopped meanwhile: leave the offset uncommitted; the batch is delivered again next time.
    if (!this.running) return;
    const next = (p: Part): number => (p.records[p.records.length - 1] as KafkaRecord).offset + 1;
    // The commit is retried while Kafka restarts. kafkajs drops a commit silently while its
    // consumer restarts after a crash; that costs a redelivery at most, never a record: the
    // feed keeps its own committed offset, and a refetch from an older one is dropped above.
    await retryFor(
      async () => {
        const consumer = this.consumer;
        if (!consumer) throw new Error('the consumer is being replaced');
        await consumer.commitOffsets(parts.map((p) => ({ topic: p.feed.topic, partition: p.feed.partition, offset: String(next(p)) })));
      },
      { what: `stage ${this.stage.id}: committing ${partitions.map((p) => `${p.topic}/${p.partition}`).join(', ')}`, keepGoing: () => this.running },
    );
    for (const p of parts) committedPart(p, next(p));
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

/**
 * Metrics that are a level, not a count: stateBytes is the state the event's partitions hold
 * after it, so a sum over invocations means nothing (bench/weir-run.ts samples it per invocation).
 */
const GAUGES: ReadonlySet<string> = new Set<MetricName>(['stateBytes']);

function outcome(r: PoolInvocation): { result: unknown } | { error: unknown } {
  return r.ok ? { result: r.result } : { error: r.error };
}
