import { kafkaSink, kafkaSource, pipeline, sum } from '../shared/api';

// Running sum of integer strings; anything else goes to the dead-letter topic `sum-dlq`.
const p = pipeline('sum');
p.source(kafkaSource({ topic: 'numbers' }))
  .map((text) => {
    if (!/^\s*[-+]?\d+\s*$/.test(text)) throw new Error('value is not an integer string');
    return Number(text.trim());
  })
  .keyBy(() => 'all')
  .aggregate(sum<number>(), (_key, total) => ({ sum: total }))
  .sinkTo(kafkaSink({ topic: 'sum' }));
export default p;
