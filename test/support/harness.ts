import type { Pipeline } from '../../shared/api';
import { MemoryBroker } from '../../shared/adapters/memory/memory-broker';
import { MemorySinkWriter } from '../../shared/adapters/memory/memory-sinks';
import { MemoryCommitLog, MemoryProgressStore } from '../../shared/adapters/memory/memory-commit-log';
import { planPipeline } from '../../shared/plan/planner';
import type { PipelinePlan } from '../../shared/plan/types';
import { StageExecutor, type FaultHook } from '../../shared/runtime/executor';
import { buildMskEvent, type KafkaRecord } from '../../shared/runtime/msk-event';
import type { MetricName } from '../../shared/runtime/ports';
import { H_MARKER } from '../../shared/runtime/wire';

/**
 * Drives stage executors by hand over in-memory ports, like Flink's operator test harness:
 * append input, deliver a stage's pending records, tick, inspect outputs.
 */
export class Harness {
  readonly plan: PipelinePlan;
  readonly broker = new MemoryBroker();
  readonly progress = new MemoryProgressStore();
  readonly log = new MemoryCommitLog();
  readonly sinks = new MemorySinkWriter();
  readonly metrics: Partial<Record<MetricName, number>> = {};
  now = 0;
  fault?: FaultHook;
  private readonly committed = new Map<string, number>();

  constructor(
    readonly pipeline: Pipeline,
    partitions = 2,
  ) {
    this.plan = planPipeline(pipeline, { defaultPartitions: partitions });
    for (const t of this.plan.topics) this.broker.createTopic(t.name, t.partitions);
  }

  executor(stageId: string): StageExecutor {
    return new StageExecutor(
      this.pipeline,
      this.plan,
      stageId,
      {
        producer: this.broker,
        log: this.log,
        progress: this.progress,
        sinks: this.sinks,
        clock: { now: () => this.now },
        metrics: { count: (n, v = 1) => void (this.metrics[n] = (this.metrics[n] ?? 0) + v) },
      },
      (point, info) => this.fault?.(point, info),
    );
  }

  produce(topic: string, partition: number, timestamp: number, value: string | null, key: string | null = null): void {
    this.broker.append({ topic, partition, key: key === null ? null : Buffer.from(key), value: value === null ? null : Buffer.from(value), timestamp, headers: {} });
  }

  /** Delivers everything pending on the stage's inputs, one event per partition, committing after success. */
  async deliver(stageId: string, batchSize = 100, ex: StageExecutor = this.executor(stageId)): Promise<number> {
    let n = 0;
    for (const topic of ex.stage.inputTopics) {
      for (let p = 0; p < this.broker.partitions(topic); p++) {
        for (;;) {
          const id = `${stageId}/${topic}/${p}`;
          const batch = this.broker.read(topic, p, this.committed.get(id) ?? 0, batchSize);
          if (!batch.length) break;
          await ex.handle(buildMskEvent(batch));
          this.committed.set(id, (batch[batch.length - 1] as KafkaRecord).offset + 1);
          n += batch.length;
        }
      }
    }
    return n;
  }

  /** Data records of a topic (markers left out), decoded as text. */
  records(topic: string): Array<{ partition: number; key: string | null; value: string | null; timestamp: number; headers: Record<string, string> }> {
    const out = [];
    for (let p = 0; p < this.broker.partitions(topic); p++) {
      for (const r of this.broker.all(topic, p)) {
        if (r.headers[H_MARKER] !== undefined) continue;
        out.push({ partition: p, key: r.key?.toString() ?? null, value: r.value?.toString() ?? null, timestamp: r.timestamp, headers: { ...r.headers } });
      }
    }
    return out;
  }

  values(topic: string): unknown[] {
    return this.records(topic).map((r) => (r.value === null ? null : JSON.parse(r.value)));
  }
}
