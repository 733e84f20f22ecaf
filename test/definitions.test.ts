import { count, countTrigger, countWindow, globalWindow, kafkaSink, kafkaSource, pipeline, session, sliding, tumbling } from '../shared/api';
import type { WindowAssignerSpec } from '../shared/api/windows';
import { planPipeline } from '../shared/plan/planner';
import { ConfigError, PipelineError } from '../shared/runtime/errors';
import { thrown } from './support/thrown';

describe('window sizes and counts are checked where they are defined', () => {
  it.each([
    [() => countWindow(2.5), 'countWindow: size must be a positive integer, got 2.5'],
    [() => countWindow(0), 'countWindow: size must be a positive integer, got 0'],
    [() => countWindow(2 ** 53), 'countWindow: size must be a positive integer, got 9007199254740992'],
    [() => countWindow(3, 1.5), 'countWindow: slide must be a positive integer, got 1.5'],
    [() => countTrigger(0.5), 'countTrigger: count must be a positive integer, got 0.5'],
    [() => tumbling(2.5), 'tumbling: sizeMs must be a positive integer (ms), got 2.5'],
    [() => tumbling(NaN), 'tumbling: sizeMs must be a positive integer (ms), got NaN'],
    [() => tumbling(1000, { offsetMs: 0.5 }), 'tumbling: offsetMs must be an integer (ms), got 0.5'],
    [() => sliding(1000, 0.1), 'sliding: slideMs must be a positive integer (ms), got 0.1'],
    [() => session(-5), 'session: gapMs must be a positive integer (ms), got -5'],
  ])('%#: %s', (make, message) => {
    const err = thrown(make);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toBe(message);
  });

  it('checks a hand-built assigner again when the pipeline is planned, naming the operator', () => {
    const p = pipeline('hand');
    const bad: WindowAssignerSpec = { kind: 'count', size: 2.5, slide: 2.5 };
    p.source(kafkaSource({ topic: 'in' }))
      .keyBy((v) => v)
      .window(bad)
      .aggregate(count(), undefined, 'counted')
      .sinkTo(kafkaSink({ topic: 'out' }));
    const err = thrown(() => planPipeline(p));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toBe('operator "counted" (window): countWindow: size must be a positive integer, got 2.5');
  });

  it('still takes the windows it took', () => {
    expect(countWindow(3, 1)).toEqual({ kind: 'count', size: 3, slide: 1 });
    expect(globalWindow(countTrigger(2, { purge: true }))).toEqual({ kind: 'global', trigger: { kind: 'count', count: 2, purge: true } });
    expect(tumbling(5000, { offsetMs: -1000 })).toEqual({ kind: 'tumbling', time: 'event', sizeMs: 5000, offsetMs: -1000 });
  });
});

describe('sink topics', () => {
  it.each(['.', '..', '', 'a b', 'x'.repeat(250), 'ü'])('refuses the invalid Kafka topic name %j', (topic) => {
    const err = thrown(() => kafkaSink({ topic }));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(/^kafkaSink: topic ".*" is not a valid Kafka topic name; use 1-249 of \[a-zA-Z0-9._-\], not "\." or "\.\."$/);
  });

  it.each(['wc-s1-repartition', 'wc-s7-repartition', 'wc-s1-forward', 'wc-s0-failed', 'wc-s3-failed', 'wc-dlq'])('refuses a sink topic named like the pipeline\'s internal topic %s at plan time', (topic) => {
    const p = pipeline('wc');
    p.source(kafkaSource({ topic: 'lines' }))
      .keyBy((w) => w)
      .aggregate(count())
      .sinkTo(kafkaSink({ topic }), 'out');
    const err = thrown(() => planPipeline(p));
    expect(err).toBeInstanceOf(PipelineError);
    expect(err.message).toBe(`operator "out" (sink) writes to "${topic}", a name pipeline "wc" uses for its own topics (<pipeline>-s<N>-repartition|forward|failed, <pipeline>-dlq); choose another topic`);
  });

  it('refuses a hand-built sink spec with an invalid topic at plan time', () => {
    const p = pipeline('wc');
    p.source(kafkaSource({ topic: 'lines' })).sinkTo({ kind: 'kafka', topic: '..', serde: 'json' }, 'out');
    const err = thrown(() => planPipeline(p));
    expect(err).toBeInstanceOf(PipelineError);
    expect(err.message).toBe('operator "out" (sink): topic ".." is not a valid Kafka topic name; use 1-249 of [a-zA-Z0-9._-], not "." or ".."');
  });

  it('takes topics that only look alike', () => {
    for (const topic of ['wc-s1-repartition-copy', 'other-s1-repartition', 'wc-sx-forward', 'wc-dlq2', '...']) {
      const p = pipeline('wc');
      p.source(kafkaSource({ topic: 'lines' })).sinkTo(kafkaSink({ topic }));
      expect(() => planPipeline(p)).not.toThrow();
    }
  });
});

describe('pipeline options', () => {
  it('names maxMessageBytes when it is out of range', () => {
    const err = thrown(() => pipeline('p', { maxMessageBytes: 100 }));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toBe('pipeline("p"): maxMessageBytes must be an integer >= 4096, got 100');
  });
});
