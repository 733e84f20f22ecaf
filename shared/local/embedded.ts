import { functionSinksOf } from '../runtime/function-sinks';
import type { Pipeline } from '../api/pipeline';
import { planPipeline } from '../plan/planner';
import type { PipelinePlan } from '../plan/types';
import { MemoryBroker } from '../adapters/memory/memory-broker';
import { MemorySinkWriter } from '../adapters/memory/memory-sinks';
import { MemoryCommitLog, MemoryProgressStore } from '../adapters/memory/memory-commit-log';
import { ConfigError, WeirError } from '../runtime/errors';
import { StageExecutor } from '../runtime/executor';
import { buildMskEvent, type KafkaRecord } from '../runtime/msk-event';
import type { MetricName } from '../runtime/ports';
import { Chaos, prng, type ChaosStats } from './chaos';
import { placeInput, type InputRecord } from './input-file';
import { sinkRowToOutput, toOutputRecord, type OutputRecord } from './output-file';

export interface EmbeddedOptions {
  /** Partitions of source, repartition and sink topics. @default 4 */
  readonly partitions?: number;
  /** Records per partition per invocation, as the ESM's BatchSize. @default 100 */
  readonly batchSize?: number;
  /** Seed of a chaos run; absent means no faults. */
  readonly chaos?: number;
  /** Called as stages progress, for a progress display. */
  readonly onProgress?: (event: { stage: string; done: number; total: number }) => void;
}

export interface EmbeddedResult {
  readonly plan: PipelinePlan;
  readonly outputs: OutputRecord[];
  readonly metrics: Record<MetricName, number>;
  readonly invocations: number;
  readonly stateWrites: number;
  /** DynamoDB write requests the same run would make: log entries, snapshots, progress. */
  readonly writeRequests: number;
  readonly chaos?: ChaosStats;
}

const MAX_ATTEMPTS = 20;
const ENVIRONMENTS_UNDER_CHAOS = 3;

/**
 * Runs every stage of a pipeline in this process over in-memory topics and state,
 * through the same stage executor a Lambda runs, on a bounded input: each stage is
 * drained in turn, source partitions end with a final watermark, and every window fires.
 */
export async function runEmbedded(p: Pipeline, input: readonly InputRecord[], options: EmbeddedOptions = {}): Promise<EmbeddedResult> {
  const partitions = options.partitions ?? 4;
  const batchSize = options.batchSize ?? 100;
  if (!(Number.isInteger(batchSize) && batchSize > 0)) throw new ConfigError(`--batch-size must be a positive integer, got ${batchSize}`);
  const plan = planPipeline(p, { defaultPartitions: partitions });
  const broker = new MemoryBroker();
  for (const t of plan.topics) broker.createTopic(t.name, t.partitions);

  const sourceTopics = plan.topics.filter((t) => t.role === 'source').map((t) => t.name);
  for (const r of placeInput(p.name, input, sourceTopics, (t) => broker.partitions(t), plan.limits.maxMessageBytes)) {
    broker.append({ ...r, headers: {} });
  }

  let clock = Number.NEGATIVE_INFINITY;
  const chaos = options.chaos !== undefined ? new Chaos(options.chaos) : undefined;
  const progress = new MemoryProgressStore();
  const log = new MemoryCommitLog();
  const fnSinks = functionSinksOf(p);
  const sinks = new MemorySinkWriter(fnSinks);
  const metrics = {} as Record<MetricName, number>;
  const ports = {
    producer: chaos ? chaos.producer(broker) : broker,
    log: chaos ? chaos.commitLog(log) : log,
    progress,
    sinks,
    clock: { now: () => clock },
    metrics: { count: (name: MetricName, v = 1) => void (metrics[name] = (metrics[name] ?? 0) + v) },
    // Under chaos, snapshots as soon as the log outgrows the state, so restores from them (and
    // crashes while writing them) happen in every chaos run, not only past 64 KB of commits.
    ...(chaos ? { snapshots: { minLogBytes: 0 } } : {}),
  };
  // A chaos run gives each stage several environments and routes every invocation to one
  // of them at random, as Lambda does: a partition's next batch often lands where its state
  // is stale, and the environment must catch up from the log.
  const environments = chaos ? ENVIRONMENTS_UNDER_CHAOS : 1;
  const route = prng((options.chaos ?? 0) ^ 0x5eed);
  const pools = plan.stages.map((s) => Array.from({ length: environments }, () => new StageExecutor(p, plan, s.id, ports, chaos?.hook)));
  // Each stage's first environment also takes the ends of its sources and the ticks.
  const executors = pools.map((pool) => pool[0] as StageExecutor);
  const committed = new Map<string, number>();
  let invocations = 0;

  const invoke = async (pool: readonly StageExecutor[], batch: KafkaRecord[]): Promise<void> => {
    const id = batch.map((r) => `${r.topic}-${r.partition}@${r.offset}`).join(',');
    for (let attempt = 1; ; attempt++) {
      chaos?.begin(id);
      invocations++;
      try {
        await (pool[Math.floor(route() * pool.length)] as StageExecutor).handle(buildMskEvent(batch));
        return;
      } catch (err) {
        const retriable = err instanceof WeirError && err.retriable;
        if (!retriable || attempt >= MAX_ATTEMPTS) throw err;
      }
    }
  };

  for (const [i, ex] of executors.entries()) {
    const pool = pools[i] as StageExecutor[];
    const stage = ex.stage;
    const tps = stage.inputTopics.flatMap((t) => Array.from({ length: broker.partitions(t) }, (_, q) => ({ topic: t, partition: q })));
    const total = tps.reduce((a, tp) => a + broker.endOffset(tp.topic, tp.partition), 0);
    let done = 0;
    const finished = new Set<string>();
    for (;;) {
      const batch: KafkaRecord[] = [];
      for (const tp of tps) {
        const at = committed.get(`${stage.id}/${tp.topic}/${tp.partition}`) ?? 0;
        batch.push(...broker.read(tp.topic, tp.partition, at, batchSize));
      }
      if (batch.length === 0 && finished.size === tps.length) break;
      if (batch.length) {
        const maxTs = Math.max(...batch.map((r) => r.timestamp));
        if (stage.isSource) clock = Math.max(clock, maxTs);
        // One event per partition, in partition order, so that retries do not reorder what
        // different partitions write into a shared topic: a retried run interleaves exactly as a calm one.
        for (const part of groupByPartition(batch)) {
          await invoke(pool, part);
          while (chaos?.redeliver()) await invoke(pool, part);
        }
        for (const r of batch) committed.set(`${stage.id}/${r.topic}/${r.partition}`, r.offset + 1);
        done += batch.length;
        options.onProgress?.({ stage: stage.id, done, total });
      }
      if (stage.isSource) {
        for (const tp of tps) {
          const id = `${tp.topic}/${tp.partition}`;
          const at = committed.get(`${stage.id}/${id}`) ?? 0;
          if (!finished.has(id) && at >= broker.endOffset(tp.topic, tp.partition)) {
            await ex.finishSource(tp.topic, tp.partition);
            finished.add(id);
          }
        }
        for (const other of executors) if (other.needsTicks()) await other.tick((t) => broker.partitions(t));
      } else if (batch.length === 0) {
        for (const tp of tps) finished.add(`${tp.topic}/${tp.partition}`);
      }
    }
  }

  const outputs: OutputRecord[] = [];
  for (const t of plan.topics) {
    if (t.role !== 'sink' && t.role !== 'late' && t.role !== 'dlq') continue;
    for (let q = 0; q < t.partitions; q++) for (const r of broker.all(t.name, q)) outputs.push(toOutputRecord(plan, r));
  }
  for (const row of sinks.log) outputs.push(sinkRowToOutput(fnSinks.has(row.sink) ? 'function' : 'dynamodb', row));
  return { plan, outputs, metrics, invocations, stateWrites: metrics.stateWrites ?? 0, writeRequests: log.stats.appends + log.stats.snapshots + progress.writes, ...(chaos ? { chaos: chaos.stats } : {}) };
}

function groupByPartition(batch: readonly KafkaRecord[]): KafkaRecord[][] {
  const groups = new Map<string, KafkaRecord[]>();
  for (const r of batch) {
    const id = `${r.topic}-${r.partition}`;
    const g = groups.get(id);
    if (g) g.push(r);
    else groups.set(id, [r]);
  }
  return [...groups.values()];
}
