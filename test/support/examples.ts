import { resolve } from 'node:path';
import type { Pipeline } from '../../shared/api';
import { loadPipeline } from '../../shared/local/load-pipeline';
import type { OutputRecord } from '../../shared/local/output-file';
import { canonicalOutputs } from '../reference/compare';
import type { ExampleName } from '../reference/types';
import { contentOf } from './validator';

export const EXAMPLES: readonly ExampleName[] = ['wordcount', 'windowed-wordcount', 'uppercase', 'sum', 'sessions', 'sliding-average'];

export function example(name: ExampleName): Pipeline {
  return loadPipeline(resolve(__dirname, '../../examples', `${name}.ts`));
}

/** Output records after deduplication by weir-id; fails if one id carries two contents. */
export function dedupById(outputs: readonly OutputRecord[]): OutputRecord[] {
  const seen = new Map<string, string>();
  const kept: OutputRecord[] = [];
  for (const o of outputs) {
    const id = o.headers['weir-id'];
    if (id === undefined) throw new Error(`output on ${o.topic} has no weir-id header`);
    const content = contentOf(o);
    const prev = seen.get(id);
    if (prev !== undefined) {
      if (prev !== content) throw new Error(`weir-id ${id} was written with two contents: ${prev} and ${content}`);
      continue;
    }
    seen.set(id, content);
    kept.push(o);
  }
  return kept;
}

export function isDlq(name: string, o: OutputRecord): boolean {
  return o.topic === `${name}-dlq`;
}

/** The sink and late outputs as the oracle's canonical multiset. */
export function canonical(name: string, outputs: readonly OutputRecord[], opts: { ignoreTimestamps?: boolean } = {}): string[] {
  return canonicalOutputs(
    outputs.filter((o) => !isDlq(name, o)).map((o) => ({ topic: o.topic, value: o.value, timestamp: o.timestamp })),
    opts,
  );
}
