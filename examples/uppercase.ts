import { kafkaSink, kafkaSource, pipeline } from '../shared/api';

// Topic to topic, one stage, no state.
const p = pipeline('uppercase');
p.source(kafkaSource({ topic: 'lines' }))
  .map((line) => line.toUpperCase())
  .sinkTo(kafkaSink({ topic: 'lines-upper', value: 'string' }));
export default p;
