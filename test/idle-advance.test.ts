import { count, kafkaSink, kafkaSource, pipeline, tumbling } from '../shared/api';
import { runEmbedded } from '../shared/local/embedded';
import { idleWatermark } from '../shared/runtime/executor';
import { dedupById } from './support/examples';
import { Harness } from './support/harness';

// Row 9 of the fault matrix, embedded: with eventTime.idleTimeoutMs, a source partition idle
// past the timeout has its watermark moved on by the processing time elapsed since its last
// record, so the last windows fire when traffic stops entirely.
function windowed(idleTimeoutMs?: number) {
  const p = pipeline('idle-advance');
  p.source(kafkaSource({ topic: 'in', eventTime: { outOfOrdernessMs: 1000, ...(idleTimeoutMs !== undefined ? { idleTimeoutMs } : {}) } }))
    .keyBy((x) => x)
    .window(tumbling(10_000))
    .aggregate(count(), (k, n, w) => ({ k, n, end: w.end }))
    .sinkTo(kafkaSink({ topic: 'out' }));
  return p;
}

describe('idle source partitions advance with processing time (idleTimeoutMs)', () => {
  it('fires the last windows once every partition has been idle long enough, and not before', async () => {
    const h = new Harness(windowed(5000), 2);
    h.now = 2000;
    h.produce('in', 0, 1000, 'a');
    h.produce('in', 0, 2000, 'a');
    h.produce('in', 0, 3000, 'b');
    await h.deliver('s0');
    await h.deliver('s1');
    expect(h.values('out')).toEqual([]);
    const tick = async (now: number): Promise<void> => {
      h.now = now;
      await h.executor('s0').tick(() => 2);
      await h.deliver('s1');
    };
    // Not idle yet (last record at processing time 2000, timeout 5 s).
    await tick(6999);
    expect(h.values('out')).toEqual([]);
    // Idle: watermark 3000 - 1000 - 1 = 1999, plus 6000 ms elapsed = 7999 < 9999.
    await tick(8000);
    expect(h.values('out')).toEqual([]);
    // Plus 8001 ms = 10000: the window [0, 10000) fires, once, however often the ticker runs.
    await tick(10_001);
    await tick(10_001);
    await tick(20_000);
    expect(h.values('out')).toEqual([
      { k: 'a', n: 2, end: 10_000 },
      { k: 'b', n: 1, end: 10_000 },
    ]);
  });

  it('leaves the watermark where the last record put it without idleTimeoutMs (no ticks, no firing)', async () => {
    const h = new Harness(windowed(), 1);
    h.now = 2000;
    h.produce('in', 0, 3000, 'a');
    await h.deliver('s0');
    h.now = 1_000_000;
    expect(h.executor('s0').needsTicks()).toBe(false);
    await h.deliver('s1');
    expect(h.values('out')).toEqual([]);
  });

  it('computes the advanced watermark from the progress record and the clock only', () => {
    expect(idleWatermark(1999, 2000, 10_001)).toBe(10_000);
    expect(idleWatermark(1999, 2000, 1000)).toBe(1999);
    expect(idleWatermark(-Infinity, -Infinity, 5000)).toBe(-Infinity);
    expect(idleWatermark(Infinity, 2000, 5000)).toBe(Infinity);
  });

  it('gives the same results embedded with the chaos of retries and redeliveries', async () => {
    // Embedded processing time is the largest input timestamp delivered so far, so a late
    // record on the other partition is what moves the clock here: deterministic under retries.
    const input = [
      { timestamp: 1000, value: 'a', partition: 0 },
      { timestamp: 2000, value: 'b', partition: 0 },
      { timestamp: 30_000, value: 'c', partition: 1 },
    ];
    const calm = await runEmbedded(windowed(5000), input, { partitions: 2, batchSize: 1 });
    const chaos = await runEmbedded(windowed(5000), input, { partitions: 2, batchSize: 1, chaos: 11 });
    // A retried batch writes its results again under the same weir-id: one copy of each id
    // counts, and dedupById fails if two copies of one id differ (a Map would keep the last).
    const values = (r: typeof calm) => dedupById(r.outputs.filter((o) => o.topic === 'out')).map((o) => JSON.stringify(o.value)).sort();
    expect(values(chaos)).toEqual(values(calm));
    // The calm run's results themselves, each window once; and the chaos run really had faults.
    // (A bounded embedded run reads every partition each round and ends each one with a final
    // watermark, so no partition is ever idle here: this checks chaos equivalence, not the idle
    // advance itself, which the Harness tests above and faults-idle.test.ts check.)
    expect(values(calm)).toEqual([{ k: 'a', n: 1, end: 10_000 }, { k: 'b', n: 1, end: 10_000 }, { k: 'c', n: 1, end: 40_000 }].map((v) => JSON.stringify(v)));
    const faults = chaos.chaos;
    expect(faults && Object.values(faults.crashes).reduce((a, b) => a + b, 0) + faults.redeliveries + faults.duplicatedRecords).toBeGreaterThan(0);
  });
});
