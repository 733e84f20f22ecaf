/**
 * Window assignment, written after Flink's TimeWindow / window assigners.
 * Windows are half-open [start, end); their max timestamp is end - 1.
 */

export interface TimeWindow {
  start: number;
  end: number;
}

/**
 * Flink's TimeWindow.getWindowStartWithOffset with offset 0, in the form the
 * Weir spec gives: ts - ((ts + size) % size), with JS (= Java) % semantics.
 */
export function windowStart(ts: number, size: number): number {
  return ts - ((ts + size) % size);
}

export function tumblingWindow(ts: number, size: number): TimeWindow {
  const start = windowStart(ts, size);
  return { start, end: start + size };
}

/** Flink's SlidingEventTimeWindows.assignWindows (offset 0), latest window first. */
export function slidingWindows(ts: number, size: number, slide: number): TimeWindow[] {
  const windows: TimeWindow[] = [];
  const lastStart = windowStart(ts, slide);
  for (let start = lastStart; start > ts - size; start -= slide) {
    windows.push({ start, end: start + size });
  }
  return windows;
}

/** Flink's TimeWindow.intersects: true also when the windows only touch. */
export function intersects(a: TimeWindow, b: TimeWindow): boolean {
  return a.start <= b.end && a.end >= b.start;
}

/** Flink's TimeWindow.cover. */
export function cover(a: TimeWindow, b: TimeWindow): TimeWindow {
  return { start: Math.min(a.start, b.start), end: Math.max(a.end, b.end) };
}

/** With allowed lateness 0: a window is late (or already fired) once the watermark reached its max timestamp. */
export function isWindowLate(w: TimeWindow, watermark: number): boolean {
  return w.end - 1 <= watermark;
}

/** Firing order: window end, then key, then window start. */
export function compareFired(
  a: { key: string; start: number; end: number },
  b: { key: string; start: number; end: number },
): number {
  if (a.end !== b.end) return a.end - b.end;
  if (a.key !== b.key) return a.key < b.key ? -1 : 1;
  return a.start - b.start;
}
