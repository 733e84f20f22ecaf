import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Validation } from './validator';

/**
 * One row of docs/RELIABILITY.md, written by the test that measured it. Each test writes its
 * row to test-output/reliability/<row>.json; the jest global teardown renders the table from
 * every row file present (test/support/reliability-render.js), so `npm test` regenerates it.
 */
export interface ReliabilityRow {
  /** The row number, with a letter for sub-rows: "2a". */
  readonly row: string;
  readonly scenario: string;
  readonly injected: string;
  readonly recordsIn: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly outcome: string;
  /** The test that produced the row (file and name). */
  readonly test: string;
}

export const RELIABILITY_DIR = resolve(__dirname, '../../test-output/reliability');

export function recordRow(r: ReliabilityRow): void {
  mkdirSync(RELIABILITY_DIR, { recursive: true });
  writeFileSync(join(RELIABILITY_DIR, `${r.row}.json`), `${JSON.stringify(r, null, 2)}\n`);
}

/**
 * Records a row from a validation: lost counts lost records, duplicated counts duplicated
 * and unexpected ones (a wrong total is a record counted twice or a wrong result).
 */
export function recordValidation(
  v: Validation,
  r: Omit<ReliabilityRow, 'lost' | 'duplicated' | 'outcome'> & { readonly outcome: string },
): void {
  const clean = v.lost.length === 0 && v.duplicated.length === 0 && v.unexpected.length === 0;
  recordRow({ ...r, lost: v.lost.length, duplicated: v.duplicated.length + v.unexpected.length, outcome: clean ? r.outcome : `FAILED: ${v.lost.length} lost, ${v.duplicated.length} duplicated, ${v.unexpected.length} unexpected` });
}
