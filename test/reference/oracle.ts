/**
 * Reference oracle for the six Weir example pipelines (independent of the engine).
 *
 *   expectedOutput(example, records, { batchSize })
 *     exact output of a run where all records are in ONE source partition, in
 *     input order, cut into consecutive batches of batchSize, with a watermark
 *     emitted after every batch (see simulate.ts for the rules).
 *
 *   expectedFinalResults(example, records)
 *     schedule-independent results for MULTI-partition input whose records are
 *     at most bound - 1 ms behind their partition's max (see final-results.ts).
 */
import { chunk, runSchedule } from './simulate';
import { ExampleName, Expected, InputRecord } from './types';

export { expectedFinalResults } from './final-results';
export { runSchedule, chunk } from './simulate';
export type { ScheduledBatch } from './simulate';
export * from './types';

export function expectedOutput(example: ExampleName, records: InputRecord[], opts: { batchSize: number }): Expected {
  const partitions = new Set(records.map((r) => r.partition ?? 0));
  if (partitions.size > 1) {
    throw new Error(`expectedOutput models one partition, but the records use ${partitions.size}`);
  }
  const partition = records[0]?.partition ?? 0;
  const schedule = chunk(
    records.map((_, i) => i),
    opts.batchSize,
  ).map((indexes) => ({ partition, indexes }));
  return runSchedule(example, records, schedule);
}
