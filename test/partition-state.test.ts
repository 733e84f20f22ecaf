import { MemoryCommitLog } from '../shared/adapters/memory/memory-commit-log';
import { count, kafkaSink, kafkaSource, pipeline, tumbling, valueState } from '../shared/api';
import { PartitionTooLargeError, StateConflictError } from '../shared/runtime/errors';
import { combineLanes } from '../shared/runtime/progress';
import { PartitionCache } from '../shared/runtime/state/partition-cache';
import { decodeBody, PartitionState } from '../shared/runtime/state/partition-state';
import { TimerQueue } from '../shared/runtime/state/timer-queue';
import { Harness } from './support/harness';
import { recordRow } from './support/reliability';

const wordCount = (name: string) => {
  const p = pipeline(name);
  p.source(kafkaSource({ topic: 'lines', eventTime: { outOfOrdernessMs: 0 } }))
    .flatMap((l) => l.split(' '))
    .keyBy((w) => w)
    .window(tumbling(1000))
    .aggregate(count(), (w, n, win) => `${w}:${n}@${win.start}`)
    .sinkTo(kafkaSink({ topic: 'out', value: 'string' }));
  return p;
};

describe('timer queue', () => {
  it('pops in (time, key) order whatever the push order', () => {
    const q = new TimerQueue();
    for (const [t, k] of [[5, 'b'], [1, 'z'], [5, 'a'], [3, 'm'], [1, 'a']] as const) q.push(t, k);
    const out: string[] = [];
    for (let e = q.pop(); e; e = q.pop()) out.push(`${e[0]}${e[1]}`);
    expect(out).toEqual(['1a', '1z', '3m', '5a', '5b']);
  });
});

describe('partition state', () => {
  const next = (ops: Record<string, unknown>): number | undefined => (typeof ops.t === 'number' ? ops.t : undefined);

  it('restores from its snapshot and entries to the same keys, progress, sizes and due timers', () => {
    const a = new PartitionState(next);
    a.set('x', { t: 10 });
    a.set('y', { t: 5 });
    a.progress.offsetDone = 7;
    const snap = a.encodeSnapshot();
    a.set('y', undefined);
    a.set('z', { t: 1, v: [1, 2] });
    a.progress.offsetDone = 9;
    const entry = a.encodeEntry(['y', 'z']).body;
    const b = new PartitionState(next);
    b.apply(decodeBody(1, snap));
    b.apply(decodeBody(2, entry));
    expect([...b.keys.entries()]).toEqual([...a.keys.entries()].sort(([k1], [k2]) => (k1 === 'x' ? -1 : k2 === 'x' ? 1 : 0)));
    expect(b.bytes).toBe(a.bytes);
    expect(b.progress.offsetDone).toBe(9);
    expect(b.due('event', 100)).toEqual([1, 'z']);
    b.set('z', undefined);
    expect(b.due('event', 100)).toEqual([10, 'x']);
    expect(b.due('event', 9)).toBeUndefined();
  });
});

describe('partition cache', () => {
  it('a warm environment reads only the commits it missed; a stale one catches up from the log; results equal one environment', async () => {
    const run = async (environments: number): Promise<{ out: string[]; metrics: Harness['metrics'] }> => {
      const h = new Harness(wordCount('cache'), 1);
      const pool = Array.from({ length: environments }, () => h.executor('s1'));
      const lines = ['a b', 'a', 'b c', 'a', 'c c', 'b'];
      for (const [i, line] of lines.entries()) {
        h.produce('lines', 0, 400 * i, line);
        await h.deliver('s0');
        await h.deliver('s1', 100, pool[i % environments]);
      }
      return { out: h.records('out').map((r) => String(r.value)), metrics: h.metrics };
    };
    const one = await run(1);
    const three = await run(3);
    expect(one.out).toEqual(['a:2@0', 'b:2@0', 'c:1@0', 'a:1@1000', 'c:2@1000']);
    expect(three.out).toEqual(one.out);
    // One environment restores once, then every batch finds its state current.
    expect(one.metrics.restores).toBe(1);
    expect(one.metrics.cacheHits).toBe(5);
    // Three: each restores once (cold), then catches up from the log tail on each visit.
    expect(three.metrics.restores).toBe(3);
    expect(three.metrics.cacheMisses).toBe(6);
  });

  it('a stale environment cannot commit: its append finds the seq taken', async () => {
    const log = new MemoryCommitLog();
    await log.append('p#s#0', 1, '{"p":{},"lb":0}');
    await expect(log.append('p#s#0', 1, '{"p":{},"lb":0}')).rejects.toThrow(StateConflictError);
  });

  it('fails a partition over the cache limit with an error naming the partition, the limit and the fix', async () => {
    const log = new MemoryCommitLog();
    const big = new PartitionState(() => undefined);
    big.set('k', { s: 'x'.repeat(5000) });
    await log.snapshot('p#s1#3', 1, big.encodeSnapshot());
    const cache = new PartitionCache(log, () => undefined, 1000, () => undefined);
    const err = await cache.load('p#s1#3').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PartitionTooLargeError);
    expect((err as Error).message).toMatch(/partition p#s1#3 .* more partitions .* more memory/);
  });
});

describe('event time never moves back (issue 11, scenario 2)', () => {
  it('a lane that wakes from idleness below the emitted watermark takes no part in the minimum until it catches up', () => {
    const lanes = { l0: { wm: 20_000, idle: false }, l1: { wm: 5_000, idle: false } };
    expect(combineLanes(['l0', 'l1'], lanes)).toEqual({ wm: 5_000, idle: false });
    expect(combineLanes(['l0', 'l1'], lanes, 12_000)).toEqual({ wm: 20_000, idle: false });
    expect(combineLanes(['l0', 'l1'], { l0: { wm: 11_000, idle: false }, l1: { wm: 5_000, idle: false } }, 12_000)).toEqual({ wm: 12_000, idle: false });
  });

  it('a window that fired while an input was idle does not fire again when that input wakes with a low watermark', async () => {
    const p = pipeline('wake');
    p.source(kafkaSource({ topic: 'in', eventTime: { outOfOrdernessMs: 0, idleTimeoutMs: 1000 } }))
      .keyBy(() => 'k')
      .window(tumbling(10_000))
      .aggregate(count(), (k, n, w) => ({ n, start: w.start }))
      .sinkTo(kafkaSink({ topic: 'out' }));
    const h = new Harness(p, 2);
    h.now = 0;
    await h.executor('s0').tick(() => 2);
    h.produce('in', 0, 1_000, 'x');
    h.produce('in', 1, 2_000, 'x');
    await h.deliver('s0');
    await h.deliver('s1');
    // Input 1 goes idle; input 0 moves event time past the window's end: it fires with n = 2.
    h.now = 5_000;
    h.produce('in', 0, 15_000, 'x');
    await h.deliver('s0');
    await h.executor('s0').tick(() => 2);
    await h.deliver('s1');
    // Input 1 wakes with a record for the fired window (late in that batch, whose watermark
    // is still past the window), then sends another one in the next batch.
    h.produce('in', 1, 3_000, 'x');
    await h.deliver('s0');
    await h.deliver('s1');
    h.produce('in', 1, 4_000, 'x');
    await h.deliver('s0');
    await h.deliver('s1');
    h.produce('in', 0, 40_000, 'x');
    h.produce('in', 1, 40_000, 'x');
    await h.deliver('s0');
    await h.deliver('s1');
    const ids = h.records('out').map((r) => `${r.headers['weir-id']}=${r.value}`);
    const first = ids.filter((x) => x.includes('/0-10000/'));
    expect(first).toHaveLength(1);
    expect(first[0]).toMatch(/"n":2/);
    const late = h.records('wake-dlq').length;
    recordRow({
      row: '19',
      injected: 'embedded harness: input 1 idle while input 0 moves event time past [0, 10000), which fires with n = 2; input 1 wakes with a record at 3000',
      recordsIn: 7,
      lost: 0,
      duplicated: first.length - 1,
      dlq: late,
      outcome: 'one result for the window, n = 2: the combined watermark kept its floor and the woken record was late',
      test: 'test/partition-state.test.ts: event time never moves back',
    });
  });
});

describe('a user function that throws while timers fire (issue 11, scenario 5)', () => {
  it('sends that firing to the DLQ naming stage, operator, key and window; other keys fire as usual', async () => {
    const p = pipeline('firing');
    p.source(kafkaSource({ topic: 'in', eventTime: { outOfOrdernessMs: 0 } }))
      .keyBy((w) => w)
      .window(tumbling(1000))
      .aggregate(count(), (w, n) => {
        if (w === 'bad') throw new Error('result function broke');
        return `${w}:${n}`;
      })
      .sinkTo(kafkaSink({ topic: 'out', value: 'string' }));
    const h = new Harness(p, 1);
    for (const w of ['a', 'bad', 'b', 'bad']) h.produce('in', 0, 10, w);
    h.produce('in', 0, 5000, 'a');
    await h.deliver('s0');
    await h.deliver('s1');
    expect(h.records('out').map((r) => r.value)).toEqual(['a:1', 'b:1']);
    const dlq = h.records('firing-dlq');
    expect(dlq).toHaveLength(1);
    expect(dlq[0]?.headers['weir-dlq-error']).toMatch(/stage s1, operator ".*", key "bad", window \[0, 1000\) firing 0: .*result function broke/);
    expect(h.metrics.firingErrors).toBe(1);
    recordRow({
      row: '20',
      injected: "embedded harness: a window's result function throws for key \"bad\" when its window fires",
      recordsIn: 5,
      lost: 0,
      duplicated: 0,
      dlq: dlq.length,
      outcome: 'the failed firing is one DLQ record naming stage, operator, key and window; a:1 and b:1 fire as usual; the partition goes on',
      test: 'test/partition-state.test.ts: a user function that throws while timers fire',
    });
  });

  it('an onTimer that throws goes to the DLQ and its key keeps its state; later timers still fire', async () => {
    const p = pipeline('ontimer');
    p.source(kafkaSource({ topic: 'in', eventTime: { outOfOrdernessMs: 0 } }))
      .keyBy((w) => w)
      .process(
        {
          processElement(v, ctx) {
            ctx.state.n.update((ctx.state.n.value() ?? 0) + 1);
            ctx.timers.registerEventTimeTimer(ctx.timestamp + 100);
          },
          onTimer(t, ctx, out) {
            if (ctx.key === 'bad' && t === 110) throw new Error('timer broke');
            out.collect(`${ctx.key}:${String(ctx.state.n.value())}@${t}`);
          },
        },
        { n: valueState<number>() },
      )
      .sinkTo(kafkaSink({ topic: 'out', value: 'string' }));
    const h = new Harness(p, 1);
    h.produce('in', 0, 10, 'bad');
    h.produce('in', 0, 10, 'ok');
    h.produce('in', 0, 500, 'bad');
    h.produce('in', 0, 5000, 'z');
    await h.deliver('s0');
    await h.deliver('s1');
    expect(h.records('out').map((r) => r.value)).toEqual(['ok:1@110', 'bad:2@600']);
    expect(h.records('ontimer-dlq').map((r) => r.headers['weir-dlq-error'])).toEqual([expect.stringMatching(/key "bad", event-time timer 110: .*timer broke/)]);
  });
});
