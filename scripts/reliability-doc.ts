// `npm run reliability:doc`: renders docs/RELIABILITY.md from the rows the fault tests wrote
// to test-output/reliability/, only when they are one complete passing run. Tests never
// write the docs: a failing or partial run used to drop rows from the committed table.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { RELIABILITY_DIR } from '../test/support/reliability';
import { problemsOf, readRows, renderReliabilityDoc } from '../test/support/reliability-doc';

// Arguments only for the test of this script: a rows folder and a target file.
const dir = process.argv[2] ?? RELIABILITY_DIR;
const DOC = process.argv[3] ?? resolve(__dirname, '../docs/RELIABILITY.md');
const rows = readRows(dir);
const problems = problemsOf(rows);
if (problems.length) {
  process.stderr.write(
    `reliability:doc: ${DOC} left as it is; the rows in ${dir} are not one complete passing run:\n${problems.map((p) => `  - ${p}`).join('\n')}\n` +
      'run `npx jest test/integration/faults` (all of it passing), then this command again\n',
  );
  process.exit(1);
}
writeFileSync(DOC, renderReliabilityDoc(rows));
process.stderr.write(`reliability:doc: ${rows.length} rows written to ${DOC}\n`);
