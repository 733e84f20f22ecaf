/**
 * The driver: feeds records to an Operator batch by batch and models the
 * watermark (Flink's BoundedOutOfOrdernessWatermarks per source partition).
 *
 * Per partition: watermark = max valid timestamp seen - bound - 1 (initially
 * -Infinity), emitted after each batch. The operator's watermark is the minimum
 * over all partitions that occur in the input (no idleness). Every record of a
 * batch is judged against the operator watermark in force before the batch.
 * At the end a final watermark of +Infinity fires everything left.
 */
import { makeOperator } from './operators';
import { ExampleName, Expected, ExpectedOutput, InputRecord, PIPELINES } from './types';

export interface ScheduledBatch {
  partition: number;
  /** Indexes into the records array, in the partition's order. */
  indexes: number[];
}

/** Cuts one partition's record indexes into consecutive batches of at most batchSize. */
export function chunk(indexes: number[], batchSize: number): number[][] {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`bad batchSize ${batchSize}`);
  const batches: number[][] = [];
  for (let i = 0; i < indexes.length; i += batchSize) batches.push(indexes.slice(i, i + batchSize));
  return batches;
}

export function checkRecords(example: ExampleName, records: InputRecord[]): void {
  const topic = PIPELINES[example].sourceTopic;
  records.forEach((r, i) => {
    if (r.topic !== undefined && r.topic !== topic) {
      throw new Error(`record ${i} is on topic ${r.topic}, but ${example} reads ${topic}`);
    }
    if (!Number.isInteger(r.timestamp)) throw new Error(`record ${i} has a non-integer timestamp`);
  });
}

/** Runs `example` over `records` in the order given by `schedule` (every record exactly once). */
export function runSchedule(example: ExampleName, records: InputRecord[], schedule: ScheduledBatch[]): Expected {
  checkRecords(example, records);
  const seen = new Set<number>();
  for (const b of schedule) {
    for (const i of b.indexes) {
      if (seen.has(i) || i < 0 || i >= records.length) throw new Error(`bad schedule index ${i}`);
      seen.add(i);
    }
  }
  if (seen.size !== records.length) throw new Error('schedule does not cover every record');

  const bound = PIPELINES[example].outOfOrdernessMs ?? 0;
  const operator = makeOperator(example);
  const outputs: ExpectedOutput[] = [];
  const dlqInputIndexes: number[] = [];
  const maxTs = new Map<number, number>();
  for (const b of schedule) maxTs.set(b.partition, -Infinity);
  let watermark = -Infinity;

  for (const batch of schedule) {
    const watermarkBefore = watermark;
    for (const i of batch.indexes) {
      const record = records[i];
      if (record === undefined) throw new Error(`no record ${i}`);
      const valid = operator.process(record, watermarkBefore, outputs);
      if (!valid) {
        dlqInputIndexes.push(i);
        continue;
      }
      maxTs.set(batch.partition, Math.max(maxTs.get(batch.partition) ?? -Infinity, record.timestamp));
    }
    const next = Math.min(...[...maxTs.values()].map((m) => m - bound - 1));
    if (next > watermark) {
      watermark = next;
      operator.fire(watermark, outputs);
    }
  }
  operator.fire(Infinity, outputs);

  dlqInputIndexes.sort((a, b) => a - b);
  return { outputs, dlqCount: dlqInputIndexes.length, dlqInputIndexes };
}
