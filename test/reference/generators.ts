/**
 * Seeded, deterministic input generators for the six example pipelines.
 *
 * singlePartitionWithLateness: one partition (partition 0); timestamps mostly
 *   increasing with jitter, some far behind (late), some right at the lateness
 *   edge, some on window boundaries; a few invalid records for sum / sessions /
 *   sliding-average (some of them with a timestamp far ahead, which must NOT
 *   advance the watermark).
 * multiPartitionWithinBound: records spread over several partitions; within a
 *   partition, every valid record is at most bound - 1 ms behind that
 *   partition's max so far (often exactly bound - 1); invalid records never
 *   raise a partition's max, so they cannot make anything late either way.
 */
import { Rng } from './prng';
import {
  ExampleName,
  InputRecord,
  PIPELINES,
  SESSION_GAP_MS,
  SLIDING_SIZE_MS,
  SLIDING_SLIDE_MS,
  TUMBLING_SIZE_MS,
} from './types';
import { windowStart } from './windows';

const BASE_TS = 1_700_000_000_000;

interface Timing {
  /** Watermark bound (nominal for pipelines without event time). */
  bound: number;
  /** Mean clock step between records. */
  step: number;
  /** Window length (how far "far behind" reaches). */
  window: number;
  /** Window boundaries to snap some timestamps to; null for no windows. */
  boundary: number | null;
  invalidRate: number;
}

const TIMING: Record<ExampleName, Timing> = {
  wordcount: { bound: 2000, step: 500, window: 5000, boundary: null, invalidRate: 0 },
  uppercase: { bound: 2000, step: 500, window: 5000, boundary: null, invalidRate: 0 },
  sum: { bound: 2000, step: 500, window: 5000, boundary: null, invalidRate: 0.1 },
  'windowed-wordcount': { bound: 2000, step: 600, window: TUMBLING_SIZE_MS, boundary: TUMBLING_SIZE_MS, invalidRate: 0 },
  sessions: { bound: 5000, step: 4000, window: SESSION_GAP_MS, boundary: null, invalidRate: 0.08 },
  'sliding-average': { bound: 1000, step: 500, window: SLIDING_SIZE_MS, boundary: SLIDING_SLIDE_MS, invalidRate: 0.08 },
};

function boundOf(example: ExampleName): number {
  return PIPELINES[example].outOfOrdernessMs ?? TIMING[example].bound;
}

// ---------------------------------------------------------------- values

const WORDS = ['the', 'the', 'cat', 'dog', 'sat', 'on', 'mat', 'cat', 'dog'] as const;
const SEPARATORS = [' ', ' ', ', ', '  ', '-', '! ', '\t', '. '] as const;
const USERS = ['alice', 'bob', 'carol', 'dave'] as const;
const SENSORS = ['s1', 's2', 's3'] as const;
/** Rare users / sensors (and the word "constructor") that collide with Object.prototype, on purpose. */
const ODD_KEYS = ['__proto__', 'constructor'] as const;

function randomCase(rng: Rng, word: string): string {
  const r = rng.float();
  if (r < 0.15) return word.toUpperCase();
  if (r < 0.3) return word.charAt(0).toUpperCase() + word.slice(1);
  return word;
}

function lineValue(rng: Rng): unknown {
  const r = rng.float();
  if (r < 0.04) return '';
  if (r < 0.07) return '123, 456!';
  if (r < 0.1) return 'Straße café NAÏVE';
  if (r < 0.12) return 42;
  if (r < 0.14) return { note: 'Hello World' };
  const n = rng.int(1, 6);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    const word = rng.chance(0.03) ? 'constructor' : rng.pick(WORDS);
    parts.push(randomCase(rng, word));
    if (i < n - 1) parts.push(rng.pick(SEPARATORS));
  }
  return parts.join('');
}

function sumValue(rng: Rng, valid: boolean): unknown {
  if (!valid) {
    return rng.pick<unknown>(['abc', '4.5', '', '1 2', '--3', '+', '12a', 4.5, null, true, { n: 1 }, [1], '0x10', '1e3']);
  }
  if (rng.chance(0.2)) return rng.int(-100, 100);
  const sign = rng.pick(['', '', '-', '+']);
  const digits = rng.chance(0.1) ? `00${rng.int(0, 9)}` : String(rng.int(0, 999));
  const pad = () => rng.pick(['', '', '', ' ', '\t']);
  return `${pad()}${sign}${digits}${pad()}`;
}

function pickUser(rng: Rng): string {
  return rng.chance(0.04) ? rng.pick(ODD_KEYS) : rng.pick(USERS);
}

function pickSensor(rng: Rng): string {
  return rng.chance(0.04) ? rng.pick(ODD_KEYS) : rng.pick(SENSORS);
}

function clickValue(rng: Rng, user: string, valid: boolean): unknown {
  if (!valid) {
    return rng.pick<unknown>([
      'not json{',
      { page: 'home' },
      { user: 7, page: 'x' },
      { user: null, page: 'x' },
      null,
      42,
      [user],
      '"alice"',
    ]);
  }
  const page = rng.pick(['home', 'cart', 'search', 'item']);
  const r = rng.float();
  if (r < 0.1) return JSON.stringify({ user, page }); // JSON text as a string value: still decodable
  if (r < 0.15) return { user, page, ref: 'ad' };
  return { user, page };
}

function readingValue(rng: Rng, sensor: string, valid: boolean): unknown {
  if (!valid) {
    return rng.pick<unknown>([
      'not json{',
      { sensor },
      { sensor, value: '12' },
      { value: 3 },
      { sensor: 5, value: 1 },
      null,
      '[1,2]',
    ]);
  }
  // Integers and halves/quarters only, so sums are exact in any order.
  const value = rng.int(-50, 150) + rng.pick([0, 0, 0, 0.5, 0.25]);
  return rng.chance(0.1) ? JSON.stringify({ sensor, value }) : { sensor, value };
}

interface Generated {
  value: unknown;
  valid: boolean;
  /** The session user, for sessions only. */
  user: string | undefined;
  keyHint: string;
}

function generateValue(example: ExampleName, rng: Rng): Generated {
  const valid = !rng.chance(TIMING[example].invalidRate);
  switch (example) {
    case 'wordcount':
    case 'windowed-wordcount':
    case 'uppercase':
      return { value: lineValue(rng), valid: true, user: undefined, keyHint: `k${rng.int(0, 3)}` };
    case 'sum':
      return { value: sumValue(rng, valid), valid, user: undefined, keyHint: 'n' };
    case 'sessions': {
      const user = pickUser(rng);
      return { value: clickValue(rng, user, valid), valid, user: valid ? user : undefined, keyHint: user };
    }
    case 'sliding-average': {
      const sensor = pickSensor(rng);
      return { value: readingValue(rng, sensor, valid), valid, user: undefined, keyHint: sensor };
    }
  }
}

function makeRecord(example: ExampleName, rng: Rng, partition: number, timestamp: number, g: Generated): InputRecord {
  const record: InputRecord = { topic: PIPELINES[example].sourceTopic, partition, timestamp, value: g.value };
  const r = rng.float();
  if (r < 0.3) record.key = null;
  else if (r < 0.7) record.key = g.keyHint;
  return record;
}

/** Advances the shared clock by one random step (and sometimes a session-ending jump). */
function tick(example: ExampleName, rng: Rng, clock: number): number {
  let next = clock + rng.int(0, 2 * TIMING[example].step);
  if (example === 'sessions' && rng.chance(0.05)) next += rng.int(SESSION_GAP_MS, 2 * SESSION_GAP_MS);
  return next;
}

// ---------------------------------------------------------------- generators

export function singlePartitionWithLateness(example: ExampleName, seed: number, n: number): InputRecord[] {
  const rng = new Rng(seed);
  const t = TIMING[example];
  const bound = boundOf(example);
  const records: InputRecord[] = [];
  const lastClickOf = new Map<string, number>();
  let clock = BASE_TS + rng.int(0, 10_000);
  let maxValid = -Infinity;

  for (let i = 0; i < n; i++) {
    clock = tick(example, rng, clock);
    const g = generateValue(example, rng);
    let ts = clock;
    if (Number.isFinite(maxValid)) {
      const r = rng.float();
      if (r < 0.1) ts = maxValid - bound - rng.int(1, 3 * t.window); // far behind: late (or nearly)
      else if (r < 0.16) ts = maxValid - bound + rng.int(-3, 2); // around the lateness edge
      else if (r < 0.4) ts = clock - rng.int(0, bound - 1); // in-bound disorder
      else if (r < 0.47 && t.boundary !== null) {
        ts = windowStart(clock, t.boundary) + rng.pick([-1, 0]); // on a window boundary
      }
    }
    const last = g.user === undefined ? undefined : lastClickOf.get(g.user);
    if (last !== undefined && rng.chance(0.06)) {
      ts = last + SESSION_GAP_MS; // exactly touching the user's previous click window
      clock = Math.max(clock, ts);
    }
    if (!g.valid && rng.chance(0.3)) ts = clock + 3 * bound; // must not advance the watermark
    ts = Math.max(ts, 0);
    if (g.valid) {
      maxValid = Math.max(maxValid, ts);
      if (g.user !== undefined) lastClickOf.set(g.user, Math.max(last ?? -Infinity, ts));
    }
    records.push(makeRecord(example, rng, 0, ts, g));
  }
  return records;
}

export function multiPartitionWithinBound(
  example: ExampleName,
  seed: number,
  n: number,
  partitions: number,
): InputRecord[] {
  if (!Number.isInteger(partitions) || partitions < 1) throw new Error(`bad partitions ${partitions}`);
  const rng = new Rng(seed);
  const bound = boundOf(example);
  const records: InputRecord[] = [];
  const maxOf = new Map<number, number>();
  const lastClickOf = new Map<string, number>();
  let clock = BASE_TS + rng.int(0, 10_000);

  for (let i = 0; i < n; i++) {
    const p = rng.int(0, partitions - 1);
    clock = tick(example, rng, clock);
    const g = generateValue(example, rng);
    const max = maxOf.get(p) ?? -Infinity;
    const floor = max - (bound - 1); // the most a valid record may lag its partition's max
    let ts = clock;
    const r = rng.float();
    if (r < 0.35) ts = clock - rng.int(0, 2 * bound);
    else if (r < 0.42 && Number.isFinite(floor)) ts = floor;
    const last = g.user === undefined ? undefined : lastClickOf.get(g.user);
    if (last !== undefined && rng.chance(0.06) && last + SESSION_GAP_MS >= floor) {
      ts = last + SESSION_GAP_MS;
      clock = Math.max(clock, ts);
    }
    ts = Math.max(ts, floor);
    if (!g.valid) {
      // Never above the partition's max (or, before any valid record, well below
      // anything that comes later), so it cannot matter whether it advances the watermark.
      ts = Number.isFinite(max) ? Math.min(ts, max) : clock - 2 * bound - rng.int(1, bound);
    }
    if (g.valid) {
      maxOf.set(p, Math.max(max, ts));
      if (g.user !== undefined) lastClickOf.set(g.user, Math.max(last ?? -Infinity, ts));
    }
    records.push(makeRecord(example, rng, p, ts, g));
  }
  return records;
}
