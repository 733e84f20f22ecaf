import { avg, kafkaSink, kafkaSource, pipeline, sliding } from '../shared/api';

interface Reading {
  sensor: string;
  value: number;
}

// Average per sensor over 10 s windows, every 5 s.
const p = pipeline('sliding-average');
p.source(kafkaSource({ topic: 'readings', value: 'json', eventTime: { outOfOrdernessMs: 1000 } }))
  .map((v) => {
    const r = v as Partial<Reading> | null;
    if (!r || typeof r !== 'object' || Array.isArray(r) || typeof r.sensor !== 'string' || typeof r.value !== 'number' || !Number.isFinite(r.value)) {
      throw new Error('reading needs a string "sensor" and a finite number "value"');
    }
    return r as Reading;
  })
  .keyBy((r) => r.sensor)
  .window(sliding(10_000, 5_000))
  .aggregate(avg<Reading>((r) => r.value), (sensor, a, w) => ({ sensor, avg: a.avg, count: a.count, windowStart: w.start, windowEnd: w.end }))
  .sinkTo(kafkaSink({ topic: 'sensor-averages' }));
export default p;
