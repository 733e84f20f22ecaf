import {
  collecting,
  count,
  countTrigger,
  countWindow,
  globalWindow,
  kafkaSink,
  kafkaSource,
  pipeline,
  session,
  sliding,
  sum,
  tumbling,
  type WindowAssignerSpec,
} from '../shared/api';
import { at, sortBy, valuesOf } from './support/run';

interface Ev {
  k: string;
  n: number;
}

function windowed(assigner: WindowAssignerSpec, opts: { bound?: number; lateness?: number; late?: boolean } = {}) {
  const p = pipeline('w');
  let w = p
    .source(kafkaSource({ topic: 'in', value: 'json', eventTime: { outOfOrdernessMs: opts.bound ?? 0 } }))
    .map((v) => v as unknown as Ev)
    .keyBy((e) => e.k)
    .window(assigner)
    .allowedLateness(opts.lateness ?? 0);
  if (opts.late) w = w.sideOutputLateData(kafkaSink({ topic: 'late' }));
  w.aggregate(sum<Ev>((e) => e.n), (k, total, win) => ({ k, total, start: win.start, end: win.end })).sinkTo(kafkaSink({ topic: 'out' }));
  return p;
}

const ev = (k: string, n: number): Ev => ({ k, n });

describe('time windows in event time', () => {
  it('tumbling: one result per key and window, fired by the watermark', async () => {
    const out = await valuesOf(windowed(tumbling(10)), 'out', at([1, ev('a', 1)], [5, ev('b', 2)], [9, ev('a', 3)], [10, ev('a', 4)], [25, ev('a', 5)]));
    expect(out).toEqual([
      { k: 'a', total: 4, start: 0, end: 10 },
      { k: 'b', total: 2, start: 0, end: 10 },
      { k: 'a', total: 4, start: 10, end: 20 },
      { k: 'a', total: 5, start: 20, end: 30 },
    ]);
  });

  it('sliding: each record lands in size/slide windows, as SlidingEventTimeWindows assigns', async () => {
    const out = (await valuesOf(windowed(sliding(10, 5)), 'out', at([3, ev('a', 1)], [7, ev('a', 10)]))) as Array<{ start: number; total: number }>;
    expect(sortBy(out, (o) => o.start)).toEqual([
      { k: 'a', total: 1, start: -5, end: 5 },
      { k: 'a', total: 11, start: 0, end: 10 },
      { k: 'a', total: 10, start: 5, end: 15 },
    ]);
  });

  it('session: windows that touch merge; a bridging record joins two sessions', async () => {
    const input = at([0, ev('a', 1)], [20, ev('a', 2)], [10, ev('a', 4)], [100, ev('a', 8)]);
    // Gap 10: [0,10) and [20,30) are apart until 10 arrives: [10,20) touches both -> [0,30).
    const out = await valuesOf(windowed(session(10), { bound: 50 }), 'out', input);
    expect(out).toEqual([
      { k: 'a', total: 7, start: 0, end: 30 },
      { k: 'a', total: 8, start: 100, end: 110 },
    ]);
  });

  it('session: a record touching a session already fired and purged starts a new one', async () => {
    // bound 0: after ts 10 the watermark is 9 = end - 1 of [0,10), which fires and is purged;
    // a's record at 10 is on time ([10,20) ends after 9) and touches the purged session.
    const out = await valuesOf(windowed(session(10)), 'out', at([0, ev('a', 1)], [10, ev('b', 1)], [10, ev('a', 2)]));
    expect(sortBy(out as Array<{ k: string; start: number }>, (o) => `${o.k}${o.start}`)).toEqual([
      { k: 'a', total: 1, start: 0, end: 10 },
      { k: 'a', total: 2, start: 10, end: 20 },
      { k: 'b', total: 1, start: 10, end: 20 },
    ]);
  });

  it('late records go to the side output with their original timestamp; on-time ones are counted', async () => {
    const p = windowed(tumbling(10), { late: true });
    const input = at([1, ev('a', 1)], [15, ev('a', 2)], [3, ev('a', 4)], [12, ev('a', 8)]);
    expect(await valuesOf(p, 'out', input)).toEqual([
      { k: 'a', total: 1, start: 0, end: 10 },
      { k: 'a', total: 10, start: 10, end: 20 },
    ]);
    const { outputsOf } = await import('./support/run');
    const late = (await outputsOf(p, input)).filter((o) => o.topic === 'late');
    expect(late.map((o) => [o.value, o.timestamp])).toEqual([[{ k: 'a', n: 4 }, 3]]);
  });

  it('allowed lateness: a late-but-allowed record fires the window again with the update', async () => {
    const p = windowed(tumbling(10), { lateness: 10, late: true });
    const input = at([1, ev('a', 1)], [15, ev('a', 2)], [3, ev('a', 4)], [40, ev('a', 0)], [5, ev('a', 100)]);
    expect(await valuesOf(p, 'out', input)).toEqual([
      { k: 'a', total: 1, start: 0, end: 10 },
      { k: 'a', total: 5, start: 0, end: 10 },
      { k: 'a', total: 2, start: 10, end: 20 },
      { k: 'a', total: 0, start: 40, end: 50 },
    ]);
  });

  it('batch size decides where watermarks fall: with one batch nothing is late', async () => {
    const p = windowed(tumbling(10), { late: true });
    const input = at([1, ev('a', 1)], [15, ev('a', 2)], [3, ev('a', 4)]);
    expect(await valuesOf(p, 'late', input, { partitions: 1, batchSize: 1 })).toHaveLength(1);
    expect(await valuesOf(p, 'late', input, { partitions: 1, batchSize: 100 })).toHaveLength(0);
    // Which record is late, and what each batching counts: the record at 3 is dropped from
    // [0, 10) after the watermark passed 9, or counted when all three are judged together.
    expect(await valuesOf(p, 'late', input, { partitions: 1, batchSize: 1 })).toEqual([{ k: 'a', n: 4 }]);
    expect(await valuesOf(p, 'out', input, { partitions: 1, batchSize: 1 })).toEqual([
      { k: 'a', total: 1, start: 0, end: 10 },
      { k: 'a', total: 2, start: 10, end: 20 },
    ]);
    expect(await valuesOf(p, 'out', input, { partitions: 1, batchSize: 100 })).toEqual([
      { k: 'a', total: 5, start: 0, end: 10 },
      { k: 'a', total: 2, start: 10, end: 20 },
    ]);
  });
});

describe('count and global windows', () => {
  const build = (assigner: WindowAssignerSpec) => {
    const p = pipeline('c');
    p.source(kafkaSource({ topic: 'in', value: 'json' }))
      .map((v) => v as unknown as Ev)
      .keyBy((e) => e.k)
      .window(assigner)
      .aggregate(collecting<number>() as never, (k, xs: number[]) => ({ k, xs }))
      .sinkTo(kafkaSink({ topic: 'out' }));
    return p;
  };
  const nums = (k: string, ...ns: number[]) => ns.map((n, i) => ({ timestamp: i, value: { k, n }, partition: 0 }));
  const collect = (p: ReturnType<typeof build>, input: ReturnType<typeof nums>) =>
    valuesOf(p, 'out', input).then((o) => (o as Array<{ k: string; xs: Ev[] }>).map((x) => x.xs.map((e) => e.n)));

  it('tumbling count window fires every n records per key and purges', async () => {
    expect(await collect(build(countWindow(2)), nums('a', 1, 2, 3, 4, 5))).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });

  it('sliding count window fires every slide records over the last size', async () => {
    expect(await collect(build(countWindow(3, 1)), nums('a', 1, 2, 3, 4))).toEqual([[1], [1, 2], [1, 2, 3], [2, 3, 4]]);
  });

  it('global window with a count trigger keeps contents unless purging', async () => {
    expect(await collect(build(globalWindow(countTrigger(2))), nums('a', 1, 2, 3, 4))).toEqual([
      [1, 2],
      [1, 2, 3, 4],
    ]);
    expect(await collect(build(globalWindow(countTrigger(2, { purge: true }))), nums('a', 1, 2, 3, 4))).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });
});

describe('processing-time windows', () => {
  it('assign by processing time (the embedded clock follows the input) and fire when it passes the end', async () => {
    const p = pipeline('pt');
    p.source(kafkaSource({ topic: 'in' }))
      .keyBy(() => 'all')
      .window(tumbling(100, { time: 'processing' }))
      .aggregate(count(), (_k, n, w) => ({ n, start: w.start }))
      .sinkTo(kafkaSink({ topic: 'out' }));
    const input = [0, 10, 20, 150, 160, 420].map((t) => ({ timestamp: t, value: 'x', partition: 0 }));
    expect(await valuesOf(p, 'out', input)).toEqual([
      { n: 3, start: 0 },
      { n: 2, start: 100 },
      { n: 1, start: 400 },
    ]);
  });
});
