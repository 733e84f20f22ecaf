/**
 * Hand-computed tests of the reference oracle itself.
 * Watermark after a batch = max valid ts - bound - 1; a window [s, e) is late / fires once watermark >= e - 1.
 */
import { expectedFinalResults, expectedOutput, InputRecord } from './oracle';

function recs(rows: Array<[number, unknown]>): InputRecord[] {
  return rows.map(([timestamp, value]) => ({ partition: 0, timestamp, value }));
}

const wc5 = (word: string, count: number, windowStart: number) => ({
  topic: 'word-counts-5s',
  value: { word, count, windowStart, windowEnd: windowStart + 5000 },
  timestamp: windowStart + 4999,
});
const late = (word: string, timestamp: number) => ({ topic: 'late-words', value: word, timestamp });
const session = (user: string, clicks: number, sessionStart: number, sessionEnd: number) => ({
  topic: 'sessions',
  value: { user, clicks, sessionStart, sessionEnd },
  timestamp: sessionEnd - 1,
});
const avg = (sensor: string, sum: number, count: number, windowStart: number) => ({
  topic: 'sensor-averages',
  value: { sensor, avg: sum / count, count, windowStart, windowEnd: windowStart + 10000 },
  timestamp: windowStart + 9999,
});
const reading = (sensor: string, value: number) => ({ sensor, value });
const click = (user: string) => ({ user, page: 'p' });

describe('windowed-wordcount', () => {
  // r0 ts 1000 "a b" -> window [0,5000); wm after = 1000 - 2001 = -1001.
  // r1 ts 9000 "c"   -> window [5000,10000); wm after = 9000 - 2001 = 6999 >= 4999: [0,5000) fires a=1, b=1.
  // r2 ts 2000 "a"   -> window [0,5000) has 4999 <= 6999: late -> late-words "a" @2000.
  // end: [5000,10000) fires c=1 @9999.
  const input = recs([
    [1000, 'a b'],
    [9000, 'c'],
    [2000, 'a'],
  ]);

  test('a late word goes to late-words (batchSize 1)', () => {
    expect(expectedOutput('windowed-wordcount', input, { batchSize: 1 })).toEqual({
      outputs: [wc5('a', 1, 0), wc5('b', 1, 0), late('a', 2000), wc5('c', 1, 5000)],
      dlqCount: 0,
      dlqInputIndexes: [],
    });
  });

  test('batchSize 2: r2 is in the second batch, so judged against wm 6999 -> same as batchSize 1', () => {
    expect(expectedOutput('windowed-wordcount', input, { batchSize: 2 }).outputs).toEqual([
      wc5('a', 1, 0),
      wc5('b', 1, 0),
      late('a', 2000),
      wc5('c', 1, 5000),
    ]);
  });

  test('batchSize 100: one batch judged against wm -Infinity, nothing late', () => {
    // end: [0,5000) a=2, b=1; [5000,10000) c=1
    expect(expectedOutput('windowed-wordcount', input, { batchSize: 100 }).outputs).toEqual([
      wc5('a', 2, 0),
      wc5('b', 1, 0),
      wc5('c', 1, 5000),
    ]);
  });

  test('watermark exactly at window end - 1 makes the window late', () => {
    // r0 ts 7000 "x": wm after = 4999. r1 ts 4999 "y": [0,5000) has 4999 <= 4999 -> late.
    // r2 ts 5000 "z": [5000,10000) open. end: x=1, z=1 @9999.
    expect(
      expectedOutput('windowed-wordcount', recs([[7000, 'x'], [4999, 'y'], [5000, 'z']]), { batchSize: 1 }).outputs,
    ).toEqual([late('y', 4999), wc5('x', 1, 5000), wc5('z', 1, 5000)]);
    // r0 ts 6999: wm 4998 < 4999, so y is on time; end fires [0,5000) first.
    expect(
      expectedOutput('windowed-wordcount', recs([[6999, 'x'], [4999, 'y'], [5000, 'z']]), { batchSize: 1 }).outputs,
    ).toEqual([wc5('y', 1, 0), wc5('x', 1, 5000), wc5('z', 1, 5000)]);
  });

  test('a line without words still advances the watermark', () => {
    // r1 "123" has no words but ts 9000 -> wm 6999 -> [0,5000) fires a=1, then "b" @2000 is late.
    expect(
      expectedOutput('windowed-wordcount', recs([[1000, 'a'], [9000, '123'], [2000, 'b']]), { batchSize: 1 }).outputs,
    ).toEqual([wc5('a', 1, 0), late('b', 2000)]);
  });
});

describe('sliding-average', () => {
  // r0 s1=10 @12000 -> windows [10000,20000), [5000,15000); wm after = 12000 - 1001 = 10999.
  // r1 s1=20 @8000  -> [5000,15000) open (14999 > 10999), [0,10000) late (9999 <= 10999): only the first.
  // r2 s1=30 @3000  -> [0,10000) and [-5000,5000) both late: dropped.
  // r3 "oops{" @100000 -> DLQ; must not advance the watermark (else r5 would be late).
  // r4 value "5" (a string) -> DLQ.
  // r5 s2=7 @13000  -> [10000,20000), [5000,15000); wm after = 11999, nothing fires.
  // end: [5000,15000) s1 sum 30 count 2 (avg 15), s2 7/1; [10000,20000) s1 10/1, s2 7/1.
  const input = recs([
    [12000, reading('s1', 10)],
    [8000, reading('s1', 20)],
    [3000, reading('s1', 30)],
    [100000, 'oops{'],
    [9000, { sensor: 's1', value: '5' }],
    [13000, reading('s2', 7)],
  ]);

  test('a record partly late goes only to its open windows; DLQ records advance nothing', () => {
    expect(expectedOutput('sliding-average', input, { batchSize: 1 })).toEqual({
      outputs: [avg('s1', 30, 2, 5000), avg('s2', 7, 1, 5000), avg('s1', 10, 1, 10000), avg('s2', 7, 1, 10000)],
      dlqCount: 2,
      dlqInputIndexes: [3, 4],
    });
  });

  test('batchSize 100: nothing late, r1 and r2 land in all their windows', () => {
    // [-5000,5000) s1 30/1; [0,10000) s1 (20+30)/2; [5000,15000) s1 30/2, s2 7/1; [10000,20000) s1 10/1, s2 7/1
    expect(expectedOutput('sliding-average', input, { batchSize: 100 }).outputs).toEqual([
      avg('s1', 30, 1, -5000),
      avg('s1', 50, 2, 0),
      avg('s1', 30, 2, 5000),
      avg('s2', 7, 1, 5000),
      avg('s1', 10, 1, 10000),
      avg('s2', 7, 1, 10000),
    ]);
  });
});

describe('sessions', () => {
  test('two sessions merge through a bridging record', () => {
    // r0 a@10000 -> [10000,40000); wm 4999.
    // r1 a@42000 -> [42000,72000), does not touch (42000 > 40000); wm 36999, nothing fires (39999 > 36999).
    // r2 b@41000 -> b [41000,71000).
    // r3 a@38000 -> [38000,68000) touches both a sessions -> a [10000,72000), 3 clicks.
    // end: b (end 71000) then a (end 72000).
    const input = recs([
      [10000, click('a')],
      [42000, click('a')],
      [41000, click('b')],
      [38000, click('a')],
    ]);
    expect(expectedOutput('sessions', input, { batchSize: 1 })).toEqual({
      outputs: [session('b', 1, 41000, 71000), session('a', 3, 10000, 72000)],
      dlqCount: 0,
      dlqInputIndexes: [],
    });
  });

  test('a record late by its own window that merges into an open session is kept', () => {
    // r0 a@10000 [10000,40000); r1 a@42000 [42000,72000); wm 36999.
    // r2 a@5000: own [5000,35000) is late (34999 <= 36999) but merges -> [5000,40000), 2 clicks, open.
    // r3 c@1000: [1000,31000) late, nothing to merge with -> dropped.
    // r4 z@46000: wm 40999 -> fires a [5000,40000).
    // end: a [42000,72000), z [46000,76000).
    const input = recs([
      [10000, click('a')],
      [42000, click('a')],
      [5000, click('a')],
      [1000, click('c')],
      [46000, click('z')],
    ]);
    expect(expectedOutput('sessions', input, { batchSize: 1 }).outputs).toEqual([
      session('a', 2, 5000, 40000),
      session('a', 1, 42000, 72000),
      session('z', 1, 46000, 76000),
    ]);
  });

  test('a session that fired before a touching record arrives gives two sessions', () => {
    // r0 a@0 [0,30000); r1 z@35000 -> wm 29999 -> a [0,30000) fires @29999.
    // r2 a@30000 touches [0,30000) but it is gone -> new session [30000,60000).
    const input = recs([
      [0, click('a')],
      [35000, click('z')],
      [30000, click('a')],
    ]);
    expect(expectedOutput('sessions', input, { batchSize: 1 }).outputs).toEqual([
      session('a', 1, 0, 30000),
      session('a', 1, 30000, 60000),
      session('z', 1, 35000, 65000),
    ]);
    expect(expectedOutput('sessions', input, { batchSize: 2 }).outputs).toEqual([
      session('a', 1, 0, 30000),
      session('a', 1, 30000, 60000),
      session('z', 1, 35000, 65000),
    ]);
    // One batch: nothing fires before r2, so a@0 and a@30000 (touching) merge.
    expect(expectedOutput('sessions', input, { batchSize: 3 }).outputs).toEqual([
      session('a', 2, 0, 60000),
      session('z', 1, 35000, 65000),
    ]);
  });

  test('DLQ: undecodable, non-object, or no string user', () => {
    // DLQ: 0 undecodable, 1 no user, 2 user not a string, 3 null, 5 a number, 6 a JSON string (not an object).
    // 4 is JSON text in a string value: decodable, user a. 7 is fine, user b.
    const input = recs([
      [1000, 'not json{'],
      [1000, { page: 'p' }],
      [1000, { user: 7, page: 'p' }],
      [1000, null],
      [1000, '{"user":"a","page":"p"}'],
      [1000, 42],
      [1000, '"a"'],
      [1000, click('b')],
    ]);
    expect(expectedOutput('sessions', input, { batchSize: 1 })).toEqual({
      outputs: [session('a', 1, 1000, 31000), session('b', 1, 1000, 31000)],
      dlqCount: 6,
      dlqInputIndexes: [0, 1, 2, 3, 5, 6],
    });
  });
});

describe('per-record pipelines', () => {
  test('sum skips invalid records', () => {
    // 5 -> 5; "x" DLQ; " -2 " -> 3; 10 (number) -> 13; "3.5" DLQ; "+4" -> 17.
    const input = recs([
      [1, '5'],
      [2, 'x'],
      [3, ' -2 '],
      [4, 10],
      [5, '3.5'],
      [6, '+4'],
    ]);
    expect(expectedOutput('sum', input, { batchSize: 1 })).toEqual({
      outputs: [
        { topic: 'sum', value: { sum: 5 }, timestamp: 1 },
        { topic: 'sum', value: { sum: 3 }, timestamp: 3 },
        { topic: 'sum', value: { sum: 13 }, timestamp: 4 },
        { topic: 'sum', value: { sum: 17 }, timestamp: 6 },
      ],
      dlqCount: 2,
      dlqInputIndexes: [1, 4],
    });
    expect(expectedFinalResults('sum', input)).toEqual({
      outputs: [],
      dlqCount: 2,
      dlqInputIndexes: [1, 4],
      sum: { finalSum: 17, validCount: 4 },
    });
  });

  test('wordcount counts per word occurrence', () => {
    // "Hello, hello WORLD" @1 -> hello 1, hello 2, world 1; "" and 42 ("42") have no words; "world" @4 -> world 2.
    const input = recs([
      [1, 'Hello, hello WORLD'],
      [2, ''],
      [3, 42],
      [4, 'world'],
    ]);
    const wc = (word: string, count: number, timestamp: number) => ({
      topic: 'word-counts',
      value: { word, count },
      timestamp,
    });
    expect(expectedOutput('wordcount', input, { batchSize: 1 })).toEqual({
      outputs: [wc('hello', 1, 1), wc('hello', 2, 1), wc('world', 1, 1), wc('world', 2, 4)],
      dlqCount: 0,
      dlqInputIndexes: [],
    });
  });

  test('uppercase uses the Kafka text of the value', () => {
    const input = recs([
      [1, 'Straße'],
      [2, 42],
      [3, { a: 'b' }],
    ]);
    expect(expectedOutput('uppercase', input, { batchSize: 1 }).outputs).toEqual([
      { topic: 'lines-upper', value: 'STRASSE', timestamp: 1 },
      { topic: 'lines-upper', value: '42', timestamp: 2 },
      { topic: 'lines-upper', value: '{"A":"B"}', timestamp: 3 },
    ]);
  });
});

describe('expectedFinalResults', () => {
  test('sessions over two partitions', () => {
    // a@0 and a@30000 touch -> [0,60000) 2 clicks; a@65000 is past 60000 -> [65000,95000).
    const input: InputRecord[] = [
      { partition: 0, timestamp: 0, value: click('a') },
      { partition: 1, timestamp: 65000, value: click('a') },
      { partition: 0, timestamp: 30000, value: click('a') },
      { partition: 1, timestamp: 65000, value: 'bad{' },
    ];
    expect(expectedFinalResults('sessions', input)).toEqual({
      outputs: [session('a', 2, 0, 60000), session('a', 1, 65000, 95000)],
      dlqCount: 1,
      dlqInputIndexes: [3],
    });
  });

  test('rejects input more than bound - 1 behind its partition', () => {
    const ok: InputRecord[] = [
      { partition: 0, timestamp: 10000, value: click('a') },
      { partition: 0, timestamp: 5001, value: click('a') }, // 4999 behind: allowed
      { partition: 1, timestamp: 0, value: click('a') }, // other partition: fine
    ];
    expect(() => expectedFinalResults('sessions', ok)).not.toThrow();
    const bad = [...ok, { partition: 0, timestamp: 5000, value: click('a') }]; // 5000 behind
    expect(() => expectedFinalResults('sessions', bad)).toThrow(/behind/);
  });

  test('wordcount: counts 1..n per word, timestamps as a multiset', () => {
    const input: InputRecord[] = [
      { partition: 0, timestamp: 5, value: 'a b' },
      { partition: 1, timestamp: 3, value: 'a' },
    ];
    const r = expectedFinalResults('wordcount', input);
    expect(r.outputs.map((o) => o.value)).toEqual([
      { word: 'a', count: 1 },
      { word: 'a', count: 2 },
      { word: 'b', count: 1 },
    ]);
    expect(r.wordTimestamps).toEqual(
      new Map([
        ['a', [3, 5]],
        ['b', [5]],
      ]),
    );
  });

  test('expectedOutput refuses records from several partitions', () => {
    const input: InputRecord[] = [
      { partition: 0, timestamp: 1, value: 'x' },
      { partition: 1, timestamp: 1, value: 'y' },
    ];
    expect(() => expectedOutput('uppercase', input, { batchSize: 1 })).toThrow(/one partition/);
  });
});
