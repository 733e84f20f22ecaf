import { ConfigError } from '../runtime/errors';
import { reducing, type AggregateFunction } from './aggregates';
import type { AnyAggregate, GraphNode } from './graph';
import type { SinkSpec } from './sinks';
import type { SourceSpec } from './sources';
import type { KeyedProcessFunction, StateSpec } from './state';
import type { Json, KeyValue, StageSettings, TimeWindow } from './types';
import type { WindowAssignerSpec } from './windows';

type NewNode = GraphNode extends infer N ? (N extends GraphNode ? Omit<N, 'id' | 'name'> & { name?: string } : never) : never;

/**
 * A Weir pipeline: a named DAG of operators from Kafka sources to sinks.
 * @example
 * const p = pipeline('uppercase');
 * p.source(kafkaSource({ topic: 'lines' })).map((l) => l.toUpperCase()).sinkTo(kafkaSink({ topic: 'lines-upper', value: 'string' }));
 * export default p;
 */
export class Pipeline {
  readonly name: string;
  readonly options: PipelineOptions;
  private readonly graph: GraphNode[] = [];

  constructor(name: string, options: PipelineOptions = {}) {
    if (!/^[a-z0-9][a-z0-9-]{0,39}$/.test(name)) {
      throw new ConfigError(`pipeline("${name}"): the name must be 1-40 of lower-case letters, digits and '-', starting with a letter or digit (it names topics, tables and functions)`);
    }
    const max = options.maxMessageBytes;
    if (max !== undefined && !(Number.isSafeInteger(max) && max >= MIN_MESSAGE_BYTES)) {
      throw new ConfigError(`pipeline("${name}"): maxMessageBytes must be an integer >= ${MIN_MESSAGE_BYTES}, got ${max}`);
    }
    this.name = name;
    this.options = options;
  }

  /** Reads a source; see `kafkaSource`. @example p.source(kafkaSource({ topic: 'lines' })) */
  source<T>(spec: SourceSpec<T>, name?: string): DataStream<T> {
    const node = this.add({ kind: 'source', source: spec as SourceSpec<unknown>, inputs: [], name: name ?? `source:${spec.topic}` });
    return new DataStream<T>(this, node);
  }

  /** The operators in creation order (a topological order). */
  nodes(): readonly GraphNode[] {
    return this.graph;
  }

  /** @internal */
  add(partial: NewNode): GraphNode {
    const id = this.graph.length;
    const base = partial.name ?? `${partial.kind}#${id}`;
    let name = base;
    for (let i = 2; this.graph.some((n) => n.name === name); i++) name = `${base}-${i}`;
    const node = { ...partial, id, name } as GraphNode;
    this.graph.push(node);
    return node;
  }
}

/** Room for Weir's own headers and a DLQ record's headers; no broker is set lower. */
const MIN_MESSAGE_BYTES = 4096;

export interface PipelineOptions {
  /**
   * The largest record the brokers take (the topics' `max.message.bytes`). An output record
   * over it goes to the dead-letter topic instead of failing its batch on every retry.
   * @default 1048588 (Kafka's and MSK's default)
   */
  readonly maxMessageBytes?: number;
}

/**
 * Creates a pipeline. The module that builds it exports it as default.
 * @example export default pipeline('wordcount');
 */
export function pipeline(name: string, options: PipelineOptions = {}): Pipeline {
  return new Pipeline(name, options);
}

/** A stream of elements of type T (Flink's `DataStream`). */
export class DataStream<T> {
  constructor(
    protected readonly p: Pipeline,
    /** @internal */ readonly node: GraphNode,
  ) {}

  /** One output per element. @example lines.map((l) => l.toUpperCase()) */
  map<R>(fn: (value: T) => R, name?: string): DataStream<R> {
    return this.next<R>({ kind: 'map', fn: fn as (v: unknown) => unknown, inputs: [this.node.id], ...(name ? { name } : {}) });
  }

  /** Keeps elements for which `fn` is true. @example words.filter((w) => w.length > 3) */
  filter(fn: (value: T) => boolean, name?: string): DataStream<T> {
    return this.next<T>({ kind: 'filter', fn: fn as (v: unknown) => boolean, inputs: [this.node.id], ...(name ? { name } : {}) });
  }

  /** Zero or more outputs per element. @example lines.flatMap((l) => l.split(' ')) */
  flatMap<R>(fn: (value: T) => Iterable<R> | null | undefined, name?: string): DataStream<R> {
    return this.next<R>({ kind: 'flatMap', fn: fn as (v: unknown) => Iterable<unknown>, inputs: [this.node.id], ...(name ? { name } : {}) });
  }

  /** Merges streams of the same type. @example clicksEu.union(clicksUs) */
  union(...others: DataStream<T>[]): DataStream<T> {
    return this.next<T>({ kind: 'union', inputs: [this.node.id, ...others.map((o) => o.node.id)] });
  }

  /**
   * Partitions by key (a shuffle through a repartition topic); keyed operators follow.
   * @example words.keyBy((w) => w)
   */
  keyBy(fn: (value: T) => KeyValue, name?: string): KeyedStream<T> {
    const node = this.p.add({ kind: 'keyBy', fn: fn as (v: unknown) => KeyValue, inputs: [this.node.id], ...(name ? { name } : {}) });
    return new KeyedStream<T>(this.p, node);
  }

  /**
   * Starts a new stage (own Lambda function) at the previous operator, as Flink's `startNewChain`.
   * @example lines.map(parse).startNewStage({ memoryMb: 2048 })
   */
  startNewStage(settings: StageSettings = {}): this {
    this.node.newStage = settings;
    return this;
  }

  /** Names the previous operator (shown in plans, metrics and function names). @example .map(f).name('parse') */
  name(name: string): this {
    if (this.p.nodes().some((n) => n.name === name && n !== this.node)) {
      throw new ConfigError(`name("${name}"): another operator already has this name`);
    }
    this.node.name = name;
    return this;
  }

  /** Writes the stream to a sink. @example counts.sinkTo(kafkaSink({ topic: 'word-counts' })) */
  sinkTo(sink: SinkSpec<T>, name?: string): void {
    const label = sink.kind === 'kafka' ? sink.topic : sink.kind === 'dynamodb' ? sink.table : sink.name;
    this.p.add({ kind: 'sink', sink: sink as SinkSpec<unknown>, inputs: [this.node.id], name: name ?? `sink:${label}` });
  }

  protected next<R>(partial: Parameters<Pipeline['add']>[0]): DataStream<R> {
    return new DataStream<R>(this.p, this.p.add(partial));
  }
}

/** A stream partitioned by key (Flink's `KeyedStream`); its operators keep per-key state. */
export class KeyedStream<T> {
  constructor(
    private readonly p: Pipeline,
    /** @internal */ readonly node: GraphNode,
  ) {}

  /**
   * A running aggregate: one output per input, the key's result so far (Flink's `keyBy().sum()`).
   * @example words.keyBy((w) => w).aggregate(count(), (word, n) => ({ word, count: n }))
   */
  aggregate<ACC extends Json, R, O = R>(agg: AggregateFunction<T, ACC, R>, result?: (key: string, value: R) => O, name?: string): DataStream<O> {
    const node = this.p.add({
      kind: 'running',
      aggregate: agg as unknown as AnyAggregate,
      result: (result ?? ((_k: string, v: R) => v)) as (k: string, v: unknown) => unknown,
      inputs: [this.node.id],
      ...(name ? { name } : {}),
    });
    return new DataStream<O>(this.p, node);
  }

  /** A running reduce, one output per input. @example numbers.keyBy(() => 'all').reduce((a, b) => a + b) */
  reduce(fn: (a: T, b: T) => T, name?: string): DataStream<T> {
    return this.aggregate(reducing(fn as unknown as (a: Json, b: Json) => Json) as unknown as AggregateFunction<T, Json, T>, undefined, name);
  }

  /**
   * Per-record logic with keyed state and timers (Flink's `KeyedProcessFunction`).
   * @example keyed.process({ processElement(v, ctx, out) { out.collect(v); } }, {})
   */
  process<O, S extends StateSpec>(fn: KeyedProcessFunction<T, O, S>, state: S, name?: string): DataStream<O> {
    const node = this.p.add({
      kind: 'process',
      fn: fn as unknown as KeyedProcessFunction<unknown, unknown, StateSpec>,
      state,
      inputs: [this.node.id],
      ...(name ? { name } : {}),
    });
    return new DataStream<O>(this.p, node);
  }

  /** Groups each key's elements into windows. @example keyed.window(tumbling(5000)) */
  window(assigner: WindowAssignerSpec): WindowedStream<T> {
    return new WindowedStream<T>(this.p, this.node, assigner);
  }
}

/** A keyed stream cut into windows (Flink's `WindowedStream`). */
export class WindowedStream<T> {
  private lateness = 0;
  private late?: SinkSpec<T>;

  constructor(
    private readonly p: Pipeline,
    private readonly keyed: GraphNode,
    private readonly assigner: WindowAssignerSpec,
  ) {}

  /** Keeps windows open for late updates after they fire. @example .allowedLateness(1000) */
  allowedLateness(ms: number): this {
    if (!(Number.isFinite(ms) && ms >= 0)) throw new ConfigError(`allowedLateness: must be a number >= 0, got ${ms}`);
    this.lateness = ms;
    return this;
  }

  /** Sends records too late for every window to a sink instead of dropping them. @example .sideOutputLateData(kafkaSink({ topic: 'late' })) */
  sideOutputLateData(sink: SinkSpec<T>): this {
    this.late = sink;
    return this;
  }

  /**
   * Aggregates each window; `result` shapes the output from key, result and window.
   * @example .aggregate(count(), (word, n, w) => ({ word, count: n, windowStart: w.start, windowEnd: w.end }))
   */
  aggregate<ACC extends Json, R, O = R>(agg: AggregateFunction<T, ACC, R>, result?: (key: string, value: R, window: TimeWindow) => O, name?: string): DataStream<O> {
    const node = this.p.add({
      kind: 'window',
      assigner: this.assigner,
      allowedLatenessMs: this.lateness,
      ...(this.late ? { lateSink: this.late as SinkSpec<unknown> } : {}),
      aggregate: agg as unknown as AnyAggregate,
      result: (result ?? ((_k: string, v: R) => v)) as (k: string, v: unknown, w: TimeWindow) => unknown,
      inputs: [this.keyed.id],
      ...(name ? { name } : {}),
    });
    return new DataStream<O>(this.p, node);
  }

  /** Reduces each window. @example .reduce((a, b) => a + b) */
  reduce<O = T>(fn: (a: T, b: T) => T, result?: (key: string, value: T, window: TimeWindow) => O, name?: string): DataStream<O> {
    const agg = reducing(fn as unknown as (a: Json, b: Json) => Json) as unknown as AggregateFunction<T, Json, T>;
    return this.aggregate(agg, result, name);
  }
}
