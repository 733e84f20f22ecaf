import { randomBytes } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Kafka } from 'kafkajs';
import type { Pipeline } from '../../api/pipeline';
import type { PipelinePlan } from '../../plan/types';
import type { InvocationReport } from '../esm/emulator';
import { InvocationStats } from './invocation-stats';
import { OffsetReader, ResultsTail } from './kafka-reader';
import { toWatermark, type PartitionFigures, type TopicCount, type UiSnapshot, type WindowFigures } from './snapshot';
import { StateReader } from './state-reader';
import type { LaneState } from '../../runtime/progress';

export interface CollectorOptions {
  readonly kafka: Kafka;
  readonly dynamo: DynamoDBClient;
  /** Physical names: topics and tables carry the dev session's prefix. */
  readonly prefix: string;
  readonly tables: { readonly state: string; readonly progress: string };
  /** The consumer group of each stage's trigger. */
  readonly groupOf: (stage: string) => string;
  /** How often Kafka and DynamoDB are read. @default 1000 */
  readonly refreshMs?: number;
  /** Window results kept for the page. @default 50 */
  readonly results?: number;
}

/**
 * Gathers what the page shows. Per stage: the trigger emulators' invocation reports
 * (pushed, via `record`). Per partition: consumer lag from the stage group's committed
 * offsets against the topic's end offsets, and the watermark from the progress record.
 * Open windows from the state items; DLQ, late and sink counts from end offsets; window
 * results from a consumer of the sink topics. Kafka and DynamoDB are read every `refreshMs`,
 * one read at a time; a service that does not answer leaves its figures as they were and
 * says so in `problems`.
 */
export class Collector {
  private readonly stats: InvocationStats;
  private readonly offsets: OffsetReader;
  private readonly state: StateReader;
  private readonly tail: ResultsTail;
  private readonly listeners = new Set<(s: UiSnapshot) => void>();
  private readonly startedAt = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private partitions: Array<Omit<PartitionFigures, 'watermark' | 'idle'>> = [];
  private watermarks = new Map<string, LaneState>();
  private windows: WindowFigures = { open: 0, keys: 0, truncated: false };
  private counts = new Map<string, number>();
  private problems: string[] = [];
  private current: UiSnapshot;

  constructor(
    private readonly p: Pipeline,
    private readonly plan: PipelinePlan,
    private readonly options: CollectorOptions,
  ) {
    this.stats = new InvocationStats(plan.stages);
    this.offsets = new OffsetReader(options.kafka);
    this.state = new StateReader(p, plan, { client: options.dynamo, tables: options.tables });
    const sinks = plan.topics.filter((t) => t.role === 'sink').map((t) => this.physical(t.name));
    this.tail = new ResultsTail(options.kafka, `${options.prefix}weir-ui-${plan.pipeline}-${randomBytes(4).toString('hex')}`, sinks, (t) => this.logical(t), options.results ?? 50);
    this.current = this.snapshot();
  }

  private physical(topic: string): string {
    return this.options.prefix + topic;
  }
  private logical(topic: string): string {
    return topic.startsWith(this.options.prefix) ? topic.slice(this.options.prefix.length) : topic;
  }

  /** Takes one invocation report of a trigger emulator. */
  record(report: InvocationReport): void {
    this.stats.record(report);
  }

  async start(): Promise<void> {
    await this.tail.start(this.offsets);
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.options.refreshMs ?? 1000);
  }

  /** Reads Kafka and DynamoDB once (a read already under way is awaited instead) and publishes. */
  refresh(): Promise<void> {
    this.polling ??= this.poll().finally(() => (this.polling = undefined));
    return this.polling;
  }

  latest(): UiSnapshot {
    return this.current;
  }

  subscribe(listener: (s: UiSnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.polling?.catch(() => undefined);
    await this.tail.stop();
    await this.offsets.deleteGroup(this.tail.groupId).catch(() => undefined);
    await this.offsets.close();
  }

  private async poll(): Promise<void> {
    const problems: string[] = [];
    await Promise.all([
      this.readKafka().catch((err: unknown) => problems.push(`Kafka: ${(err as Error).message}; is the broker up? (npm run local:up)`)),
      this.readDynamo().catch((err: unknown) => problems.push(`DynamoDB: ${(err as Error).message}; is DynamoDB Local up? (npm run local:up)`)),
    ]);
    this.problems = problems;
    this.current = this.snapshot();
    for (const l of this.listeners) l(this.current);
  }

  private async readKafka(): Promise<void> {
    const topics = this.plan.topics.map((t) => this.physical(t.name));
    const ends = await this.offsets.endOffsets(topics);
    const counts = new Map<string, number>();
    for (const t of this.plan.topics) counts.set(t.name, [...(ends.get(this.physical(t.name))?.values() ?? [])].reduce((a, b) => a + b, 0));
    this.counts = counts;
    const partitions: Array<Omit<PartitionFigures, 'watermark' | 'idle'>> = [];
    for (const s of this.plan.stages) {
      const committed = await this.offsets.committed(this.options.groupOf(s.id), s.inputTopics.map((t) => this.physical(t)));
      for (const t of s.inputTopics) {
        for (const [partition, end] of [...(ends.get(this.physical(t)) ?? new Map<number, number>())].sort((a, b) => a[0] - b[0])) {
          const c = committed.get(this.physical(t))?.get(partition) ?? -1;
          partitions.push({ stage: s.id, topic: t, partition, endOffset: end, committed: c, lag: Math.max(0, end - Math.max(c, 0)) });
        }
      }
    }
    this.partitions = partitions;
  }

  private async readDynamo(): Promise<void> {
    const { watermarks, windows } = await this.state.read();
    this.watermarks = watermarks;
    this.windows = windows;
  }

  private snapshot(): UiSnapshot {
    const count = (topic: string): TopicCount => ({ topic, records: this.counts.get(topic) ?? 0 });
    return {
      pipeline: this.plan.pipeline,
      at: Date.now(),
      startedAt: this.startedAt,
      stages: this.stats.figures(),
      partitions: this.partitions.map((x) => {
        const wm = this.watermarks.get(this.state.progressScope(x.stage, x.topic, x.partition));
        return { ...x, watermark: toWatermark(wm?.wm ?? -Infinity), idle: wm?.idle ?? false };
      }),
      windows: this.windows,
      dlq: count(this.plan.dlqTopic),
      late: this.plan.topics.filter((t) => t.role === 'late').map((t) => count(t.name)),
      sinks: this.plan.topics.filter((t) => t.role === 'sink').map((t) => count(t.name)),
      results: this.tail.results(),
      problems: this.problems,
    };
  }
}
