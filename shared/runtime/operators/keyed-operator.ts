import type { Cause, Element } from '../element';
import type { RecordError } from '../errors';

export type TimeDomain = 'event' | 'processing';

/** What a keyed operator sees of the batch while it handles one key. */
export interface KeyedContext {
  readonly stage: string;
  readonly key: string;
  readonly watermark: number;
  /** Processing time, carried in-band so a retried batch sees the same value. */
  readonly now: number;
  /** Emits an output of this operator. */
  emit(value: unknown, timestamp: number, cause: Cause): void;
  /** Sends a record too late for every window to the late side output. */
  late(el: Element, cause: Cause): void;
  count(metric: 'lateRecords' | 'windowsFired'): void;
  /**
   * Reports a user function that threw while a timer fired (`what` names the window or
   * timer): the firing goes to the DLQ and counts as done. Outside firing it rethrows, so
   * the input record goes to the DLQ instead.
   */
  fail(err: RecordError, what: string): void;
}

/**
 * A keyed operator over one key's state. Handlers return the new state (undefined when
 * the key has none left for this operator); state must be plain JSON.
 */
export interface KeyedOperator {
  onElement(ctx: KeyedContext, state: unknown, el: Element, cause: Cause): unknown;
  /** Fires everything of `domain` due at or before `time`, in time order. */
  onTimer(ctx: KeyedContext, state: unknown, domain: TimeDomain, time: number): unknown;
  /** The earliest pending timer of `domain`, if any. */
  nextTimer(state: unknown, domain: TimeDomain): number | undefined;
}
