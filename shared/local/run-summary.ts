import type { PipelinePlan } from '../plan/types';
import { H_ID } from '../runtime/wire';
import type { OutputRecord } from './output-file';

/** What a run wrote to one output (topic, table or function sink), counted by weir-id. */
export interface OutputTally {
  readonly topic: string;
  readonly role: 'sink' | 'late' | 'dlq';
  /** Distinct results: one per weir-id (a retried or redelivered batch writes the same id again). */
  readonly distinct: number;
  /** Records written, copies included. */
  readonly copies: number;
}

/**
 * Counts each output by distinct weir-id, in output order of first appearance. Invocation
 * metrics cannot serve here: a retried batch counts its late records again (or not, when it
 * died before counting) while the topic holds every copy it produced, so only the ids say
 * how many results there are.
 */
export function tallyOutputs(plan: PipelinePlan, outputs: readonly OutputRecord[]): OutputTally[] {
  const byTopic = new Map<string, { role: OutputTally['role']; ids: Set<string>; copies: number }>();
  for (const o of outputs) {
    let t = byTopic.get(o.topic);
    if (!t) byTopic.set(o.topic, (t = { role: roleOf(plan, o.topic), ids: new Set(), copies: 0 }));
    // Without an id (none is written today) a record can only be told apart by its content.
    t.ids.add(o.headers[H_ID] ?? JSON.stringify([o.partition, o.key, o.value, o.timestamp]));
    t.copies++;
  }
  return [...byTopic].map(([topic, t]) => ({ topic, role: t.role, distinct: t.ids.size, copies: t.copies }));
}

function roleOf(plan: PipelinePlan, topic: string): OutputTally['role'] {
  const role = plan.topics.find((t) => t.name === topic)?.role;
  return role === 'late' || role === 'dlq' ? role : 'sink';
}

/** `3 records` or `1 record (3 copies)`: copies are named only when there are more than results. */
export function countText(distinct: number, copies: number): string {
  const n = `${distinct} ${distinct === 1 ? 'record' : 'records'}`;
  return copies === distinct ? n : `${n} (${copies} copies)`;
}

/** Summary lines: one per output, then late and dead letters in total (distinct weir-ids). */
export function formatTally(tally: readonly OutputTally[]): string[] {
  const sum = (role: OutputTally['role']): [number, number] =>
    tally.filter((t) => t.role === role).reduce<[number, number]>(([d, c], t) => [d + t.distinct, c + t.copies], [0, 0]);
  const [late, lateCopies] = sum('late');
  const [dlq, dlqCopies] = sum('dlq');
  return [
    ...tally.map((t) => `  ${t.topic}: ${countText(t.distinct, t.copies)}`),
    `  late: ${countText(late, lateCopies)}, dead letters: ${countText(dlq, dlqCopies)} (distinct weir-ids)`,
  ];
}
