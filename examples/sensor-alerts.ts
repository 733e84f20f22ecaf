import { kafkaSink, kafkaSource, max, pipeline, tumbling, valueState } from '../shared/api';

interface Reading {
  sensor: string;
  temp: number;
}

// Processing time only (no event-time settings): readings per sensor in 10 s processing-time
// windows, and hot readings numbered per sensor, the count forgotten after 30 s without one
// (state TTL, in processing time). A bounded run's processing time is its replay clock
// (docs/ARCHITECTURE.md), so embedded and --local runs agree record for record.
const p = pipeline('sensor-alerts');
const readings = p
  .source(kafkaSource({ topic: 'readings', value: 'json' }))
  .map((v) => {
    const r = v as Partial<Reading> | null;
    if (!r || typeof r !== 'object' || typeof r.sensor !== 'string' || typeof r.temp !== 'number') throw new Error('a reading needs a string "sensor" and a number "temp"');
    return r as Reading;
  });
readings
  .keyBy((r) => r.sensor)
  .window(tumbling(10_000, { time: 'processing' }))
  .aggregate(max((r) => r.temp), (sensor, hottest, w) => ({ sensor, hottest, windowStart: w.start, windowEnd: w.end }))
  .sinkTo(kafkaSink({ topic: 'sensor-max-10s' }));
readings
  .filter((r) => r.temp > 80)
  .keyBy((r) => r.sensor)
  .process(
    {
      processElement(r, ctx, out) {
        const alertNo = (ctx.state.alerts.value() ?? 0) + 1;
        ctx.state.alerts.update(alertNo);
        out.collect({ sensor: r.sensor, temp: r.temp, alertNo, at: ctx.timers.currentProcessingTime });
      },
    },
    { alerts: valueState<number>({ ttlMs: 30_000 }) },
  )
  .sinkTo(kafkaSink({ topic: 'sensor-alerts' }));
export default p;
