import { count, kafkaSink, kafkaSource, pipeline, tumbling } from '../shared/api';
import { encodeEnvelope, encodeMarker, H_MARKER, H_ORIGIN } from '../shared/runtime/wire';
import { Harness } from './support/harness';

function windowed(name: string, idleTimeoutMs?: number) {
  const p = pipeline(name);
  p.source(kafkaSource({ topic: 'in', eventTime: { outOfOrdernessMs: 1000, ...(idleTimeoutMs !== undefined ? { idleTimeoutMs } : {}) } }))
    .keyBy(() => 'k')
    .window(tumbling(10_000))
    .sideOutputLateData(kafkaSink({ topic: 'late', value: 'string' }))
    .aggregate(count(), (_k, n, w) => ({ n, start: w.start }))
    .sinkTo(kafkaSink({ topic: 'out' }));
  return p;
}

describe('a source partition never processed is not idle at the first tick (issue 11, scenario 3)', () => {
  it("its first batch's on-time records count in their window, even after another partition moved event time", async () => {
    const h = new Harness(windowed('first-tick', 5000), 2);
    h.now = 1_000;
    // The ticker runs before partition 1 ever had a batch.
    await h.executor('s0').tick(() => 2);
    h.produce('in', 0, 1_000, 'a');
    h.produce('in', 0, 25_000, 'b');
    await h.deliver('s0');
    await h.executor('s0').tick(() => 2);
    await h.deliver('s1');
    // Partition 1's first record, on time for its own partition.
    h.now = 2_000;
    h.produce('in', 1, 3_000, 'c');
    h.produce('in', 1, 30_000, 'd');
    await h.deliver('s0');
    await h.deliver('s1');
    expect(h.records('late')).toEqual([]);
    expect(h.values('out')).toEqual([{ n: 2, start: 0 }]);
  });
});

describe('internal headers are trusted only as far as the plan allows (issue 11, scenario 10)', () => {
  it('a record whose origin names a lane that does not feed the partition goes to the DLQ and fences nothing', async () => {
    const h = new Harness(windowed('forged'), 1);
    const topic = 'forged-s1-repartition';
    // A forged record on the internal topic: a lane that does not exist, a huge offset.
    h.broker.append({ topic, partition: 0, key: Buffer.from('k'), value: Buffer.from('"x"'), timestamp: 1_000, headers: { [H_ORIGIN]: encodeEnvelope({ lane: 's9:other:0', offset: 1e12, seq: 0, edge: 1, now: 0 }) } });
    // And a marker from a lane this partition does not combine, carrying a far future watermark and clock.
    h.broker.append({ topic, partition: 0, key: null, value: null, timestamp: 1_000, headers: { [H_MARKER]: encodeMarker({ lane: 's9:other:0', wm: 1e15, idle: false, now: 1e15 }) } });
    await h.deliver('s1');
    h.produce('in', 0, 2_000, 'a');
    h.produce('in', 0, 20_000, 'b');
    await h.deliver('s0');
    await h.deliver('s1');
    expect(h.records('forged-dlq').map((r) => r.headers['weir-dlq-error'])).toEqual([expect.stringMatching(/names lane "s9:other:0", which does not feed this stage partition/)]);
    // The real records were neither fenced off nor made late by the forged marker.
    expect(h.values('out')).toEqual([{ n: 1, start: 0 }]);
    expect(h.records('late')).toEqual([]);
  });
});
