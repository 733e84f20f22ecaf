/**
 * The rows of docs/RELIABILITY.md: the row numbers (a letter for sub-rows) and
 * scenario names. Tests record a row by its number and get the name from here, so the
 * table, the tests and this list cannot drift apart (test/reliability-doc.test.ts).
 */
export const RELIABILITY_MATRIX = [
  { row: '1', scenario: 'successful batch delivered again (offset commit lost)' },
  { row: '2a', scenario: 'handler killed (SIGKILL) when its commit arrives: outputs produced, commit not made' },
  { row: '2b', scenario: 'handler killed (SIGKILL) after the commit, before return' },
  { row: '3', scenario: 'function timeout mid-batch, then retry' },
  { row: '4', scenario: 'stalled invocation resumes after its retry finished (zombie)' },
  { row: '5', scenario: 'two invocations on the same partition at once (rebalance overlap)' },
  { row: '6', scenario: 'upstream stage retried after it produced (duplicates at new offsets downstream)' },
  { row: '7a', scenario: 'Kafka broker killed and restarted during produce' },
  { row: '7b', scenario: 'DynamoDB Local killed and restarted' },
  { row: '8', scenario: 'DynamoDB throttling and transient errors' },
  { row: '9', scenario: 'late and out-of-order records; an idle partition; traffic stopping entirely' },
  { row: '10', scenario: 'undecodable JSON, records over the size limit, wrong schema, null keys' },
  { row: '11', scenario: "hot key whose state grows past DynamoDB's 400 KB item limit" },
  { row: '12', scenario: 'retries exhausted' },
  { row: '13', scenario: 'OAUTHBEARER token expiring during a long run' },
  { row: '14', scenario: 'stale caches: several sandboxes handle one partition in turn' },
  { row: '15', scenario: 'cold restore mid-run (every sandbox gone)' },
  { row: '16', scenario: 'handler killed (SIGKILL) between the parts of a snapshot' },
  { row: '17', scenario: 'a produce response lost past the retries, on a sandbox kept warm after the error' },
  { row: '18', scenario: 'a stalled invocation writes its progress after newer batches committed' },
  { row: '19', scenario: 'an idle input wakes with a watermark below what the partition already emitted' },
  { row: '20', scenario: 'a user function throws while timers fire' },
] as const;

export type ReliabilityRowId = (typeof RELIABILITY_MATRIX)[number]['row'];

export function scenarioOf(row: ReliabilityRowId): string {
  const found = RELIABILITY_MATRIX.find((r) => r.row === row);
  if (!found) throw new Error(`reliability row "${row}" is not in RELIABILITY_MATRIX (test/support/reliability-matrix.ts)`);
  return found.scenario;
}
