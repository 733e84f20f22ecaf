import { count, kafkaSink, kafkaSource, pipeline, tumbling, type Pipeline } from '../shared/api';
import { planPipeline } from '../shared/plan/planner';
import { PipelineError } from '../shared/runtime/errors';
import { example } from './support/examples';

describe('planner', () => {
  it('cuts the windowed word count into two stages joined by one repartition topic', () => {
    const plan = planPipeline(example('windowed-wordcount'));
    expect(plan.stages.map((s) => [s.id, s.isSource, s.keyed, s.inputTopics])).toEqual([
      ['s0', true, false, ['lines']],
      ['s1', false, true, ['windowed-wordcount-s1-repartition']],
    ]);
    expect(plan.topics.filter((t) => t.role === 'repartition').map((t) => [t.name, t.partitions])).toEqual([['windowed-wordcount-s1-repartition', 4]]);
    expect(plan.stages[1]?.lanes).toEqual(['s0:lines:0', 's0:lines:1', 's0:lines:2', 's0:lines:3']);
    expect(plan.tables).toEqual({ state: 'windowed-wordcount-state', progress: 'windowed-wordcount-progress' });
    expect(plan.topics.map((t) => t.name)).toEqual(expect.arrayContaining(['word-counts-5s', 'late-words', 'windowed-wordcount-dlq']));
  });

  it('chains stateless operators into one stage, and startNewStage() cuts a chain with its settings', () => {
    expect(planPipeline(example('uppercase')).stages).toHaveLength(1);
    const p = pipeline('cut');
    p.source(kafkaSource({ topic: 'in' }))
      .map((s) => s.trim())
      .map((s) => s.toUpperCase())
      .startNewStage({ memoryMb: 2048, partitions: 2 })
      .sinkTo(kafkaSink({ topic: 'out' }));
    const plan = planPipeline(p);
    expect(plan.stages.map((s) => s.nodeIds.length)).toEqual([2, 2]);
    expect(plan.stages[1]).toMatchObject({ keyed: false, settings: { memoryMb: 2048, partitions: 2 }, inputTopics: ['cut-s1-forward'] });
  });

  it('puts a union of streams from two sources in a stage of its own', () => {
    const p = pipeline('u');
    const a = p.source(kafkaSource({ topic: 'a' }));
    const b = p.source(kafkaSource({ topic: 'b' }));
    a.union(b).sinkTo(kafkaSink({ topic: 'out' }));
    const plan = planPipeline(p);
    expect(plan.stages.map((s) => s.inputTopics)).toEqual([['a'], ['b'], ['u-s2-forward']]);
    expect(plan.stages[2]?.lanes).toHaveLength(8);
  });

  const rejects = (build: (p: Pipeline) => void, message: RegExp) => {
    const p = pipeline('bad');
    build(p);
    expect(() => planPipeline(p)).toThrow(PipelineError);
    expect(() => planPipeline(p)).toThrow(message);
  };

  it('rejects a keyBy with no keyed operator after it, naming it', () => {
    rejects((p) => {
      const s = p.source(kafkaSource({ topic: 'in' }));
      s.keyBy((x) => x, 'by-word');
      s.sinkTo(kafkaSink({ topic: 'out' }));
    }, /operator "by-word" \(keyBy\) has no keyed operator after it; follow it with \.window/);
  });

  it('rejects a window without keyBy (built by hand, as plain JavaScript could)', () => {
    rejects((p) => {
      const s = p.source(kafkaSource({ topic: 'in', eventTime: { outOfOrdernessMs: 0 } }));
      const w = p.add({ kind: 'window', assigner: tumbling(10), allowedLatenessMs: 0, aggregate: count() as never, result: (_k, v) => v, inputs: [s.node.id], name: 'win' });
      p.add({ kind: 'sink', sink: kafkaSink({ topic: 'out' }) as never, inputs: [w.id] });
    }, /operator "win" \(window\) needs a keyed stream; add \.keyBy/);
  });

  it('rejects two sinks writing one topic with different serdes', () => {
    rejects((p) => {
      const s = p.source(kafkaSource({ topic: 'in' }));
      s.sinkTo(kafkaSink({ topic: 'out', value: 'string' }), 'first');
      s.sinkTo(kafkaSink({ topic: 'out', value: 'json' }), 'second');
    }, /"second" \(sink\) writes topic "out" as json but operator "first" \(sink\) writes it as string; use one serde per topic/);
  });

  it('rejects an event-time window over a source without event time, naming both', () => {
    rejects((p) => {
      p.source(kafkaSource({ topic: 'in' }))
        .keyBy((x) => x)
        .window(tumbling(10))
        .aggregate(count(), undefined, 'per-10')
        .sinkTo(kafkaSink({ topic: 'out' }));
    }, /"per-10" \(window\) uses event-time windows but source "in" has no event time; add eventTime/);
  });

  it('rejects a pipeline without a sink and a sink that writes the topic it reads', () => {
    rejects((p) => void p.source(kafkaSource({ topic: 'in' })).map((x) => x), /has no sink/);
    rejects((p) => p.source(kafkaSource({ topic: 'in' })).sinkTo(kafkaSink({ topic: 'in', value: 'string' })), /loops forever/);
  });

  it('rejects bad names and settings where they are written', () => {
    expect(() => pipeline('Bad Name')).toThrow(/pipeline\("Bad Name"\): the name must be/);
    expect(() => kafkaSource({ topic: 'in', eventTime: { outOfOrdernessMs: -1 } })).toThrow(/eventTime.outOfOrdernessMs must be a number >= 0, got -1/);
    expect(() => kafkaSink({ topic: 'bad topic' })).toThrow(/topic "bad topic" is not a valid Kafka topic name/);
    expect(() => tumbling(0)).toThrow(/tumbling: sizeMs must be a positive integer \(ms\), got 0/);
  });
});
