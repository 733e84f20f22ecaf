/**
 * Per-record models of the six example pipelines.
 *
 * An Operator sees records one at a time together with the watermark in force,
 * and is told when the watermark advances so it can fire windows. The driver
 * (simulate.ts) decides batches and watermarks.
 */
import { parseClick, parseReading, parseSumValue, kafkaValueText, wordsOf } from './decode';
import {
  ExampleName,
  ExpectedOutput,
  InputRecord,
  SESSION_GAP_MS,
  SLIDING_SIZE_MS,
  SLIDING_SLIDE_MS,
  TOPICS,
  TUMBLING_SIZE_MS,
} from './types';
import { TimeWindow, compareFired, cover, intersects, isWindowLate, slidingWindows, tumblingWindow } from './windows';

export interface Operator {
  /**
   * Processes one record against `watermark` (the watermark in force before its batch),
   * appending what it emits right away to `out`. Returns false when the record
   * goes to the dead-letter topic (it then changes no state and advances no watermark).
   */
  process(record: InputRecord, watermark: number, out: ExpectedOutput[]): boolean;
  /** The watermark advanced to `watermark`: fire (and purge) every window whose end - 1 <= watermark. */
  fire(watermark: number, out: ExpectedOutput[]): void;
}

/** Keyed window contents for non-merging windows (tumbling, sliding). */
class WindowStore<A> {
  private readonly windows = new Map<string, { key: string; start: number; end: number; acc: A }>();

  update(key: string, w: TimeWindow, init: A, f: (acc: A) => A): void {
    const id = JSON.stringify([key, w.start, w.end]);
    const entry = this.windows.get(id);
    if (entry === undefined) {
      this.windows.set(id, { key, start: w.start, end: w.end, acc: f(init) });
    } else {
      entry.acc = f(entry.acc);
    }
  }

  /** Removes and returns the windows with end - 1 <= watermark, in firing order. */
  takeFired(watermark: number): Array<{ key: string; start: number; end: number; acc: A }> {
    const fired = [...this.windows.entries()].filter(([, w]) => isWindowLate(w, watermark));
    for (const [id] of fired) this.windows.delete(id);
    return fired.map(([, w]) => w).sort(compareFired);
  }
}

function wordcount(): Operator {
  const counts = new Map<string, number>();
  return {
    process(record, _watermark, out) {
      for (const word of wordsOf(kafkaValueText(record.value))) {
        const count = (counts.get(word) ?? 0) + 1;
        counts.set(word, count);
        out.push({ topic: TOPICS.wordCounts, value: { word, count }, timestamp: record.timestamp });
      }
      return true;
    },
    fire() {},
  };
}

function uppercase(): Operator {
  return {
    process(record, _watermark, out) {
      out.push({
        topic: TOPICS.linesUpper,
        value: kafkaValueText(record.value).toUpperCase(),
        timestamp: record.timestamp,
      });
      return true;
    },
    fire() {},
  };
}

function sum(): Operator {
  let total = 0;
  return {
    process(record, _watermark, out) {
      const n = parseSumValue(record.value);
      if (n === null) return false;
      total += n;
      out.push({ topic: TOPICS.sum, value: { sum: total }, timestamp: record.timestamp });
      return true;
    },
    fire() {},
  };
}

function windowedWordcount(): Operator {
  const store = new WindowStore<number>();
  return {
    process(record, watermark, out) {
      const window = tumblingWindow(record.timestamp, TUMBLING_SIZE_MS);
      for (const word of wordsOf(kafkaValueText(record.value))) {
        if (isWindowLate(window, watermark)) {
          out.push({ topic: TOPICS.lateWords, value: word, timestamp: record.timestamp });
        } else {
          store.update(word, window, 0, (c) => c + 1);
        }
      }
      return true;
    },
    fire(watermark, out) {
      for (const w of store.takeFired(watermark)) {
        out.push({
          topic: TOPICS.wordCounts5s,
          value: { word: w.key, count: w.acc, windowStart: w.start, windowEnd: w.end },
          timestamp: w.end - 1,
        });
      }
    },
  };
}

function slidingAverage(): Operator {
  const store = new WindowStore<{ sum: number; count: number }>();
  return {
    process(record, watermark, out) {
      const reading = parseReading(record.value);
      if (reading === null) return false;
      for (const window of slidingWindows(record.timestamp, SLIDING_SIZE_MS, SLIDING_SLIDE_MS)) {
        // A window that is already late is skipped; the record still goes to its other windows.
        if (isWindowLate(window, watermark)) continue;
        store.update(reading.sensor, window, { sum: 0, count: 0 }, (a) => ({
          sum: a.sum + reading.value,
          count: a.count + 1,
        }));
      }
      return true;
    },
    fire(watermark, out) {
      for (const w of store.takeFired(watermark)) {
        out.push({
          topic: TOPICS.sensorAverages,
          value: {
            sensor: w.key,
            avg: w.acc.sum / w.acc.count,
            count: w.acc.count,
            windowStart: w.start,
            windowEnd: w.end,
          },
          timestamp: w.end - 1,
        });
      }
    },
  };
}

interface Session extends TimeWindow {
  clicks: number;
}

function sessions(): Operator {
  /** In-flight (not yet fired) sessions per user; they never intersect each other. */
  const byUser = new Map<string, Session[]>();
  return {
    process(record, watermark, out) {
      const click = parseClick(record.value);
      if (click === null) return false;
      let open = byUser.get(click.user) ?? [];
      // Merge first: the new window [ts, ts + gap) absorbs every in-flight session it touches,
      // repeatedly, until nothing else touches the merged window.
      let merged: Session = { start: record.timestamp, end: record.timestamp + SESSION_GAP_MS, clicks: 1 };
      let absorbed = 0;
      let changed = true;
      while (changed) {
        changed = false;
        for (const s of open) {
          if (intersects(s, merged)) {
            merged = { ...cover(s, merged), clicks: merged.clicks + s.clicks };
            open = open.filter((o) => o !== s);
            absorbed++;
            changed = true;
            break;
          }
        }
      }
      // Then the lateness check on the merged window.
      if (isWindowLate(merged, watermark)) {
        if (absorbed > 0) throw new Error('oracle bug: an in-flight session was already late');
        return true; // late: dropped, no side output
      }
      open.push(merged);
      byUser.set(click.user, open);
      return true;
    },
    fire(watermark, out) {
      const fired: Array<Session & { key: string }> = [];
      for (const [user, open] of byUser) {
        for (const s of open) if (isWindowLate(s, watermark)) fired.push({ ...s, key: user });
        const remaining = open.filter((s) => !isWindowLate(s, watermark));
        if (remaining.length === 0) byUser.delete(user);
        else byUser.set(user, remaining);
      }
      for (const s of fired.sort(compareFired)) {
        out.push({
          topic: TOPICS.sessions,
          value: { user: s.key, clicks: s.clicks, sessionStart: s.start, sessionEnd: s.end },
          timestamp: s.end - 1,
        });
      }
    },
  };
}

export function makeOperator(example: ExampleName): Operator {
  switch (example) {
    case 'wordcount':
      return wordcount();
    case 'windowed-wordcount':
      return windowedWordcount();
    case 'uppercase':
      return uppercase();
    case 'sum':
      return sum();
    case 'sessions':
      return sessions();
    case 'sliding-average':
      return slidingAverage();
  }
}
