import type { TimeWindow } from '../../api/types';

/** Flink's TimeWindow.getWindowStartWithOffset, with Java's remainder semantics (as JS's). */
export function windowStart(timestamp: number, offset: number, size: number): number {
  return timestamp - ((timestamp - offset + size) % size);
}

/** Flink's TumblingEventTimeWindows.assignWindows. */
export function assignTumbling(timestamp: number, size: number, offset: number): TimeWindow[] {
  const start = windowStart(timestamp, offset, size);
  return [{ start, end: start + size }];
}

/** Flink's SlidingEventTimeWindows.assignWindows: newest window first. */
export function assignSliding(timestamp: number, size: number, slide: number, offset: number): TimeWindow[] {
  const windows: TimeWindow[] = [];
  const lastStart = windowStart(timestamp, offset, slide);
  for (let start = lastStart; start > timestamp - size; start -= slide) windows.push({ start, end: start + size });
  return windows;
}

/** Flink's TimeWindow.intersects: windows that touch or overlap merge. */
export function intersects(a: TimeWindow, b: TimeWindow): boolean {
  return a.start <= b.end && a.end >= b.start;
}

/** The last timestamp inside a window, where its trigger fires. */
export function maxTimestamp(w: TimeWindow): number {
  return w.end - 1;
}
