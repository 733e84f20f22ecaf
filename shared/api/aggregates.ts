import type { Json } from './types';

/**
 * Flink's `AggregateFunction`: an accumulator built record by record, merged for
 * session windows, and turned into a result when the window fires. Accumulators are
 * stored as JSON, so they must be plain data.
 * @example
 * const longest: AggregateFunction<string, number, number> = {
 *   createAccumulator: () => 0, add: (w, a) => Math.max(a, w.length), merge: Math.max, getResult: (a) => a,
 * };
 */
export interface AggregateFunction<IN, ACC extends Json, OUT> {
  createAccumulator(): ACC;
  add(value: IN, accumulator: ACC): ACC;
  merge(a: ACC, b: ACC): ACC;
  getResult(accumulator: ACC): OUT;
}

/**
 * Counts records. @example keyed.window(tumbling(5000)).aggregate(count())
 */
export function count(): AggregateFunction<unknown, number, number> {
  return { createAccumulator: () => 0, add: (_v, a) => a + 1, merge: (a, b) => a + b, getResult: (a) => a };
}

/**
 * Sums a number drawn from each record (the record itself by default).
 * @example keyed.aggregate(sum((n: number) => n))
 */
export function sum<T>(field: (value: T) => number = (v) => v as unknown as number): AggregateFunction<T, number, number> {
  return { createAccumulator: () => 0, add: (v, a) => a + field(v), merge: (a, b) => a + b, getResult: (a) => a };
}

/** Smallest value seen. @example keyed.window(tumbling(60_000)).aggregate(min((r) => r.price)) */
export function min<T>(field: (value: T) => number): AggregateFunction<T, number | null, number | null> {
  return {
    createAccumulator: () => null,
    add: (v, a) => (a === null ? field(v) : Math.min(a, field(v))),
    merge: (a, b) => (a === null ? b : b === null ? a : Math.min(a, b)),
    getResult: (a) => a,
  };
}

/** Largest value seen. @example keyed.window(tumbling(60_000)).aggregate(max((r) => r.price)) */
export function max<T>(field: (value: T) => number): AggregateFunction<T, number | null, number | null> {
  return {
    createAccumulator: () => null,
    add: (v, a) => (a === null ? field(v) : Math.max(a, field(v))),
    merge: (a, b) => (a === null ? b : b === null ? a : Math.max(a, b)),
    getResult: (a) => a,
  };
}

export interface Average {
  readonly avg: number;
  readonly count: number;
  readonly sum: number;
}

/** Mean of a number drawn from each record, with the count and sum it came from. @example avg((r) => r.value) */
export function avg<T>(field: (value: T) => number): AggregateFunction<T, { sum: number; count: number }, Average> {
  return {
    createAccumulator: () => ({ sum: 0, count: 0 }),
    add: (v, a) => ({ sum: a.sum + field(v), count: a.count + 1 }),
    merge: (a, b) => ({ sum: a.sum + b.sum, count: a.count + b.count }),
    getResult: (a) => ({ avg: a.count === 0 ? 0 : a.sum / a.count, count: a.count, sum: a.sum }),
  };
}

/** Flink's `ReduceFunction` as an aggregate. @example reducing((a: number, b: number) => a + b) */
export function reducing<T extends Json>(fn: (a: T, b: T) => T): AggregateFunction<T, { v: T } | null, T> {
  return {
    createAccumulator: () => null,
    add: (v, a) => (a === null ? { v } : { v: fn(a.v, v) }),
    merge: (a, b) => (a === null ? b : b === null ? a : { v: fn(a.v, b.v) }),
    getResult: (a) => {
      if (a === null) throw new Error('reduce of an empty window');
      return a.v;
    },
  };
}

/** Keeps every record, for window functions that need them all. @example collecting<string>() */
export function collecting<T extends Json>(): AggregateFunction<T, T[], T[]> {
  return { createAccumulator: () => [], add: (v, a) => [...a, v], merge: (a, b) => [...a, ...b], getResult: (a) => a };
}
