import { ConfigError } from '../runtime/errors';

export type TimeDomain = 'event' | 'processing';

/** A window assigner, as Flink's `WindowAssigner`. Build one with the functions below. */
export type WindowAssignerSpec =
  | { readonly kind: 'tumbling'; readonly time: TimeDomain; readonly sizeMs: number; readonly offsetMs: number }
  | { readonly kind: 'sliding'; readonly time: TimeDomain; readonly sizeMs: number; readonly slideMs: number; readonly offsetMs: number }
  | { readonly kind: 'session'; readonly time: TimeDomain; readonly gapMs: number }
  | { readonly kind: 'count'; readonly size: number; readonly slide: number }
  | { readonly kind: 'global'; readonly trigger: TriggerSpec };

/** When a global window fires. `purge` clears its contents after each firing. */
export interface TriggerSpec {
  readonly kind: 'count';
  readonly count: number;
  readonly purge: boolean;
}

/**
 * Counts and times are whole numbers: a count of 2.5 is never reached (the window never
 * fires), and window bounds of fractional ms would not match the integer timestamps Kafka carries.
 */
function positiveInteger(name: string, field: string, v: number, unit = ''): void {
  if (!(Number.isSafeInteger(v) && v > 0)) throw new ConfigError(`${name}: ${field} must be a positive integer${unit}, got ${v}`);
}
const count = (name: string, field: string, v: number): void => positiveInteger(name, field, v);
const duration = (name: string, field: string, v: number): void => positiveInteger(name, field, v, ' (ms)');

function offset(name: string, v: number): void {
  if (!Number.isSafeInteger(v)) throw new ConfigError(`${name}: offsetMs must be an integer (ms), got ${v}`);
}

/**
 * Throws a ConfigError naming the field when an assigner cannot work. The builders below
 * call it; the planner calls it again for assigners built by hand.
 */
export function checkAssigner(a: WindowAssignerSpec): void {
  switch (a.kind) {
    case 'tumbling':
      duration('tumbling', 'sizeMs', a.sizeMs);
      offset('tumbling', a.offsetMs);
      return;
    case 'sliding':
      duration('sliding', 'sizeMs', a.sizeMs);
      duration('sliding', 'slideMs', a.slideMs);
      offset('sliding', a.offsetMs);
      return;
    case 'session':
      duration('session', 'gapMs', a.gapMs);
      return;
    case 'count':
      count('countWindow', 'size', a.size);
      count('countWindow', 'slide', a.slide);
      return;
    case 'global':
      count('countTrigger', 'count', a.trigger.count);
      return;
  }
}

function checked(a: WindowAssignerSpec): WindowAssignerSpec {
  checkAssigner(a);
  return a;
}

/**
 * Fixed, non-overlapping windows of `sizeMs`, as Flink's `TumblingEventTimeWindows.of(size)`.
 * @example keyed.window(tumbling(5000)).aggregate(count())
 */
export function tumbling(sizeMs: number, options: { time?: TimeDomain; offsetMs?: number } = {}): WindowAssignerSpec {
  return checked({ kind: 'tumbling', time: options.time ?? 'event', sizeMs, offsetMs: options.offsetMs ?? 0 });
}

/**
 * Overlapping windows of `sizeMs` starting every `slideMs`, as Flink's `SlidingEventTimeWindows`.
 * @example keyed.window(sliding(10_000, 5_000)).aggregate(avg((r) => r.value))
 */
export function sliding(sizeMs: number, slideMs: number, options: { time?: TimeDomain; offsetMs?: number } = {}): WindowAssignerSpec {
  return checked({ kind: 'sliding', time: options.time ?? 'event', sizeMs, slideMs, offsetMs: options.offsetMs ?? 0 });
}

/**
 * Sessions that close after `gapMs` without records for the key; sessions that touch merge.
 * @example keyed.window(session(30_000)).aggregate(count())
 */
export function session(gapMs: number, options: { time?: TimeDomain } = {}): WindowAssignerSpec {
  return checked({ kind: 'session', time: options.time ?? 'event', gapMs });
}

/**
 * Windows of `size` records per key; with `slide`, fires every `slide` records over the last `size`.
 * @example keyed.window(countWindow(100)).aggregate(sum((o) => o.amount))
 */
export function countWindow(size: number, slide?: number): WindowAssignerSpec {
  return checked({ kind: 'count', size, slide: slide ?? size });
}

/**
 * One window per key for all time, fired by its trigger.
 * @example keyed.window(globalWindow(countTrigger(10, { purge: true }))).aggregate(count())
 */
export function globalWindow(trigger: TriggerSpec): WindowAssignerSpec {
  return checked({ kind: 'global', trigger });
}

/**
 * Fires a global window every `count` records.
 * @example globalWindow(countTrigger(3))
 */
export function countTrigger(n: number, options: { purge?: boolean } = {}): TriggerSpec {
  const trigger: TriggerSpec = { kind: 'count', count: n, purge: options.purge ?? false };
  checkAssigner({ kind: 'global', trigger });
  return trigger;
}
