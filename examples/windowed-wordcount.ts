import { count, kafkaSink, kafkaSource, pipeline, tumbling } from '../shared/api';

// Words per 5 s event-time window; records later than the watermark go to `late-words`.
const p = pipeline('windowed-wordcount');
p.source(kafkaSource({ topic: 'lines', eventTime: { outOfOrdernessMs: 2000 } }))
  .flatMap((line) => line.toLowerCase().match(/[a-z]+/g) ?? [])
  .keyBy((word) => word)
  .window(tumbling(5000))
  .allowedLateness(0)
  .sideOutputLateData(kafkaSink({ topic: 'late-words', value: 'string' }))
  .aggregate(count(), (word, n, w) => ({ word, count: n, windowStart: w.start, windowEnd: w.end }))
  .sinkTo(kafkaSink({ topic: 'word-counts-5s' }));
export default p;
