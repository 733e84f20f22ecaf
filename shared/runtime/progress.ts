import { decodeTime, encodeTime } from './wire';

export interface LaneState {
  wm: number;
  idle: boolean;
}

/**
 * Progress of one (stage, input topic, partition), written last in each invocation:
 * the offset done, the watermarks of the lanes it combines, the source watermark
 * generator's state, processing time seen, and per-lane fences for stateless stages.
 */
export interface Progress {
  offsetDone: number;
  lanes: Record<string, LaneState>;
  /** Source partitions: max event timestamp seen. */
  maxTs: number;
  /** Processing time of the last batch with data (idleness). */
  lastActivity: number;
  /** Highest processing time seen, in-band (markers) or from the clock. */
  now: number;
  /** The last marker this partition's lane sent downstream. */
  emitted: LaneState;
  /** Stateless non-source stages: lane -> highest origin applied. */
  fences: Record<string, [number, number]>;
}

export function emptyProgress(): Progress {
  return {
    offsetDone: -1,
    lanes: {},
    maxTs: -Infinity,
    lastActivity: -Infinity,
    now: -Infinity,
    emitted: { wm: -Infinity, idle: false },
    fences: {},
  };
}

/**
 * JSON has no infinities; they are written as `{"$weirTime":"inf"}`. The tag is one user
 * state cannot plausibly hold, and the reviver (a fifth of the embedded runtime's time when
 * it ran on every key) runs only on text that contains it.
 */
const TIME_TAG = '$weirTime';
const replacer = (_k: string, v: unknown): unknown => (typeof v === 'number' && !Number.isFinite(v) ? { [TIME_TAG]: encodeTime(v) } : v);
const reviver = (_k: string, v: unknown): unknown =>
  v !== null && typeof v === 'object' && TIME_TAG in v && Object.keys(v).length === 1 ? decodeTime(String((v as Record<string, unknown>)[TIME_TAG])) : v;

/**
 * JSON with infinities kept (watermarks are -inf before the first record and +inf at the end).
 * A replacer costs a call per value (a sixth of the embedded runtime's time when every state
 * went through it); JSON.stringify writes non-finite numbers as `null`, so text without
 * `null` had none and is kept as it is.
 */
export function toJson(value: unknown): string {
  const plain = JSON.stringify(value);
  return plain !== undefined && !plain.includes('null') ? plain : JSON.stringify(value, replacer);
}
export function fromJson<T>(text: string): T {
  return (text.includes(`"${TIME_TAG}"`) ? JSON.parse(text, reviver) : JSON.parse(text)) as T;
}

export function parseProgress(text: string | undefined): Progress {
  return text === undefined ? emptyProgress() : { ...emptyProgress(), ...fromJson<Partial<Progress>>(text) };
}

/**
 * The watermark of a partition fed by `lanes`: the minimum over active lanes, as Flink's
 * StatusWatermarkValve; a lane not heard from yet holds it at -inf. When every lane is
 * idle the partition is idle and takes the maximum.
 *
 * `floor` is the watermark the partition already emitted: the result never goes below it.
 * As in the valve, an active lane below the floor (one that just woke from idleness) takes
 * no part in the minimum until it catches up, so a window that fired while the lane was
 * idle never opens again (its records are late).
 */
export function combineLanes(expected: readonly string[], lanes: Readonly<Record<string, LaneState>>, floor = -Infinity): LaneState {
  if (expected.length === 0) return { wm: floor, idle: false };
  let min = Infinity;
  let max = -Infinity;
  let active = 0;
  let behind = 0;
  for (const id of expected) {
    const l = lanes[id];
    if (!l) return { wm: floor, idle: false };
    max = Math.max(max, l.wm);
    if (l.idle) continue;
    if (l.wm < floor) behind++;
    else {
      active++;
      min = Math.min(min, l.wm);
    }
  }
  if (active === 0) return behind > 0 ? { wm: floor, idle: false } : { wm: Math.max(max, floor), idle: true };
  return { wm: Math.max(min, floor), idle: false };
}
