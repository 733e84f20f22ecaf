import { count, kafkaSink, kafkaSource, pipeline } from '../shared/api';

// Running word count, one output per word occurrence (Flink's keyBy().sum()).
const p = pipeline('wordcount');
p.source(kafkaSource({ topic: 'lines' }))
  .flatMap((line) => line.toLowerCase().match(/[a-z]+/g) ?? [])
  .keyBy((word) => word)
  .aggregate(count(), (word, n) => ({ word, count: n }))
  .sinkTo(kafkaSink({ topic: 'word-counts' }));
export default p;
