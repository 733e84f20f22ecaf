import type { Json } from './types';

/** Time-to-live of keyed state, in processing time, refreshed on every write (Flink's OnCreateAndWrite). */
export interface TtlOptions {
  readonly ttlMs?: number;
}

export interface ValueStateDescriptor<T extends Json> extends TtlOptions {
  readonly kind: 'value';
  readonly __type?: T;
}
export interface ListStateDescriptor<T extends Json> extends TtlOptions {
  readonly kind: 'list';
  readonly __type?: T;
}
export interface MapStateDescriptor<V extends Json> extends TtlOptions {
  readonly kind: 'map';
  readonly __type?: V;
}
export type StateDescriptor = ValueStateDescriptor<Json> | ListStateDescriptor<Json> | MapStateDescriptor<Json>;
export type StateSpec = Record<string, StateDescriptor>;

/** A single value per key. @example state: { total: valueState<number>({ ttlMs: 3_600_000 }) } */
export function valueState<T extends Json>(options: TtlOptions = {}): ValueStateDescriptor<T> {
  return { kind: 'value', ...options };
}
/** A list per key. @example state: { recent: listState<string>() } */
export function listState<T extends Json>(options: TtlOptions = {}): ListStateDescriptor<T> {
  return { kind: 'list', ...options };
}
/** A map per key. @example state: { perPage: mapState<number>() } */
export function mapState<V extends Json>(options: TtlOptions = {}): MapStateDescriptor<V> {
  return { kind: 'map', ...options };
}

export interface ValueState<T> {
  value(): T | undefined;
  update(value: T): void;
  clear(): void;
}
export interface ListState<T> {
  get(): T[];
  add(value: T): void;
  update(values: T[]): void;
  clear(): void;
}
export interface MapState<V> {
  get(key: string): V | undefined;
  put(key: string, value: V): void;
  has(key: string): boolean;
  remove(key: string): void;
  entries(): Array<[string, V]>;
  clear(): void;
}

export type StateHandle<D> = D extends ValueStateDescriptor<infer T>
  ? ValueState<T>
  : D extends ListStateDescriptor<infer T>
    ? ListState<T>
    : D extends MapStateDescriptor<infer V>
      ? MapState<V>
      : never;

export type StateHandles<S extends StateSpec> = { readonly [K in keyof S]: StateHandle<S[K]> };

export interface TimerService {
  readonly currentWatermark: number;
  readonly currentProcessingTime: number;
  registerEventTimeTimer(timestamp: number): void;
  registerProcessingTimeTimer(timestamp: number): void;
  deleteEventTimeTimer(timestamp: number): void;
  deleteProcessingTimeTimer(timestamp: number): void;
}

export interface Collector<T> {
  collect(value: T, timestamp?: number): void;
}

export interface ProcessContext<S extends StateSpec> {
  readonly key: string;
  /** Event timestamp of the element, or of the timer that fired. */
  readonly timestamp: number;
  readonly state: StateHandles<S>;
  readonly timers: TimerService;
}

/**
 * Flink's `KeyedProcessFunction`: per-record logic with keyed state and timers.
 * @example
 * keyed.process({
 *   processElement(v, ctx, out) { const n = (ctx.state.n.value() ?? 0) + 1; ctx.state.n.update(n); out.collect(n); },
 * }, { n: valueState<number>() })
 */
export interface KeyedProcessFunction<IN, OUT, S extends StateSpec> {
  processElement(value: IN, ctx: ProcessContext<S>, out: Collector<OUT>): void;
  onTimer?(timestamp: number, ctx: ProcessContext<S> & { readonly timeDomain: 'event' | 'processing' }, out: Collector<OUT>): void;
}
