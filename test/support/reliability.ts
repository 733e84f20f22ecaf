import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { LocalRunResult } from '../../shared/local/local-run';
import type { OutputRecord } from '../../shared/local/output-file';
import type { PipelinePlan } from '../../shared/plan/types';
import { scenarioOf, type ReliabilityRowId } from './reliability-matrix';
import type { Validation } from './validator';

/**
 * One row of docs/RELIABILITY.md, written by the test that measured it to
 * test-output/reliability/<row>.json. Tests write nowhere else: the table is rendered from a
 * complete, passing set of rows by `npm run reliability:doc` (scripts/reliability-doc.ts).
 */
export interface ReliabilityRow {
  /** The row number, with a letter for sub-rows: "2a". */
  readonly row: ReliabilityRowId;
  /** From RELIABILITY_MATRIX, never typed by a test. */
  readonly scenario: string;
  readonly injected: string;
  readonly recordsIn: number;
  readonly lost: number;
  readonly duplicated: number;
  /** Records the scenario sends to the dead-letter or an on-failure topic on purpose (bad input, retries exhausted), distinct weir-ids. */
  readonly dlq: number;
  readonly outcome: string;
  /** The test that produced the row (file and name). */
  readonly test: string;
}

export type RowInput = Omit<ReliabilityRow, 'scenario'>;

export const RELIABILITY_DIR = resolve(__dirname, '../../test-output/reliability');

export function recordRow(r: RowInput): void {
  mkdirSync(RELIABILITY_DIR, { recursive: true });
  const row: ReliabilityRow = { ...r, scenario: scenarioOf(r.row) };
  writeFileSync(join(RELIABILITY_DIR, `${r.row}.json`), `${JSON.stringify(row, null, 2)}\n`);
}

/**
 * Records a row from a validation: lost counts lost records, duplicated counts duplicated
 * and unexpected ones (a wrong total is a record counted twice or a wrong result).
 */
export function recordValidation(v: Validation, r: Omit<RowInput, 'lost' | 'duplicated'>): void {
  const clean = v.lost.length === 0 && v.duplicated.length === 0 && v.unexpected.length === 0;
  recordRow({ ...r, lost: v.lost.length, duplicated: v.duplicated.length + v.unexpected.length, outcome: clean ? r.outcome : `FAILED: ${v.lost.length} lost, ${v.duplicated.length} duplicated, ${v.unexpected.length} unexpected` });
}

/** Distinct weir-ids on the pipeline's dead-letter topic among `outputs`. */
export function dlqRecords(plan: PipelinePlan, outputs: readonly OutputRecord[]): number {
  const dlq = new Set(plan.topics.filter((t) => t.role === 'dlq').map((t) => t.name));
  return new Set(outputs.filter((o) => dlq.has(o.topic)).map((o) => o.headers['weir-id'] ?? JSON.stringify(o))).size;
}

/** A local run's records on the dead-letter topic and on the on-failure topics. */
export function dlqOfRun(local: LocalRunResult): number {
  return dlqRecords(local.plan, local.outputs) + local.onFailure.reduce((a, f) => a + f.records, 0);
}
