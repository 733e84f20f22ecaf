import { localBrokers, localDynamoClient, localDynamoEndpoint } from './endpoints';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import type { Kafka } from 'kafkajs';
import type { Pipeline } from '../api/pipeline';
import { ensureTables } from '../adapters/dynamodb';
import { createKafka } from '../adapters/kafka/kafka-config';
import { KafkaProducer } from '../adapters/kafka/kafka-producer';
import { bundlePipeline, type StageBundle } from '../build/bundle';
import { failedTopicName } from '../plan/names';
import { planPipeline } from '../plan/planner';
import type { PipelinePlan } from '../plan/types';
import { ConfigError, describeError } from '../runtime/errors';
import { stageNeedsTicks } from '../runtime/executor';
import type { KafkaRecord } from '../runtime/msk-event';
import { prng } from './chaos';
import { EsmEmulator, type EsmOptions, type InvocationReport } from './esm/emulator';
import { endOffsets, readUpTo } from './read-topics';
import { localStageEnv } from './stage-env';
import { placeInput, type InputRecord } from './input-file';
import { toOutputRecord, type OutputRecord } from './output-file';
import { ReplayClock } from './replay-clock';
import { retryFor } from './retry';

export interface LocalRunOptions {
  readonly partitions?: number;
  readonly batchSize?: number;
  readonly chaos?: number;
  readonly brokers?: string;
  readonly dynamoEndpoint?: string;
  /** Names topics and tables of this run; fresh per run by default. */
  readonly runId?: string;
  /** Give up waiting for the pipeline to settle after this long. @default 300 s */
  readonly timeoutMs?: number;
  readonly onProgress?: (line: string) => void;
  /**
   * Called after each batch the lockstep schedule has delivered (and committed), with the
   * stage and the number of batches delivered so far in this run, all stages together. The
   * run waits for it before the next batch: a fault test uses it to break a service at a
   * known point of the schedule.
   */
  readonly onInvocation?: (stage: string, count: number) => Promise<void> | void;
  /** Emulator settings over the run's own (fault tests: invocation timeout, retries, redelivery). */
  readonly esm?: Partial<EsmOptions>;
  /** Extra environment of every stage process (fault tests). */
  readonly stageEnv?: Readonly<Record<string, string>>;
}

export interface LocalRunResult {
  readonly plan: PipelinePlan;
  readonly outputs: OutputRecord[];
  readonly runId: string;
  readonly bundles: StageBundle[];
  readonly invocations: number;
  readonly stateWrites: number;
  /** DynamoDB usage of every invocation, as DynamoDB (Local) reported it. */
  readonly dynamo: { writeRequests: number; readRequests: number; writeUnits: number; readUnits: number };
  readonly redeliveries: number;
  /** Failed invocations (each retried, or its batch sent to the on-failure topic). */
  readonly failures: number;
  /** The first few distinct messages of failed invocations, for the summary. */
  readonly failureMessages: readonly string[];
  /** Per stage, the records that went to its on-failure topic after the retries ran out. */
  readonly onFailure: readonly OnFailureTally[];
  readonly initMs: number[];
}

export interface OnFailureTally {
  readonly stage: string;
  /** The topic's name on the broker (with the run's prefix). */
  readonly topic: string;
  readonly records: number;
}

/** Enough distinct messages to tell one failure from several, few enough for a summary. */
const FAILURE_MESSAGES_KEPT = 3;


/**
 * Retries of a failing batch: 20 ms doubling up to 2 s, 30 times, i.e. about 50 s of backoff
 * plus the attempts themselves, so a batch outlives a restart of Kafka (10-15 s after a
 * SIGKILL) or DynamoDB Local instead of going to the on-failure topic, which would change
 * the results.
 */
const LOCAL_MAX_RETRIES = 30;

/**
 * Records carry their event time as Kafka timestamp, often long past (test data is from
 * 2023): with a time-based retention the broker deletes them at its next retention check
 * (every 5 min, and 30 s after a broker restart), in the middle of a run. Keep them.
 */
const KEEP_RECORDS = [{ name: 'retention.ms', value: '-1' }];

/**
 * Runs a pipeline against the local Kafka broker and DynamoDB Local through the MSK trigger
 * emulator and the built stage bundles, over a bounded input (Flink's bounded Kafka
 * source: stop at the end offsets seen at start, then the final watermark).
 */
export async function runLocal(p: Pipeline, pipelineFile: string, input: readonly InputRecord[], options: LocalRunOptions = {}): Promise<LocalRunResult> {
  const say = options.onProgress ?? (() => undefined);
  const partitions = options.partitions ?? 4;
  const brokers = options.brokers ?? localBrokers();
  const dynamoEndpoint = options.dynamoEndpoint ?? localDynamoEndpoint();
  const runId = options.runId ?? randomBytes(4).toString('hex');
  const prefix = `weir-${runId}-`;
  const plan = planPipeline(p, { defaultPartitions: partitions });
  /** A stage's on-failure topic, as this run names it on the broker. */
  const onFailureTopic = (stage: string): string => prefix + failedTopicName(plan.pipeline, stage);
  const kafka = createKafka({ brokers: brokers.split(','), clientId: `weir-run-${runId}` });
  const admin = kafka.admin();
  try {
    await admin.connect();
  } catch (err) {
    throw new ConfigError(`cannot reach Kafka at ${brokers} (${(err as Error).message}); start the local services with \`npm run local:up\``);
  }
  const dynamo = localDynamoClient(dynamoEndpoint);
  const producer = new KafkaProducer(kafka, prefix, plan.limits.maxMessageBytes);
  const emulators: EsmEmulator[] = [];
  const failureProducer = kafka.producer();
  let disposeClock = (): void => undefined;
  try {
    say(`creating ${plan.topics.length} topics (prefix ${prefix}) and 2 tables`);
    // The topics take what the pipeline says its records may be (maxMessageBytes), as a deployment must configure them.
    const topicConfig = [...KEEP_RECORDS, { name: 'max.message.bytes', value: String(plan.limits.maxMessageBytes) }];
    await admin.createTopics({ waitForLeaders: true, topics: plan.topics.map((t) => ({ topic: prefix + t.name, numPartitions: t.partitions, replicationFactor: 1, configEntries: topicConfig })) });
    const tables = { state: prefix + plan.tables.state, progress: prefix + plan.tables.progress };
    try {
      await ensureTables(dynamo, tables);
    } catch (err) {
      throw new ConfigError(`cannot reach DynamoDB Local at ${dynamoEndpoint} (${(err as Error).message}); start the local services with \`npm run local:up\``);
    }

    const sourceTopics = plan.topics.filter((t) => t.role === 'source').map((t) => t.name);
    const placed = placeInput(p.name, input, sourceTopics, (t) => plan.topics.find((x) => x.name === t)?.partitions ?? partitions, plan.limits.maxMessageBytes);
    for (let i = 0; i < placed.length; i += 1000) {
      await producer.send(placed.slice(i, i + 1000).map((r) => ({ ...r, headers: {} })));
      say(`produced ${Math.min(i + 1000, placed.length)}/${placed.length} input records`);
    }

    const clock = new ReplayClock(placed);
    disposeClock = () => clock.dispose();
    say('bundling stage functions with esbuild');
    const bundles = await bundlePipeline(p, pipelineFile, { outDir: resolve('build'), partitions });
    const env = { ...localStageEnv({ brokers, prefix, tables, dynamoEndpoint, partitions, replayClockFile: clock.file, ...(options.chaos !== undefined ? { chaos: options.chaos } : {}) }), ...options.stageEnv };
    await failureProducer.connect();
    const rand = options.chaos !== undefined ? prng(options.chaos) : undefined;
    const batchSize = options.esm?.batchSize ?? options.batchSize ?? 100;
    const failureMessages = new Set<string>();
    const observe = options.esm?.onInvocation;
    const onInvocation = (r: InvocationReport): void => {
      if (r.error !== undefined && failureMessages.size < FAILURE_MESSAGES_KEPT) failureMessages.add(describeError(r.error));
      observe?.(r);
    };
    for (const s of plan.stages) {
      const b = bundles.find((x) => x.stage === s.id) as StageBundle;
      emulators.push(
        new EsmEmulator(kafka, s, `${prefix}${s.id}`, b.file, env, {
          batchSize,
          maxRetries: LOCAL_MAX_RETRIES,
          topicPrefix: prefix,
          onFailureTopic: onFailureTopic(s.id),
          ...(rand ? { rand, redeliverRate: 0.1 } : {}),
          ...options.esm,
          onInvocation,
        }, failureProducer),
      );
    }
    await admin.createTopics({ topics: plan.stages.map((s) => ({ topic: onFailureTopic(s.id), numPartitions: 1, replicationFactor: 1, configEntries: KEEP_RECORDS })) });
    // Stage by stage, partition batches round-robin, as the embedded runtime does: the same
    // schedule gives the same output, even for running aggregates over several partitions.
    const deadline = Date.now() + (options.timeoutMs ?? 300_000);
    const ends = (topic: string): Promise<Map<number, number>> => retryFor(() => endOffsets(admin, prefix + topic), { what: `end offsets of ${prefix + topic}` });
    let batches = 0;
    const ticking = emulators.filter((e) => stageNeedsTicks(e.stage, p.nodes()));
    for (const e of emulators) {
      say(`stage ${e.stage.id}: starting its MSK trigger emulator`);
      await e.start('lockstep');
      const tps: Array<{ topic: string; partition: number; end: number }> = [];
      for (const t of e.stage.inputTopics) for (const [q, end] of await ends(t)) tps.push({ topic: t, partition: q, end });
      tps.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
      const total = tps.reduce((a, x) => a + x.end, 0);
      const finished = new Set<string>();
      let last = 0;
      for (;;) {
        if (Date.now() > deadline) throw new ConfigError(`local run ${runId}: stage ${e.stage.id} did not finish in time; see .local/logs for the services`);
        let delivered = false;
        if (e.stage.isSource) clock.advance(tps.map((tp) => ({ ...tp, committed: e.committed(tp.topic, tp.partition) })), batchSize);
        for (const tp of tps) {
          if (!(await e.deliverNext(tp.topic, tp.partition, tp.end, deadline))) continue;
          delivered = true;
          await options.onInvocation?.(e.stage.id, ++batches);
        }
        if (e.stage.isSource) {
          for (const tp of tps) {
            const id = `${tp.topic}/${tp.partition}`;
            if (!finished.has(id) && e.committed(tp.topic, tp.partition) >= tp.end) {
              await e.control({ weir: 'finish', topic: tp.topic, partition: tp.partition });
              finished.add(id);
            }
          }
          for (const t of ticking) await t.control({ weir: 'tick' });
        }
        if (Date.now() - last > 2000 || !delivered) {
          const done = tps.reduce((a, tp) => a + Math.min(tp.end, e.committed(tp.topic, tp.partition)), 0);
          say(`stage ${e.stage.id}: ${done}/${total} records, ${e.stats.invocations} invocations`);
          last = Date.now();
        }
        if (!delivered && (!e.stage.isSource || finished.size === tps.length)) break;
      }
      await e.stop();
    }

    const outputs = await readOutputs(kafka, plan, prefix, deadline, await Promise.all(plan.topics.filter((t) => ['sink', 'late', 'dlq'].includes(t.role)).map(async (t) => [t.name, await ends(t.name)] as const)));
    const stats = emulators.map((e) => e.stats);
    return {
      plan,
      outputs,
      runId,
      bundles,
      invocations: stats.reduce((a, s) => a + s.invocations, 0),
      stateWrites: stats.reduce((a, s) => a + s.stateWrites, 0),
      dynamo: {
        writeRequests: stats.reduce((a, s) => a + s.dynamo.writeRequests, 0),
        readRequests: stats.reduce((a, s) => a + s.dynamo.readRequests, 0),
        writeUnits: stats.reduce((a, s) => a + s.dynamo.writeUnits, 0),
        readUnits: stats.reduce((a, s) => a + s.dynamo.readUnits, 0),
      },
      redeliveries: stats.reduce((a, s) => a + s.redeliveries, 0),
      failures: stats.reduce((a, s) => a + s.failures, 0),
      failureMessages: [...failureMessages],
      onFailure: emulators.map((e) => ({ stage: e.stage.id, topic: onFailureTopic(e.stage.id), records: e.stats.toOnFailure })),
      initMs: emulators.flatMap((e) => e.initMs),
    };
  } finally {
    await Promise.all(emulators.map((e) => e.stop()));
    await producer.disconnect().catch(() => undefined);
    await failureProducer.disconnect().catch(() => undefined);
    disposeClock();
    await admin.disconnect().catch(() => undefined);
    dynamo.destroy();
  }
}

/** Reads the sink, late and DLQ topics from the start to the end offsets seen. */
async function readOutputs(kafka: Kafka, plan: PipelinePlan, prefix: string, deadline: number, ends: ReadonlyArray<readonly [string, Map<number, number>]>): Promise<OutputRecord[]> {
  const physical = new Map(ends.map(([t, m]) => [prefix + t, m]));
  const got = new Map<string, KafkaRecord[]>();
  for (const r of await readUpTo(kafka, physical, { timeoutMs: Math.max(1000, deadline - Date.now()), what: 'reading the outputs', groupId: `${prefix}reader` })) {
    const logical = r.topic.slice(prefix.length);
    const key = `${logical}/${r.partition}`;
    let list = got.get(key);
    if (!list) got.set(key, (list = []));
    list.push({ ...r, topic: logical });
  }
  const out: OutputRecord[] = [];
  for (const t of plan.topics) {
    for (let q = 0; q < t.partitions; q++) for (const r of got.get(`${t.name}/${q}`) ?? []) out.push(toOutputRecord(plan, r));
  }
  return out;
}
