import type { GraphNode } from '../api/graph';
import type { Pipeline } from '../api/pipeline';
import type { PipelinePlan, StagePlan } from '../plan/types';
import { laneId } from '../plan/types';
import { ConfigError, StateConflictError } from './errors';
import { decodeMskRecord, type KafkaRecord, type MskEvent } from './msk-event';
import type { KeyedOperator } from './operators/keyed-operator';
import { processOperator } from './operators/process-operator';
import { runningOperator } from './operators/running-operator';
import { windowOperator } from './operators/window-operator';
import { Outputs } from './outputs';
import { LARGE_STATE_BYTES, type Clock, type CommitLog, type Metrics, type MetricName, type ProgressStore, type Producer, type SinkWriter } from './ports';
import { emptyProgress, parseProgress, toJson, type Progress } from './progress';
import { StageRouter, stageHasProcessingTimers } from './router';
import { markerTimestamp, runSourceBatch } from './source-batch';
import { progressScope, stateScope } from './scopes';
import { runShuffleBatch } from './shuffle-batch';
import { PartitionCache } from './state/partition-cache';
import { PartitionState, type KeyOps } from './state/partition-state';
import { encodeMarker, H_MARKER } from './wire';

export interface ExecutorPorts {
  readonly producer: Producer;
  /** Keyed stages' commit logs (state, offsets, watermarks and fences, one entry per batch). */
  readonly log: CommitLog;
  /** Progress of stages without keyed state (sources, stateless stages). */
  readonly progress: ProgressStore;
  readonly sinks: SinkWriter;
  readonly clock: Clock;
  readonly metrics?: Metrics;
  /** JSON bytes of keyed state this environment may hold between invocations. @default DEFAULT_STATE_CACHE_BYTES */
  readonly stateCacheBytes?: number;
  /** When snapshots are written. @default { minLogBytes: MIN_SNAPSHOT_LOG_BYTES, everyEntries: SNAPSHOT_EVERY_ENTRIES } */
  readonly snapshots?: { readonly minLogBytes?: number; readonly everyEntries?: number };
}

/** What an environment caches of keyed state when not told: 256 MB of JSON. */
export const DEFAULT_STATE_CACHE_BYTES = 256 * 1024 * 1024;
/**
 * A snapshot is written once the commits since the last one reach the state's own size (so
 * snapshots cost no more than the changes, amortized), and no later than this many commits,
 * so a log keeps every entry a cold reader needs (the DynamoDB log recycles its slots).
 */
export const SNAPSHOT_EVERY_ENTRIES = 1000;
/** Below this, a log is short enough to read whole: no snapshot is worth its write. */
export const MIN_SNAPSHOT_LOG_BYTES = 64 * 1024;

/** Where a chaos run may crash an invocation; the executor calls it at each point. */
export type CrashPoint = 'after-snapshot' | 'before-produce' | 'after-produce' | 'after-sinks' | 'after-commit';
export type FaultHook = (point: CrashPoint, info: { stage: string; topic: string; partition: number; firstOffset: number }) => void;

export interface BatchReport {
  readonly partitions: number;
  readonly recordsIn: number;
  readonly skippedBatches: number;
  readonly stateWrites: number;
}

/**
 * Runs one stage of a pipeline on MSK-shaped batches (DESIGN.md section 4). Per partition:
 * load (keyed: the partition's state, caught up from its commit log) -> compute in memory ->
 * produce outputs (acked) -> sinks -> one conditional write (keyed: a log entry with the
 * changed keys, offsets, watermarks and fences; otherwise the progress item). A crash
 * anywhere leaves a state from which the same batch, delivered again, yields the same results.
 */
export class StageExecutor {
  readonly stage: StagePlan;
  private readonly router: StageRouter;
  private readonly operators = new Map<number, KeyedOperator>();
  private readonly cache: PartitionCache;

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
    const nextTimer = (ops: KeyOps, domain: 'event' | 'processing'): number | undefined => {
      let next: number | undefined;
      for (const [id, op] of this.operators) {
        const t = op.nextTimer(ops[id], domain);
        if (t !== undefined && (next === undefined || t < next)) next = t;
      }
      return next;
    };
    this.cache = new PartitionCache(ports.log, nextTimer, ports.stateCacheBytes ?? DEFAULT_STATE_CACHE_BYTES, (m, v) => this.count(m, v));
  }

  /** Handles one Lambda invocation; resolves after outputs, state and progress are durable. */
  async handle(event: MskEvent): Promise<BatchReport> {
    const groups = Object.values(event.records ?? {});
    // Every partition settles before the invocation answers: a partition still running after
    // another failed would write after the retry of the same batch began.
    const settled = await Promise.allSettled(groups.map((g) => this.handlePartition(g.map(decodeMskRecord))));
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    const results = settled.map((r) => (r as PromiseFulfilledResult<PartitionResult>).value);
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
    for (let attempt = 0; ; attempt++) {
      const stored = await this.ports.progress.get(scope);
      const progress = parseProgress(stored?.data);
      if (progress.emitted.wm === Infinity) return;
      try {
        await this.ports.progress.put(scope, (stored?.seq ?? 0) + 1, toJson({ ...progress, emitted: { wm: Infinity, idle: false } }));
        return;
      } catch (err) {
        // A batch of the partition committed in between: read again, at most a few times.
        if (!(err instanceof StateConflictError) || attempt >= 5) throw err;
      }
    }
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
          const scope = this.progressScope(topic, p);
          const stored = await this.ports.progress.get(scope);
          if (!stored) {
            // A partition never processed is idle only a timeout after the ticker first saw it,
            // not from -inf: else its first records would be late behind another partition's
            // event time. The first sighting is its first progress (seq 1), unless a batch won.
            await this.ports.progress.put(scope, 1, toJson({ ...emptyProgress(), lastActivity: now })).catch((err: unknown) => {
              if (!(err instanceof StateConflictError)) throw err;
            });
            continue;
          }
          const progress = parseProgress(stored.data);
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

  private async handlePartition(all: KafkaRecord[]): Promise<PartitionResult> {
    const first = all[0];
    if (!first) return { recordsIn: 0, skipped: false, stateWrites: 0 };
    const { topic, partition } = first;
    if (!this.stage.inputTopics.includes(topic)) {
      throw new ConfigError(`stage ${this.stage.id} got records of topic "${topic}" but reads ${this.stage.inputTopics.join(', ')}; check the event source mapping`);
    }
    return this.stage.keyed ? this.handleKeyed(topic, partition, all) : this.handleProgressOnly(topic, partition, all);
  }

  /** Sources and stateless stages: progress alone, one write conditional on the seq read. */
  private async handleProgressOnly(topic: string, partition: number, all: KafkaRecord[]): Promise<PartitionResult> {
    const pscope = this.progressScope(topic, partition);
    const stored = await this.ports.progress.get(pscope);
    const before = parseProgress(stored?.data);
    const records = all.filter((r) => r.offset > before.offsetDone);
    if (records.length === 0) return this.skipped();
    const hook = this.hookFor(topic, partition, records);
    let outputs: Outputs;
    let progress: Progress;
    if (this.stage.isSource) {
      const r = runSourceBatch(this.router, this.sourceNode(topic), partition, records, before, this.ports.clock.now());
      outputs = r.outputs;
      progress = r.progress;
      this.count('recordsIn', r.recordsIn);
      this.count('dlqRecords', r.dlq);
    } else {
      const ps = new PartitionState(() => undefined);
      ps.progress = before;
      const r = runShuffleBatch(this.router, this.operators, ps, topic, partition, records);
      outputs = r.outputs;
      progress = ps.progress;
      for (const [k, v] of Object.entries(r.counts)) this.count(k as MetricName, v);
    }
    await this.emit(outputs, hook);
    await this.ports.progress.put(pscope, (stored?.seq ?? 0) + 1, toJson(progress));
    this.count('progressWrites');
    hook('after-commit');
    return { recordsIn: records.length, skipped: false, stateWrites: 0 };
  }

  /**
   * Keyed stages: the partition's state as this environment holds it, caught up from the
   * log; the batch applied in place; outputs produced (acked); then one log entry with the
   * changed keys, offsets, watermarks and fences, conditional on no newer commit. Any
   * failure drops the held state, so the retry starts from what was committed.
   */
  private async handleKeyed(topic: string, partition: number, all: KafkaRecord[]): Promise<PartitionResult> {
    const scope = stateScope(this.plan.pipeline, this.stage.id, partition);
    try {
      const ps = await this.cache.load(scope);
      const records = all.filter((r) => r.offset > ps.progress.offsetDone);
      if (records.length === 0) return this.skipped();
      const hook = this.hookFor(topic, partition, records);
      await this.maybeSnapshot(scope, ps, hook);
      const r = runShuffleBatch(this.router, this.operators, ps, topic, partition, records);
      for (const [k, v] of Object.entries(r.counts)) this.count(k as MetricName, v);
      await this.emit(r.outputs, hook);
      const entry = ps.encodeEntry(r.changed);
      await this.ports.log.append(scope, ps.seq + 1, entry.body);
      ps.committed(entry);
      this.count('stateWrites', entry.lines);
      this.count('progressWrites');
      this.count('stateBytes', ps.bytes);
      this.count('largeStateKeys', [...r.changed].filter((k) => ps.sizeOf(k) > LARGE_STATE_BYTES).length);
      hook('after-commit');
      return { recordsIn: records.length, skipped: false, stateWrites: entry.lines };
    } catch (err) {
      this.cache.evict(scope);
      throw err;
    }
  }

  /** Writes a snapshot of the state as committed, before a batch changes it, when the log since the last one has grown enough. */
  private async maybeSnapshot(scope: string, ps: PartitionState, hook: (p: CrashPoint) => void): Promise<void> {
    const every = Math.min(this.ports.snapshots?.everyEntries ?? SNAPSHOT_EVERY_ENTRIES, SNAPSHOT_EVERY_ENTRIES);
    const minBytes = this.ports.snapshots?.minLogBytes ?? MIN_SNAPSHOT_LOG_BYTES;
    const due = ps.logEntries >= every || (ps.logBytes >= minBytes && ps.logBytes >= ps.bytes);
    if (!due) return;
    await this.ports.log.snapshot(scope, ps.seq, ps.encodeSnapshot());
    ps.logBytes = 0;
    ps.logEntries = 0;
    this.count('snapshots');
    hook('after-snapshot');
  }

  /** Produce (acks=all), then the other sinks: before any commit, so a crash repeats them, never loses them. */
  private async emit(outputs: Outputs, hook: (p: CrashPoint) => void): Promise<void> {
    hook('before-produce');
    if (outputs.records.length) await this.ports.producer.send(outputs.records);
    this.count('recordsOut', outputs.records.length);
    hook('after-produce');
    if (outputs.rows.length) await this.ports.sinks.write(outputs.rows);
    hook('after-sinks');
  }

  private hookFor(topic: string, partition: number, records: readonly KafkaRecord[]): (p: CrashPoint) => void {
    const info = { stage: this.stage.id, topic, partition, firstOffset: (records[0] as KafkaRecord).offset };
    return (p) => this.fault?.(p, info);
  }

  private skipped(): PartitionResult {
    this.count('batchesSkipped');
    return { recordsIn: 0, skipped: true, stateWrites: 0 };
  }
}

interface PartitionResult {
  readonly recordsIn: number;
  readonly skipped: boolean;
  readonly stateWrites: number;
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
