import type { Pipeline } from '../../shared/api';
import { runEmbedded, type EmbeddedOptions } from '../../shared/local/embedded';
import type { InputRecord } from '../../shared/local/input-file';
import type { OutputRecord } from '../../shared/local/output-file';

/** Runs a pipeline embedded and returns the values written to `topic`, in output order. */
export async function valuesOf(p: Pipeline, topic: string, input: InputRecord[], options: EmbeddedOptions = { partitions: 1, batchSize: 1 }): Promise<unknown[]> {
  const run = await runEmbedded(p, input, options);
  return run.outputs.filter((o) => o.topic === topic).map((o) => o.value);
}

export async function outputsOf(p: Pipeline, input: InputRecord[], options: EmbeddedOptions = { partitions: 1, batchSize: 1 }): Promise<OutputRecord[]> {
  return (await runEmbedded(p, input, options)).outputs;
}

/** Input records with value and timestamp, on partition 0. */
export function at(...pairs: Array<[number, unknown]>): InputRecord[] {
  return pairs.map(([timestamp, value]) => ({ timestamp, value, partition: 0 }));
}

export const sortBy = <T>(xs: T[], f: (x: T) => string | number): T[] => [...xs].sort((a, b) => (f(a) < f(b) ? -1 : f(a) > f(b) ? 1 : 0));
