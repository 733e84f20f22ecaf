/**
 * Cross-checks between the two independent parts of the oracle (the per-record
 * simulation and the direct final-results computation), and sanity checks of
 * the generators.
 */
import { canonicalOutputs } from './compare';
import { multiPartitionWithinBound, singlePartitionWithLateness } from './generators';
import { EXAMPLE_NAMES, ExampleName, Expected, InputRecord, expectedFinalResults, expectedOutput, runSchedule } from './oracle';
import { Rng } from './prng';
import { ScheduledBatch } from './simulate';
import { kafkaValueText, parseClick, parseReading, wordsOf } from './decode';

/** A random interleaving of the partitions' batches, with random batch sizes. */
function randomSchedule(records: InputRecord[], rng: Rng): ScheduledBatch[] {
  const pending = new Map<number, number[][]>();
  const byPartition = new Map<number, number[]>();
  records.forEach((r, i) => {
    const p = r.partition ?? 0;
    byPartition.set(p, [...(byPartition.get(p) ?? []), i]);
  });
  for (const [p, indexes] of byPartition) {
    const batches: number[][] = [];
    for (let i = 0; i < indexes.length; ) {
      const size = rng.int(1, 8);
      batches.push(indexes.slice(i, i + size));
      i += size;
    }
    pending.set(p, batches);
  }
  const schedule: ScheduledBatch[] = [];
  while (pending.size > 0) {
    const p = rng.pick([...pending.keys()]);
    const batches = pending.get(p) ?? [];
    const next = batches.shift();
    if (next !== undefined) schedule.push({ partition: p, indexes: next });
    if (batches.length === 0) pending.delete(p);
  }
  return schedule;
}

/** Compares a simulated run with the schedule-independent results. */
function expectMatchesFinal(example: ExampleName, run: Expected, final: Expected): void {
  expect(run.dlqInputIndexes).toEqual(final.dlqInputIndexes);
  expect(run.dlqCount).toBe(final.dlqCount);
  if (example === 'sum') {
    const sums = run.outputs.map((o) => (o.value as { sum: number }).sum);
    expect(sums.length).toBe(final.sum?.validCount);
    expect(sums.length === 0 ? 0 : sums[sums.length - 1]).toBe(final.sum?.finalSum);
    return;
  }
  if (example === 'wordcount') {
    expect(canonicalOutputs(run.outputs, { ignoreTimestamps: true })).toEqual(
      canonicalOutputs(final.outputs, { ignoreTimestamps: true }),
    );
    const timestamps = new Map<string, number[]>();
    for (const o of run.outputs) {
      const word = (o.value as { word: string }).word;
      timestamps.set(word, [...(timestamps.get(word) ?? []), o.timestamp].sort((a, b) => a - b));
    }
    expect(timestamps).toEqual(final.wordTimestamps);
    return;
  }
  expect(canonicalOutputs(run.outputs)).toEqual(canonicalOutputs(final.outputs));
}

describe.each(EXAMPLE_NAMES)('%s', (example) => {
  test('generators are deterministic per seed', () => {
    expect(singlePartitionWithLateness(example, 7, 50)).toEqual(singlePartitionWithLateness(example, 7, 50));
    expect(singlePartitionWithLateness(example, 7, 50)).not.toEqual(singlePartitionWithLateness(example, 8, 50));
    expect(multiPartitionWithinBound(example, 7, 50, 3)).toEqual(multiPartitionWithinBound(example, 7, 50, 3));
  });

  test.each([1, 2, 3, 5])('multi-partition within bound (seed %i): every schedule gives the final results', (seed) => {
    const records = multiPartitionWithinBound(example, seed, 300, 4);
    expect(new Set(records.map((r) => r.partition)).size).toBe(4);
    const final = expectedFinalResults(example, records); // also checks the bound
    const rng = new Rng(seed * 1000 + 17);
    for (let k = 0; k < 10; k++) {
      expectMatchesFinal(example, runSchedule(example, records, randomSchedule(records, rng)), final);
    }
  });

  test.each([11, 12, 13])('one partition within bound (seed %i): expectedOutput = final results for any batchSize', (seed) => {
    const records = multiPartitionWithinBound(example, seed, 300, 1);
    const final = expectedFinalResults(example, records);
    for (const batchSize of [1, 3, 1000]) {
      expectMatchesFinal(example, expectedOutput(example, records, { batchSize }), final);
    }
  });

  test('single partition with lateness: conservation and batch-size effects', () => {
    for (const seed of [21, 22, 23]) {
      const records = singlePartitionWithLateness(example, seed, 400);
      const b1 = expectedOutput(example, records, { batchSize: 1 });
      const all = expectedOutput(example, records, { batchSize: records.length });
      expect(b1.dlqInputIndexes).toEqual(all.dlqInputIndexes);
      if (['sum', 'sessions', 'sliding-average'].includes(example)) expect(b1.dlqCount).toBeGreaterThan(0);
      else expect(b1.dlqCount).toBe(0);

      // b1: a watermark after every record, so late records are dropped / side-output.
      // all: one batch judged against watermark -Infinity, so nothing is late.
      const valid = records.filter((_, i) => !all.dlqInputIndexes.includes(i));
      const count = (e: Expected, field: 'count' | 'clicks') =>
        e.outputs.reduce((n, o) => n + ((o.value as Record<string, number>)[field] ?? 0), 0);

      if (example === 'windowed-wordcount') {
        const words = valid.reduce((n, r) => n + wordsOf(kafkaValueText(r.value)).length, 0);
        const late = b1.outputs.filter((o) => o.topic === 'late-words').length;
        expect(late).toBeGreaterThan(0);
        expect(count(b1, 'count') + late).toBe(words);
        expect(count(all, 'count')).toBe(words);
      }
      if (example === 'sessions') {
        const clicks = valid.filter((r) => parseClick(r.value) !== null).length;
        expect(count(all, 'clicks')).toBe(clicks);
        expect(count(b1, 'clicks')).toBeLessThan(clicks); // some were dropped as late
      }
      if (example === 'sliding-average') {
        const readings = valid.filter((r) => parseReading(r.value) !== null).length;
        expect(count(all, 'count')).toBe(2 * readings); // each reading is in 2 windows
        expect(count(b1, 'count')).toBeLessThan(2 * readings);
      }
      if (['wordcount', 'uppercase', 'sum'].includes(example)) {
        expect(b1).toEqual(all); // no event time: batching changes nothing
      }
    }
  });
});
