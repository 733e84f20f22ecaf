import { count, kafkaSink, kafkaSource, pipeline, tumbling } from '../shared/api';

/**
 * The bench's large-state pipeline (issue 12): the windowed word count with a 1 h tumbling
 * window, so every key of the large-state workload (bench/workload.ts LARGE_STATE_SPEC, whose
 * event time spans a few minutes inside one hour) stays open until the final watermark: the
 * keyed stage's partitions hold every key seen, megabytes of state each. Same results
 * ({word,count,windowStart,windowEnd}) as the baseline's TumblingWordCount with this window.
 */
export const LARGE_STATE_WINDOW_MS = 3_600_000;

const p = pipeline('bench-large-state');
p.source(kafkaSource({ topic: 'lines', eventTime: { outOfOrdernessMs: 2000 } }))
  .flatMap((line) => line.toLowerCase().match(/[a-z]+/g) ?? [])
  .keyBy((word) => word)
  .window(tumbling(LARGE_STATE_WINDOW_MS))
  .allowedLateness(0)
  .sideOutputLateData(kafkaSink({ topic: 'late-words', value: 'string' }))
  .aggregate(count(), (word, n, w) => ({ word, count: n, windowStart: w.start, windowEnd: w.end }))
  .sinkTo(kafkaSink({ topic: 'word-counts-1h' }));
export default p;
