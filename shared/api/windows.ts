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

function positive(name: string, field: string, v: number): void {
  if (!(Number.isFinite(v) && v > 0)) throw new ConfigError(`${name}: ${field} must be a number > 0, got ${v}`);
}

/**
 * Fixed, non-overlapping windows of `sizeMs`, as Flink's `TumblingEventTimeWindows.of(size)`.
 * @example keyed.window(tumbling(5000)).aggregate(count())
 */
export function tumbling(sizeMs: number, options: { time?: TimeDomain; offsetMs?: number } = {}): WindowAssignerSpec {
  positive('tumbling', 'sizeMs', sizeMs);
  return { kind: 'tumbling', time: options.time ?? 'event', sizeMs, offsetMs: options.offsetMs ?? 0 };
}

/**
 * Overlapping windows of `sizeMs` starting every `slideMs`, as Flink's `SlidingEventTimeWindows`.
 * @example keyed.window(sliding(10_000, 5_000)).aggregate(avg((r) => r.value))
 */
export function sliding(sizeMs: number, slideMs: number, options: { time?: TimeDomain; offsetMs?: number } = {}): WindowAssignerSpec {
  positive('sliding', 'sizeMs', sizeMs);
  positive('sliding', 'slideMs', slideMs);
  return { kind: 'sliding', time: options.time ?? 'event', sizeMs, slideMs, offsetMs: options.offsetMs ?? 0 };
}

/**
 * Sessions that close after `gapMs` without records for the key; sessions that touch merge.
 * @example keyed.window(session(30_000)).aggregate(count())
 */
export function session(gapMs: number, options: { time?: TimeDomain } = {}): WindowAssignerSpec {
  positive('session', 'gapMs', gapMs);
  return { kind: 'session', time: options.time ?? 'event', gapMs };
}

/**
 * Windows of `size` records per key; with `slide`, fires every `slide` records over the last `size`.
 * @example keyed.window(countWindow(100)).aggregate(sum((o) => o.amount))
 */
export function countWindow(size: number, slide?: number): WindowAssignerSpec {
  positive('countWindow', 'size', size);
  if (slide !== undefined) positive('countWindow', 'slide', slide);
  return { kind: 'count', size, slide: slide ?? size };
}

/**
 * One window per key for all time, fired by its trigger.
 * @example keyed.window(globalWindow(countTrigger(10, { purge: true }))).aggregate(count())
 */
export function globalWindow(trigger: TriggerSpec): WindowAssignerSpec {
  return { kind: 'global', trigger };
}

/**
 * Fires a global window every `count` records.
 * @example globalWindow(countTrigger(3))
 */
export function countTrigger(count: number, options: { purge?: boolean } = {}): TriggerSpec {
  positive('countTrigger', 'count', count);
  return { kind: 'count', count, purge: options.purge ?? false };
}
