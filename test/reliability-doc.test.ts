import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ReliabilityRow } from './support/reliability';
import { problemsOf, renderReliabilityDoc, TABLE_HEADER, tableRows } from './support/reliability-doc';
import { RELIABILITY_MATRIX } from './support/reliability-matrix';

// Issue 11 item 15: tests write only under test-output/; docs/RELIABILITY.md comes from a
// complete passing run through `npm run reliability:doc`, and must list the matrix's rows.
const root = resolve(__dirname, '..');
const work = join(root, 'test-output', 'reliability-doc-test');

const passing = (): ReliabilityRow[] =>
  RELIABILITY_MATRIX.map((m, i) => ({ row: m.row, scenario: m.scenario, injected: `fault ${i}`, recordsIn: 100 + i, lost: 0, duplicated: 0, dlq: m.row === '10' ? 20 : 0, outcome: 'exact', test: 't' }));

function runScript(rows: readonly ReliabilityRow[]): { status: number | null; stderr: string; doc: string | undefined } {
  const dir = join(work, 'rows');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const r of rows) writeFileSync(join(dir, `${r.row}.json`), JSON.stringify(r));
  const doc = join(work, 'RELIABILITY.md');
  const r = spawnSync(process.execPath, [join(root, 'node_modules/tsx/dist/cli.mjs'), 'scripts/reliability-doc.ts', dir, doc], { cwd: root, encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr, doc: existsSync(doc) ? readFileSync(doc, 'utf8') : undefined };
}

describe('docs/RELIABILITY.md', () => {
  it('lists exactly the fault matrix rows, in order, with the DLQ column', () => {
    const doc = readFileSync(join(root, 'docs/RELIABILITY.md'), 'utf8');
    expect(doc).toContain(`\n${TABLE_HEADER}\n`);
    expect(tableRows(doc)).toEqual(RELIABILITY_MATRIX.map((m) => ({ row: m.row, scenario: m.scenario })));
  });

  it('is rendered by the script from a complete passing set of rows', () => {
    const r = runScript(passing());
    expect(r.status).toBe(0);
    expect(r.doc).toBe(renderReliabilityDoc(passing()));
    expect(tableRows(r.doc ?? '')).toEqual(RELIABILITY_MATRIX.map((m) => ({ row: m.row, scenario: m.scenario })));
    expect(r.doc).toContain('| 10 | undecodable JSON, records over the size limit, wrong schema, null keys | fault 11 | 111 | 0 | 0 | 20 | exact |');
  });

  it('is left alone when rows are missing or failed', () => {
    const rows = passing().filter((r) => r.row !== '7b');
    rows[0] = { ...(rows[0] as ReliabilityRow), lost: 1, outcome: 'FAILED: 1 lost, 0 duplicated, 0 unexpected' };
    const r = runScript(rows);
    expect(r.status).toBe(1);
    expect(r.doc).toBeUndefined();
    expect(r.stderr).toContain('  - row 1 failed: FAILED: 1 lost, 0 duplicated, 0 unexpected\n');
    expect(r.stderr).toContain('  - row 7b (DynamoDB Local killed and restarted) has no result; run its test\n');
    expect(problemsOf(rows)).toHaveLength(2);
  });

  it('the jest teardown no longer renders it (a failing run used to drop rows from the tracked file)', () => {
    const teardown = readFileSync(join(root, 'test/support/global-teardown.js'), 'utf8');
    expect(teardown).not.toMatch(/reliability-render|RELIABILITY\.md'\)|writeFileSync/);
    expect(existsSync(join(root, 'test/support/reliability-render.js'))).toBe(false);
  });
});
