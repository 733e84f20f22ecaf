import { kafkaSink, kafkaSource, listState, mapState, pipeline, valueState } from '../shared/api';
import { at, valuesOf } from './support/run';

interface Ev {
  k: string;
  v: number;
}

function build() {
  const p = pipeline('proc');
  p.source(kafkaSource({ topic: 'in', value: 'json', eventTime: { outOfOrdernessMs: 0 } }))
    .map((x) => x as unknown as Ev)
    .keyBy((e) => e.k)
    .process<unknown, { sum: ReturnType<typeof valueState<number>>; all: ReturnType<typeof listState<number>>; seen: ReturnType<typeof mapState<number>> }>(
      {
        processElement(e, ctx, out) {
          const sum = (ctx.state.sum.value() ?? 0) + e.v;
          ctx.state.sum.update(sum);
          ctx.state.all.add(e.v);
          ctx.state.seen.put(String(e.v), ctx.timestamp);
          ctx.timers.registerEventTimeTimer(ctx.timestamp + 10);
          if (e.v === 2) ctx.timers.registerProcessingTimeTimer(ctx.timers.currentProcessingTime + 50);
          out.collect({ k: ctx.key, sum });
        },
        onTimer(t, ctx, out) {
          if (ctx.timeDomain === 'processing') out.collect({ k: ctx.key, ptimer: t });
          else out.collect({ k: ctx.key, timer: t, all: ctx.state.all.get(), seen: ctx.state.seen.entries().length });
        },
      },
      { sum: valueState<number>({ ttlMs: 100 }), all: listState<number>(), seen: mapState<number>() },
    )
    .sinkTo(kafkaSink({ topic: 'out' }));
  return p;
}

describe('keyed process function', () => {
  it('keeps value, list and map state per key, expires value state by TTL, and fires event and processing timers in order', async () => {
    const input = at([0, { k: 'a', v: 1 }], [5, { k: 'a', v: 2 }], [200, { k: 'b', v: 1 }], [201, { k: 'a', v: 3 }]);
    expect(await valuesOf(build(), 'out', input)).toEqual([
      { k: 'a', sum: 1 },
      { k: 'a', sum: 3 },
      // processing time reaches 200 with b's record: a's processing timer at 5 + 50 fires first
      { k: 'a', ptimer: 55 },
      { k: 'b', sum: 1 },
      // the watermark after b's record is 199: a's event timers at 10 and 15
      { k: 'a', timer: 10, all: [1, 2], seen: 2 },
      { k: 'a', timer: 15, all: [1, 2], seen: 2 },
      // a's sum was written at processing time 5; at 201 it is older than the 100 ms TTL
      { k: 'a', sum: 3 },
      // end of input: the final watermark fires the rest
      { k: 'b', timer: 210, all: [1], seen: 1 },
      { k: 'a', timer: 211, all: [1, 2, 3], seen: 3 },
    ]);
  });

  it('a throwing function sends the record to the dead-letter topic and leaves the key state untouched', async () => {
    const p = pipeline('boom');
    p.source(kafkaSource({ topic: 'in', value: 'json' }))
      .map((x) => x as unknown as Ev)
      .keyBy((e) => e.k)
      .process(
        {
          processElement(e, ctx, out) {
            ctx.state.n.update((ctx.state.n.value() ?? 0) + 1);
            out.collect(ctx.state.n.value());
            if (e.v < 0) throw new Error('negative');
          },
        },
        { n: valueState<number>() },
      )
      .sinkTo(kafkaSink({ topic: 'out' }));
    const input = at([0, { k: 'a', v: 1 }], [1, { k: 'a', v: -1 }], [2, { k: 'a', v: 1 }]);
    const { outputsOf } = await import('./support/run');
    const outs = await outputsOf(p, input);
    expect(outs.filter((o) => o.topic === 'out').map((o) => o.value)).toEqual([1, 2]);
    const dlq = outs.filter((o) => o.topic === 'boom-dlq');
    expect(dlq).toHaveLength(1);
    expect(dlq[0]?.headers).toMatchObject({ 'weir-dlq-stage': 's1', 'weir-dlq-topic': 'boom-s1-repartition', 'weir-dlq-partition': '0' });
    expect(dlq[0]?.headers['weir-dlq-error']).toContain('negative');
  });
});
