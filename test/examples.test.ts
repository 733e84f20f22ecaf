import { runEmbedded } from '../shared/local/embedded';
import { expectedFinalResults, expectedOutput } from './reference/oracle';
import { multiPartitionWithinBound, singlePartitionWithLateness } from './reference/generators';
import { resolve } from 'node:path';
import { loadPipeline } from '../shared/local/load-pipeline';
import { canonical, dedupById, example, EXAMPLES, isDlq } from './support/examples';
import { sensorReadings } from './support/sensor-input';

// Every example against an independent reference of Flink's semantics, on generated inputs
// the code has never seen: one partition with late records, and several partitions
// out of order within the bound.
describe.each(EXAMPLES)('example %s', (name) => {
  const p = example(name);

  it.each([
    [1, 1],
    [2, 3],
    [3, 100],
  ])('one partition, seed %i, batch size %i: exactly the reference output', async (seed, batchSize) => {
    const input = singlePartitionWithLateness(name, seed, 120);
    const expected = expectedOutput(name, input, { batchSize });
    const run = await runEmbedded(p, input, { partitions: 1, batchSize });
    expect(canonical(name, run.outputs)).toEqual(canonical(name, expected.outputs.map((o) => ({ ...o, partition: 0, key: null, headers: {} }))));
    expect(run.outputs.filter((o) => isDlq(name, o))).toHaveLength(expected.dlqCount);
  });

  it('records all on partition 0 of 4: empty partitions do not hold the watermark back', async () => {
    const input = singlePartitionWithLateness(name, 11, 80);
    const expected = expectedOutput(name, input, { batchSize: 1 });
    const run = await runEmbedded(p, input, { partitions: 4, batchSize: 1 });
    expect(canonical(name, run.outputs)).toEqual(canonical(name, expected.outputs.map((o) => ({ ...o, partition: 0, key: null, headers: {} }))));
    // canonical() leaves the dead-letter topic out: check it too.
    expect(run.outputs.filter((o) => isDlq(name, o))).toHaveLength(expected.dlqCount);
  });

  it.each([
    [4, 4, 7],
    [5, 3, 50],
  ])('several partitions, seed %i (%i partitions, batch %i): the reference final results', async (seed, partitions, batchSize) => {
    const input = multiPartitionWithinBound(name, seed, 200, partitions);
    const expected = expectedFinalResults(name, input);
    const run = await runEmbedded(p, input, { partitions, batchSize });
    const sinkOut = run.outputs.filter((o) => !isDlq(name, o));
    expect(run.outputs.filter((o) => isDlq(name, o))).toHaveLength(expected.dlqCount);
    if (name === 'sum') {
      const sums = sinkOut.map((o) => (o.value as { sum: number }).sum);
      expect(sums).toHaveLength(expected.sum?.validCount ?? -1);
      // The last output of the single global key carries the total.
      expect(sums[sums.length - 1]).toBe(expected.sum?.finalSum);
      return;
    }
    const ignoreTimestamps = name === 'wordcount';
    expect(canonical(name, sinkOut, { ignoreTimestamps })).toEqual(
      canonical(name, expected.outputs.map((o) => ({ ...o, partition: 0, key: null, headers: {} })), { ignoreTimestamps }),
    );
  });

  it.each([1, 2, 3])('chaos seed %i gives the same results as a run without faults', async (seed) => {
    const input = singlePartitionWithLateness(name, 20 + seed, 100).map((r, i) => ({ ...r, partition: i % 3 }));
    const calm = await runEmbedded(p, input, { partitions: 3, batchSize: 5 });
    const wild = await runEmbedded(p, input, { partitions: 3, batchSize: 5, chaos: seed });
    const faults = wild.chaos;
    expect(faults && Object.values(faults.crashes).reduce((a, b) => a + b, 0) + faults.redeliveries + faults.duplicatedRecords).toBeGreaterThan(0);
    const key = (o: { topic: string; key: string | null; value: unknown; timestamp: number; headers: Record<string, string> }): string =>
      JSON.stringify([o.topic, o.key, o.value, o.timestamp, o.headers['weir-id']]);
    expect(dedupById(wild.outputs).map(key).sort()).toEqual(dedupById(calm.outputs).map(key).sort());
    expect(dedupById(calm.outputs)).toHaveLength(calm.outputs.length);
  });
});

// Processing time in a bounded run is the largest input timestamp delivered so far: with one
// partition, batches of 1 and rising timestamps, each record's processing time is its own
// timestamp, so a few lines give the exact expected windows and TTL-reset alert numbers.
describe('example sensor-alerts (processing-time windows, state TTL)', () => {
  const p = loadPipeline(resolve(__dirname, '../examples/sensor-alerts.ts'));

  it('one partition, batch size 1: windows and alert numbers follow the input timestamps exactly', async () => {
    const input = sensorReadings(5, 60, 1);
    const run = await runEmbedded(p, input, { partitions: 1, batchSize: 1 });
    const readings = input.map((r) => ({ t: r.timestamp, ...(r.value as { sensor: string; temp: number }) }));
    const windows = new Map<string, { sensor: string; hottest: number; windowStart: number; windowEnd: number }>();
    for (const r of readings) {
      const start = r.t - (r.t % 10_000);
      const w = windows.get(`${r.sensor}@${start}`);
      if (w) w.hottest = Math.max(w.hottest, r.temp);
      else windows.set(`${r.sensor}@${start}`, { sensor: r.sensor, hottest: r.temp, windowStart: start, windowEnd: start + 10_000 });
    }
    const last = new Map<string, { n: number; t: number }>();
    const alerts = readings.flatMap((r) => {
      if (r.temp <= 80) return [];
      const prev = last.get(r.sensor);
      // TTL 30 s from the last write (Flink's OnCreateAndWrite): expired state reads as empty.
      const alertNo = prev && r.t - prev.t < 30_000 ? prev.n + 1 : 1;
      last.set(r.sensor, { n: alertNo, t: r.t });
      return [{ sensor: r.sensor, temp: r.temp, alertNo, at: r.t }];
    });
    const values = (topic: string): string[] => run.outputs.filter((o) => o.topic === topic).map((o) => JSON.stringify(o.value)).sort();
    expect(values('sensor-max-10s')).toEqual([...windows.values()].map((w) => JSON.stringify(w)).sort());
    expect(values('sensor-alerts')).toEqual(alerts.map((a) => JSON.stringify(a)).sort());
    // The input must exercise the TTL: some numbers restart at 1, some reach 3 or more.
    expect(alerts.filter((a) => a.alertNo === 1).length).toBeGreaterThan(1);
    expect(Math.max(...alerts.map((a) => a.alertNo))).toBeGreaterThanOrEqual(3);
  });
});
