/**
 * Runs the pipeline's stage bundles behind the MSK trigger emulator in free mode (every
 * partition on its own, one invocation in flight per partition, as the MSK event source
 * mapping), against the local Kafka and DynamoDB Local, on topics and tables of its own.
 */
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import type { Admin, Kafka, Message } from 'kafkajs';
import { MultiBar, Presets } from 'cli-progress';
import type { Pipeline } from '../shared/api/pipeline';
import { ensureTables } from '../shared/adapters/dynamodb';
import type { StageBundle } from '../shared/build/bundle';
import { localDynamoClient } from '../shared/local/endpoints';
import { EsmEmulator, type EsmStats } from '../shared/local/esm/emulator';
import { BundleInvoker } from '../shared/local/esm/invoker';
import { localStageEnv } from '../shared/local/stage-env';
import type { PipelinePlan } from '../shared/plan/types';
import { failedTopicName } from '../shared/plan/names';
import { cpuBetween, cpuSnapshot, type CpuUse } from './cpu';
import { createTopics, endOffsets, readTopic, type ReadRecord } from './kafka';

export interface WeirEnv {
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly brokers: string;
  readonly dynamoEndpoint: string;
  readonly pipeline: Pipeline;
  readonly plan: PipelinePlan;
  readonly bundles: readonly StageBundle[];
}

export interface StageRunStats {
  readonly stage: string;
  readonly stats: EsmStats;
  /** Wall time of each invocation as the emulator saw it (IPC included; a cold start adds its load). */
  readonly invocationMs: number[];
  /** Batch invocations only: records per event. */
  readonly batchRecords: number[];
  /** Control invocations (init, final watermarks): wall time of each. */
  readonly controlMs: number[];
  readonly initMs: number[];
  /**
   * Largest state per partition an invocation reported: its `stateBytes` metric (the sum over
   * the keyed partitions of its event) over the partitions in the event. Exact when an event
   * holds one partition; the mean of the event's partitions otherwise.
   */
  readonly maxStateBytes: number;
}

/** One invocation as seen by the instrumented invoker. */
interface InvocationSample {
  readonly fn: string;
  readonly ms: number;
  readonly records: number;
  readonly control: boolean;
  readonly stateBytes: number;
}

let samples: InvocationSample[] | undefined;
let instrumented = false;

/**
 * Times every invocation of a stage bundle: wraps BundleInvoker.prototype.invoke (the class
 * the emulator instantiates), leaving its behaviour unchanged.
 */
function instrumentInvoker(): void {
  if (instrumented) return;
  instrumented = true;
  const original = BundleInvoker.prototype.invoke;
  BundleInvoker.prototype.invoke = async function (this: BundleInvoker, event: unknown): Promise<unknown> {
    const started = performance.now();
    let result: unknown;
    try {
      result = await original.call(this, event);
      return result;
    } finally {
      const ms = performance.now() - started;
      const fn = (this as unknown as { functionName: string }).functionName;
      const recs = (event as { records?: Record<string, unknown[]> }).records;
      const control = recs === undefined;
      const records = recs ? Object.values(recs).reduce((a, l) => a + l.length, 0) : 0;
      const stateBytes = ((result as { metrics?: { stateBytes?: number } } | undefined)?.metrics?.stateBytes ?? 0) / Math.max(1, recs ? Object.keys(recs).length : 1);
      samples?.push({ fn, ms, records, control, stateBytes });
    }
  };
}

/** A Kafka whose consumers report the time they first got records (the run's "first record read"). */
function watchedKafka(kafka: Kafka, onRecords: (at: number) => void): Kafka {
  const watched = Object.create(kafka) as Kafka;
  watched.consumer = (config) => {
    const consumer = kafka.consumer(config);
    const run = consumer.run.bind(consumer);
    consumer.run = (options) => {
      const eachBatch = options?.eachBatch;
      if (!eachBatch) return run(options);
      return run({
        ...options,
        eachBatch: async (payload) => {
          if (payload.batch.messages.length) onRecords(Date.now());
          return eachBatch(payload);
        },
      });
    };
    return consumer;
  };
  return watched;
}

export interface WeirRunOptions {
  readonly prefix: string;
  readonly batchSize: number;
  readonly batchingWindowMs: number;
  /** Fills the source topic once the stages run (paced run); otherwise the input is already there. */
  readonly feed?: (sourceTopic: string) => Promise<void>;
  /** Produces the bounded input before the stages start (peak run). */
  readonly preload?: (sourceTopic: string) => Promise<void>;
  readonly timeoutMs: number;
  readonly label: string;
  /** Expected source records (for the progress display). */
  readonly expectedRecords: number;
  readonly expectedWords: number;
  /** Runs another file instead of a stage's bundle (the profiler's wrapper, bench/profile.ts). */
  readonly bundleFile?: (stage: string, file: string) => string;
  /** Extra environment of the stage processes. */
  readonly env?: Readonly<Record<string, string>>;
}

export interface WeirRunResult {
  readonly prefix: string;
  readonly firstReadAt: number;
  readonly sourceDoneAt: number;
  readonly finishedAt: number;
  readonly results: ReadRecord[];
  readonly late: number;
  readonly dlq: number;
  readonly stages: StageRunStats[];
  readonly errors: string[];
  /** CPU of every process involved, from the stages' start until their sandboxes were stopped. */
  readonly cpu: CpuUse;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function physicalTopics(plan: PipelinePlan, prefix: string): { source: string; sink: string; late: string | undefined; dlq: string; repartition: string[] } {
  const sourceT = plan.topics.find((t) => t.role === 'source');
  const sinkT = plan.topics.find((t) => t.role === 'sink');
  if (!sourceT || !sinkT) throw new Error(`pipeline ${plan.pipeline}: the bench needs one source and one sink topic`);
  const lateT = plan.topics.find((t) => t.role === 'late');
  return {
    source: prefix + sourceT.name,
    sink: prefix + sinkT.name,
    late: lateT ? prefix + lateT.name : undefined,
    dlq: prefix + plan.dlqTopic,
    repartition: plan.topics.filter((t) => !['source', 'sink', 'late', 'dlq'].includes(t.role)).map((t) => t.name),
  };
}

/** Creates the run's topics (the sink with LogAppendTime) and tables. */
async function prepare(env: WeirEnv, prefix: string): Promise<{ state: string; progress: string }> {
  const { plan } = env;
  const sinkRoles = new Set(['sink', 'late']);
  await createTopics(env.admin, [
    ...plan.topics.map((t) => ({ topic: prefix + t.name, partitions: t.partitions, logAppendTime: sinkRoles.has(t.role) })),
    ...plan.stages.map((s) => ({ topic: prefix + failedTopicName(plan.pipeline, s.id), partitions: 1 })),
  ]);
  const tables = { state: prefix + plan.tables.state, progress: prefix + plan.tables.progress };
  const dynamo = localDynamoClient(env.dynamoEndpoint);
  try {
    await ensureTables(dynamo, tables);
  } finally {
    dynamo.destroy();
  }
  return tables;
}

/** The environment a stage function gets (as `weir run --local` gives it). */
export function stageEnv(env: WeirEnv, prefix: string, tables: { state: string; progress: string }): Record<string, string> {
  return localStageEnv({ brokers: env.brokers, prefix, tables, dynamoEndpoint: env.dynamoEndpoint, partitions: env.plan.topics.find((t) => t.role === 'source')?.partitions ?? 4 });
}

/**
 * One bounded run: (preload,) start every stage free running, (feed,) and once the source
 * stage has committed every input record of a partition, send that partition's final
 * watermark (`{weir:'finish'}`); done when every stage has committed everything upstream wrote.
 */
export async function runWeir(env: WeirEnv, o: WeirRunOptions): Promise<WeirRunResult> {
  instrumentInvoker();
  const { plan } = env;
  const topics = physicalTopics(plan, o.prefix);
  const tables = await prepare(env, o.prefix);
  if (o.preload) await o.preload(topics.source);
  const vars = { ...stageEnv(env, o.prefix, tables), ...o.env };
  const errors: string[] = [];
  let firstReadAt = 0;
  const sourceKafka = watchedKafka(env.kafka, (at) => {
    if (!firstReadAt) firstReadAt = at;
  });
  const emulators = plan.stages.map((s) => {
    const bundle = env.bundles.find((b) => b.stage === s.id);
    if (!bundle) throw new Error(`no bundle for stage ${s.id}`);
    const file = o.bundleFile ? o.bundleFile(s.id, bundle.file) : bundle.file;
    return new EsmEmulator(s.isSource ? sourceKafka : env.kafka, s, `${o.prefix}${s.id}`, file, vars, {
      batchSize: o.batchSize,
      batchingWindowMs: o.batchingWindowMs,
      maxRetries: 10,
      topicPrefix: o.prefix,
      onFailureTopic: o.prefix + failedTopicName(plan.pipeline, s.id),
      onError: (err) => errors.push(`${s.id}: ${err instanceof Error ? err.message : String(err)}`),
    });
  });
  const source = emulators.find((e) => e.stage.isSource);
  if (!source || emulators.filter((e) => e.stage.isSource).length !== 1) throw new Error('the bench drives pipelines with one source stage');
  const sourceName = plan.topics.find((t) => t.role === 'source')?.name as string;
  const partitions = plan.topics.find((t) => t.role === 'source')?.partitions ?? 4;
  const deadline = Date.now() + o.timeoutMs;
  const bars = new MultiBar(
    { format: `${o.label.padEnd(12)} {stage} [{bar}] {value}/{total} records | {invocations} invocations`, hideCursor: true, noTTYOutput: true, notTTYSchedule: 5000, clearOnComplete: false },
    Presets.shades_classic,
  );
  samples = [];
  const mine = samples;
  const stageBars = emulators.map((e) => bars.create(e.stage.isSource ? o.expectedRecords : o.expectedWords, 0, { stage: e.stage.id, invocations: 0 }));
  const refresh = (): void => emulators.forEach((e, i) => stageBars[i]?.update(e.stats.recordsIn, { invocations: e.stats.invocations }));
  let sourceDoneAt = 0;
  const cpuStart = cpuSnapshot();
  try {
    // One sandbox of the source stage (it also takes the final watermarks) is started before the clock runs.
    await source.control({ weir: 'init' });
    for (const e of [...emulators].reverse()) await e.start('free');
    const feeding = o.feed ? o.feed(topics.source) : Promise.resolve();
    let fed = false;
    void feeding.then(
      () => (fed = true),
      (err: unknown) => errors.push(`feed: ${String(err)}`),
    );
    // Source: final watermark of each partition once all its input is committed.
    const finished = new Set<number>();
    let ends: Map<number, number> | undefined;
    while (finished.size < partitions) {
      if (Date.now() > deadline) throw new Error(`${o.label}: source stage did not finish in ${o.timeoutMs} ms`);
      if (errors.length) throw new Error(`${o.label}: ${errors.join('; ')}`);
      if (fed && !ends) ends = await endOffsets(env.admin, topics.source);
      if (ends) {
        for (const [p, end] of ends) {
          if (!finished.has(p) && source.committed(sourceName, p) >= end) {
            await source.control({ weir: 'finish', topic: sourceName, partition: p });
            finished.add(p);
          }
        }
      }
      refresh();
      await sleep(10);
    }
    sourceDoneAt = Date.now();
    // Downstream stages: done when each has committed what its upstream wrote.
    for (const e of emulators.filter((x) => !x.stage.isSource)) {
      for (const t of e.stage.inputTopics) {
        const tEnds = await endOffsets(env.admin, o.prefix + t);
        for (;;) {
          if (Date.now() > deadline) throw new Error(`${o.label}: stage ${e.stage.id} did not finish in ${o.timeoutMs} ms`);
          if (errors.length) throw new Error(`${o.label}: ${errors.join('; ')}`);
          if ([...tEnds].every(([p, end]) => e.committed(t, p) >= end)) break;
          refresh();
          await sleep(10);
        }
      }
    }
    await feeding;
  } finally {
    refresh();
    bars.stop();
    await Promise.all(emulators.map((e) => e.stop()));
  }
  const finishedAt = Date.now();
  // The killed sandboxes are reaped (and their CPU time added to this process's children's) shortly.
  await sleep(500);
  const cpu = cpuBetween(cpuStart, { ...cpuSnapshot(), at: finishedAt }, cpus().length);
  const results = (await readTopic(env.kafka, topics.sink, await endOffsets(env.admin, topics.sink))).filter((r) => r.value !== null);
  const late = topics.late ? [...(await endOffsets(env.admin, topics.late)).values()].reduce((a, b) => a + b, 0) : 0;
  const dlq = [...(await endOffsets(env.admin, topics.dlq)).values()].reduce((a, b) => a + b, 0);
  const stages = emulators.map((e): StageRunStats => {
    const fn = `weir-${e.stage.id}`;
    const mineFn = mine.filter((s) => s.fn === fn);
    return {
      stage: e.stage.id,
      stats: e.stats,
      invocationMs: mineFn.filter((s) => !s.control).map((s) => s.ms),
      batchRecords: mineFn.filter((s) => !s.control).map((s) => s.records),
      controlMs: mineFn.filter((s) => s.control).map((s) => s.ms),
      initMs: [...e.initMs],
      maxStateBytes: mineFn.reduce((m, s) => Math.max(m, s.stateBytes), 0),
    };
  });
  samples = undefined;
  return { prefix: o.prefix, firstReadAt, sourceDoneAt, finishedAt, results, late, dlq, stages, errors, cpu };
}

/** Produces lines at `rate` per second for `seconds`, event time = wall clock, round-robin over partitions. */
export function pacedFeed(kafka: Kafka, partitions: number, rate: number, seconds: number, nextLine: () => string, onStart: (at: number) => void, onEnd: (at: number, lines: number) => void): (topic: string) => Promise<void> {
  return async (topic) => {
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      const started = Date.now();
      onStart(started);
      let sent = 0;
      let p = 0;
      for (;;) {
        const now = Date.now();
        const elapsed = (now - started) / 1000;
        if (elapsed >= seconds) break;
        const due = Math.floor(rate * elapsed) - sent;
        if (due > 0) {
          const messages: Message[] = [];
          for (let i = 0; i < due; i++) {
            messages.push({ partition: p, value: nextLine(), timestamp: String(Date.now()) });
            p = (p + 1) % partitions;
          }
          await producer.send({ topic, acks: -1, messages });
          sent += due;
        }
        await sleep(20);
      }
      onEnd(Date.now(), sent);
    } finally {
      await producer.disconnect();
    }
  };
}

/** Deletes the run's topics and tables (DynamoDB Local keeps tables in memory). */
export async function cleanup(env: WeirEnv, prefix: string): Promise<void> {
  const topics = (await env.admin.listTopics()).filter((t) => t.startsWith(prefix));
  if (topics.length) await env.admin.deleteTopics({ topics, timeout: 30_000 }).catch(() => undefined);
  const dynamo = localDynamoClient(env.dynamoEndpoint);
  try {
    for (const t of [env.plan.tables.state, env.plan.tables.progress]) await dynamo.send(new DeleteTableCommand({ TableName: prefix + t })).catch(() => undefined);
  } finally {
    dynamo.destroy();
  }
}
