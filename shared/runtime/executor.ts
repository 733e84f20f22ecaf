import type { GraphNode } from '../api/graph';
import type { Pipeline } from '../api/pipeline';
import type { PipelinePlan, StagePlan } from '../plan/types';
import { laneId } from '../plan/types';
import { ConfigError } from './errors';
import { decodeMskRecord, type KafkaRecord, type MskEvent } from './msk-event';
import type { KeyedOperator } from './operators/keyed-operator';
import { processOperator } from './operators/process-operator';
import { runningOperator } from './operators/running-operator';
import { windowOperator } from './operators/window-operator';
import { Outputs } from './outputs';
import { LARGE_STATE_BYTES, type Clock, type Metrics, type MetricName, type ProgressStore, type Producer, type SinkWriter, type StateStore } from './ports';
import { parseProgress, toJson, type Progress } from './progress';
import { StageRouter } from './router';
import { markerTimestamp, runSourceBatch } from './source-batch';
import { progressScope, stateScope } from './scopes';
import { runShuffleBatch, stageHasProcessingTimers } from './shuffle-batch';
import { encodeMarker, H_MARKER } from './wire';

export interface ExecutorPorts {
  readonly producer: Producer;
  readonly state: StateStore;
  readonly progress: ProgressStore;
  readonly sinks: SinkWriter;
  readonly clock: Clock;
  readonly metrics?: Metrics;
}

/** Where a chaos run may crash an invocation; the executor calls it at each point. */
export type CrashPoint = 'before-produce' | 'after-produce' | 'after-sinks' | 'after-state-write' | 'after-progress';
export type FaultHook = (point: CrashPoint, info: { stage: string; topic: string; partition: number; firstOffset: number }) => void;

export interface BatchReport {
  readonly partitions: number;
  readonly recordsIn: number;
  readonly skippedBatches: number;
  readonly stateWrites: number;
}

/**
 * Runs one stage of a pipeline on MSK-shaped batches (DESIGN.md section 4). Per partition:
 * compute in memory -> produce outputs (acked) -> sinks -> timer index adds -> key writes
 * (version-conditioned) -> timer index removals -> progress. A crash anywhere leaves a
 * state from which the same batch, delivered again, yields the same results.
 */
export class StageExecutor {
  readonly stage: StagePlan;
  private readonly router: StageRouter;
  private readonly operators = new Map<number, KeyedOperator>();

  constructor(
    readonly pipeline: Pipeline,
    readonly plan: PipelinePlan,
    stageId: string,
    private readonly ports: ExecutorPorts,
    private readonly fault?: FaultHook,
  ) {
    const stage = plan.stages.find((s) => s.id === stageId);
    if (!stage) throw new ConfigError(`stage "${stageId}" is not in pipeline "${plan.pipeline}"; its stages are ${plan.stages.map((s) => s.id).join(', ')}`);
    this.stage = stage;
    this.router = new StageRouter(plan, stage, pipeline.nodes());
    for (const id of stage.nodeIds) {
      const n = this.router.node(id);
      if (n.kind === 'window') this.operators.set(id, windowOperator(n, stage.id));
      else if (n.kind === 'running') this.operators.set(id, runningOperator(n));
      else if (n.kind === 'process') this.operators.set(id, processOperator(n, stage.id));
    }
  }

  /** Handles one Lambda invocation; resolves after outputs, state and progress are durable. */
  async handle(event: MskEvent): Promise<BatchReport> {
    const groups = Object.values(event.records ?? {});
    const results = await Promise.all(groups.map((g) => this.handlePartition(g.map(decodeMskRecord))));
    return {
      partitions: groups.length,
      recordsIn: results.reduce((a, r) => a + r.recordsIn, 0),
      skippedBatches: results.filter((r) => r.skipped).length,
      stateWrites: results.reduce((a, r) => a + r.stateWrites, 0),
    };
  }

  /**
   * End of a bounded source partition: a final watermark (+inf) on its lane, so every
   * window downstream fires. Idempotent.
   */
  async finishSource(topic: string, partition: number): Promise<void> {
    this.requireSourceTopic(topic);
    await this.sendMarker(topic, partition, Infinity, false);
    const scope = this.progressScope(topic, partition);
    const progress = parseProgress(await this.ports.progress.get(scope));
    await this.ports.progress.put(scope, toJson({ ...progress, emitted: { wm: Infinity, idle: false } }));
  }

  /** Whether the ticker has work here: idle detection for sources, processing time for timers. */
  needsTicks(): boolean {
    return stageNeedsTicks(this.stage, this.pipeline.nodes());
  }

  /**
   * The ticker: marks source partitions idle after their idleness timeout, and stamps
   * processing time into this stage's own input so processing-time timers fire. It only
   * writes markers, never state.
   */
  async tick(partitionsOf: (topic: string) => number): Promise<void> {
    const now = this.ports.clock.now();
    if (this.stage.isSource) {
      for (const topic of this.stage.inputTopics) {
        const source = this.sourceNode(topic);
        const idle = source.source.eventTime?.idleTimeoutMs;
        if (idle === undefined) continue;
        for (let p = 0; p < partitionsOf(topic); p++) {
          const progress = parseProgress(await this.ports.progress.get(this.progressScope(topic, p)));
          if (progress.emitted.wm === Infinity || progress.lastActivity + idle > now) continue;
          await this.sendMarker(topic, p, idleWatermark(progress.emitted.wm, progress.lastActivity, now), true);
        }
      }
      return;
    }
    const topic = this.stage.inputTopics[0] as string;
    const records = Array.from({ length: partitionsOf(topic) }, (_, p) => ({
      topic,
      partition: p,
      key: null,
      value: null,
      timestamp: markerTimestamp(-Infinity, now),
      headers: { [H_MARKER]: encodeMarker({ lane: 'tick', wm: -Infinity, idle: true, now }) },
    }));
    await this.ports.producer.send(records);
  }

  private async sendMarker(topic: string, partition: number, wm: number, idle: boolean): Promise<void> {
    const out = new Outputs(laneId(this.stage.id, topic, partition), partition, this.plan.dlqTopic);
    const now = this.ports.clock.now();
    out.markers(this.stage.outputs, { lane: laneId(this.stage.id, topic, partition), wm, idle, now }, markerTimestamp(wm, now));
    if (out.records.length) await this.ports.producer.send(out.records);
  }

  private requireSourceTopic(topic: string): void {
    if (!this.stage.isSource || !this.stage.inputTopics.includes(topic)) {
      throw new ConfigError(`stage ${this.stage.id} does not read source topic "${topic}"`);
    }
  }

  private sourceNode(topic: string): Extract<GraphNode, { kind: 'source' }> {
    for (const id of this.stage.nodeIds) {
      const n = this.router.node(id);
      if (n.kind === 'source' && n.source.topic === topic) return n;
    }
    throw new ConfigError(`stage ${this.stage.id} has no source for topic "${topic}"`);
  }

  private progressScope(topic: string, partition: number): string {
    return progressScope(this.plan.pipeline, this.stage.id, topic, partition);
  }

  private count(name: MetricName, value = 1): void {
    if (value) this.ports.metrics?.count(name, value);
  }

  private async handlePartition(all: KafkaRecord[]): Promise<{ recordsIn: number; skipped: boolean; stateWrites: number }> {
    const first = all[0];
    if (!first) return { recordsIn: 0, skipped: false, stateWrites: 0 };
    const { topic, partition } = first;
    if (!this.stage.inputTopics.includes(topic)) {
      throw new ConfigError(`stage ${this.stage.id} got records of topic "${topic}" but reads ${this.stage.inputTopics.join(', ')}; check the event source mapping`);
    }
    const pscope = this.progressScope(topic, partition);
    const before = parseProgress(await this.ports.progress.get(pscope));
    const records = all.filter((r) => r.offset > before.offsetDone);
    if (records.length === 0) {
      this.count('batchesSkipped');
      return { recordsIn: 0, skipped: true, stateWrites: 0 };
    }
    const info = { stage: this.stage.id, topic, partition, firstOffset: (records[0] as KafkaRecord).offset };
    const hook = (p: CrashPoint): void => this.fault?.(p, info);

    let outputs: Outputs;
    let progress: Progress;
    let writes: Awaited<ReturnType<typeof runShuffleBatch>> | undefined;
    if (this.stage.isSource) {
      const r = runSourceBatch(this.router, this.sourceNode(topic), partition, records, before, this.ports.clock.now());
      outputs = r.outputs;
      progress = r.progress;
      this.count('recordsIn', r.recordsIn);
      this.count('dlqRecords', r.dlq);
    } else {
      writes = await runShuffleBatch(this.router, this.operators, this.ports.state, stateScope(this.plan.pipeline, this.stage.id, partition), topic, partition, records, before);
      outputs = writes.outputs;
      progress = writes.progress;
      for (const [k, v] of Object.entries(writes.counts)) this.count(k as MetricName, v);
      this.count('largeStateKeys', writes.keyWrites.filter((w) => w.data.length > LARGE_STATE_BYTES).length);
    }

    hook('before-produce');
    if (outputs.records.length) await this.ports.producer.send(outputs.records);
    this.count('recordsOut', outputs.records.length);
    hook('after-produce');
    if (outputs.rows.length) await this.ports.sinks.write(outputs.rows);
    hook('after-sinks');
    let stateWrites = 0;
    if (writes) {
      const scope = stateScope(this.plan.pipeline, this.stage.id, partition);
      if (writes.timerAdds.length) await this.ports.state.addTimers(scope, writes.timerAdds, String(info.firstOffset));
      // Without key writes the progress record goes alone: a plain put, not a one-item transaction (half the write units).
      if (writes.keyWrites.length) await this.ports.state.commit(scope, writes.keyWrites, { scope: pscope, data: toJson(progress) });
      else await this.ports.progress.put(pscope, toJson(progress));
      stateWrites = writes.keyWrites.length;
      this.count('stateWrites', writes.keyWrites.length);
      this.count('progressWrites');
      hook('after-state-write');
      for (const [domain, upTo] of Object.entries(writes.clearUpTo)) await this.ports.state.clearTimers(scope, domain as 'event' | 'processing', upTo);
    } else {
      await this.ports.progress.put(pscope, toJson(progress));
      this.count('progressWrites');
    }
    hook('after-progress');
    return { recordsIn: records.length, skipped: false, stateWrites };
  }
}

/**
 * The watermark of a source partition idle past its idleTimeoutMs: its last batch's watermark
 * moved on by the processing time elapsed since that batch, so event time keeps pace with the
 * wall clock while nothing arrives and the last windows fire when traffic stops (opt-in through
 * idleTimeoutMs; see ARCHITECTURE.md). Computed from the progress record and the ticker's
 * clock only, so a retried tick gives the same or a later watermark, never an earlier one.
 */
export function idleWatermark(lastWm: number, lastActivity: number, now: number): number {
  if (!Number.isFinite(lastWm) || !Number.isFinite(lastActivity) || !Number.isFinite(now)) return lastWm;
  return lastWm + Math.max(0, now - lastActivity);
}

/** Whether a stage needs the ticker: idle detection for sources, processing time for timers. */
export function stageNeedsTicks(stage: StagePlan, nodes: readonly GraphNode[]): boolean {
  const idleSource = stage.nodeIds.some((id) => {
    const n = nodes[id] as GraphNode;
    return n.kind === 'source' && n.source.eventTime?.idleTimeoutMs !== undefined;
  });
  return idleSource || stageHasProcessingTimers(stage, nodes);
}
