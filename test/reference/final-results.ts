/**
 * Schedule-independent results for multi-partition inputs whose records are
 * never more than (bound - 1) ms behind their partition's max so far.
 *
 * Under that condition no record is late whatever the interleaving of
 * partitions and batches: a record's timestamp is at least watermark + 2, so
 * every window it belongs to is still open, and it cannot touch a session that
 * already fired (that session ends at or below watermark + 1). So every window
 * holds exactly the records that belong to it, and this is computed here
 * directly from the whole input, without any simulation.
 */
import { kafkaValueText, parseClick, parseReading, parseSumValue, wordsOf } from './decode';
import { checkRecords } from './simulate';
import {
  ExampleName,
  Expected,
  ExpectedOutput,
  InputRecord,
  PIPELINES,
  SESSION_GAP_MS,
  SLIDING_SIZE_MS,
  SLIDING_SLIDE_MS,
  TOPICS,
  TUMBLING_SIZE_MS,
} from './types';
import { TimeWindow, compareFired, slidingWindows, tumblingWindow } from './windows';

/** Throws unless every valid record is at most bound - 1 ms behind its partition's max so far. */
function checkWithinBound(example: ExampleName, records: InputRecord[], valid: boolean[]): void {
  const bound = PIPELINES[example].outOfOrdernessMs;
  if (bound === null) return;
  const maxByPartition = new Map<number, number>();
  records.forEach((r, i) => {
    if (!valid[i]) return;
    const p = r.partition ?? 0;
    const max = maxByPartition.get(p) ?? -Infinity;
    if (r.timestamp < max - (bound - 1)) {
      throw new Error(
        `record ${i} (partition ${p}, ts ${r.timestamp}) is more than ${bound - 1} ms behind its partition's max ${max}`,
      );
    }
    maxByPartition.set(p, Math.max(max, r.timestamp));
  });
}

function isValid(example: ExampleName, r: InputRecord): boolean {
  switch (example) {
    case 'sum':
      return parseSumValue(r.value) !== null;
    case 'sessions':
      return parseClick(r.value) !== null;
    case 'sliding-average':
      return parseReading(r.value) !== null;
    default:
      return true;
  }
}

interface Keyed<A> extends TimeWindow {
  key: string;
  acc: A;
}

/** Groups (key, window) -> accumulator, returned in firing order. */
function aggregate<A>(items: Array<{ key: string; window: TimeWindow; add: (a: A) => A }>, init: () => A): Keyed<A>[] {
  const groups = new Map<string, Keyed<A>>();
  for (const item of items) {
    const id = JSON.stringify([item.key, item.window.start, item.window.end]);
    const g = groups.get(id) ?? { key: item.key, ...item.window, acc: init() };
    g.acc = item.add(g.acc);
    groups.set(id, g);
  }
  return [...groups.values()].sort(compareFired);
}

export function expectedFinalResults(example: ExampleName, records: InputRecord[]): Expected {
  checkRecords(example, records);
  const valid = records.map((r) => isValid(example, r));
  checkWithinBound(example, records, valid);
  const dlqInputIndexes = valid.flatMap((ok, i) => (ok ? [] : [i]));
  const good = records.filter((_, i) => valid[i]);
  const result: Expected = { outputs: [], dlqCount: dlqInputIndexes.length, dlqInputIndexes };
  const outputs: ExpectedOutput[] = result.outputs;

  switch (example) {
    case 'uppercase':
      for (const r of good) {
        outputs.push({ topic: TOPICS.linesUpper, value: kafkaValueText(r.value).toUpperCase(), timestamp: r.timestamp });
      }
      break;

    case 'sum': {
      let finalSum = 0;
      for (const r of good) finalSum += parseSumValue(r.value) ?? 0;
      result.sum = { finalSum, validCount: good.length };
      break;
    }

    case 'wordcount': {
      const timestamps = new Map<string, number[]>();
      for (const r of good) {
        for (const word of wordsOf(kafkaValueText(r.value))) {
          const list = timestamps.get(word) ?? [];
          list.push(r.timestamp);
          timestamps.set(word, list);
        }
      }
      for (const [word, list] of timestamps) {
        list.sort((a, b) => a - b);
        for (let count = 1; count <= list.length; count++) {
          outputs.push({ topic: TOPICS.wordCounts, value: { word, count }, timestamp: NaN });
        }
      }
      result.wordTimestamps = timestamps;
      break;
    }

    case 'windowed-wordcount': {
      const items = good.flatMap((r) =>
        wordsOf(kafkaValueText(r.value)).map((word) => ({
          key: word,
          window: tumblingWindow(r.timestamp, TUMBLING_SIZE_MS),
          add: (c: number) => c + 1,
        })),
      );
      for (const g of aggregate(items, () => 0)) {
        outputs.push({
          topic: TOPICS.wordCounts5s,
          value: { word: g.key, count: g.acc, windowStart: g.start, windowEnd: g.end },
          timestamp: g.end - 1,
        });
      }
      break;
    }

    case 'sliding-average': {
      const items = good.flatMap((r) => {
        const reading = parseReading(r.value);
        if (reading === null) return [];
        return slidingWindows(r.timestamp, SLIDING_SIZE_MS, SLIDING_SLIDE_MS).map((window) => ({
          key: reading.sensor,
          window,
          add: (a: { sum: number; count: number }) => ({ sum: a.sum + reading.value, count: a.count + 1 }),
        }));
      });
      for (const g of aggregate(items, () => ({ sum: 0, count: 0 }))) {
        outputs.push({
          topic: TOPICS.sensorAverages,
          value: { sensor: g.key, avg: g.acc.sum / g.acc.count, count: g.acc.count, windowStart: g.start, windowEnd: g.end },
          timestamp: g.end - 1,
        });
      }
      break;
    }

    case 'sessions': {
      // Per user: sort click times; a click starts a new session unless its window
      // [t, t + gap) touches the current one (t <= current end).
      const times = new Map<string, number[]>();
      for (const r of good) {
        const click = parseClick(r.value);
        if (click === null) continue;
        const list = times.get(click.user) ?? [];
        list.push(r.timestamp);
        times.set(click.user, list);
      }
      const found: Array<Keyed<number>> = [];
      for (const [user, list] of times) {
        list.sort((a, b) => a - b);
        let current: Keyed<number> | undefined;
        for (const t of list) {
          if (current !== undefined && t <= current.end) {
            current.end = Math.max(current.end, t + SESSION_GAP_MS);
            current.acc++;
          } else {
            current = { key: user, start: t, end: t + SESSION_GAP_MS, acc: 1 };
            found.push(current);
          }
        }
      }
      for (const s of found.sort(compareFired)) {
        outputs.push({
          topic: TOPICS.sessions,
          value: { user: s.key, clicks: s.acc, sessionStart: s.start, sessionEnd: s.end },
          timestamp: s.end - 1,
        });
      }
      break;
    }
  }
  return result;
}
