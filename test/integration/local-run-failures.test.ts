import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { checkLocalRunComplete, localRunSummary, RunIncompleteError } from '../../shared/local/local-report';
import { loadPipeline } from '../../shared/local/load-pipeline';
import { runLocal } from '../../shared/local/local-run';
import { localBrokers } from '../../shared/local/endpoints';
import { thrown } from '../support/thrown';

// Issue 11 item 7: a bounded --local run whose batch went to the on-failure topic must say
// so (how many, which topic, the errors) and fail, not exit 0 with incomplete outputs.
jest.setTimeout(300_000);

const file = resolve(__dirname, '../fixtures/failing-sink.ts');

it('reports records sent to the on-failure topic and the invocation errors, and fails the run', async () => {
  const p = loadPipeline(file);
  const input = ['a', 'b', 'c', 'poison', 'd', 'e'].map((value, i) => ({ value, timestamp: 1_700_000_000_000 + i, partition: 0 }));
  // Batches of 2: [a b] [c poison] [d e]; the middle one fails twice (maxRetries 1) and goes to the on-failure topic.
  const result = await runLocal(p, file, input, { partitions: 1, batchSize: 2, esm: { maxRetries: 1 } });
  const topic = `weir-${result.runId}-failing-sink-s0-failed`;
  expect(result.onFailure).toEqual([{ stage: 's0', topic, records: 2 }]);
  expect(result.failures).toBe(2);
  expect(result.failureMessages).toHaveLength(1);
  expect(result.failureMessages[0]).toContain('the picky sink refuses "poison"');
  const summary = localRunSummary(result, localBrokers());
  expect(summary).toContain(
    `  on-failure: 2 records of stage s0 went to topic ${topic} on ${localBrokers()} after the retries ran out, unprocessed; headers weir-failed-topic/-partition/-offset/-error name each one's input and error`,
  );
  expect(summary.find((l) => l.startsWith('  failed invocations: 2 ('))).toContain('the picky sink refuses');
  const err = thrown(() => checkLocalRunComplete(result));
  expect(err).toBeInstanceOf(RunIncompleteError);
  expect((err as RunIncompleteError).onFailureRecords).toBe(2);
  expect(err.message).toBe(
    `run ${result.runId} is incomplete: 2 input records went to the on-failure topic ${topic} after 2 failed invocations (see the summary above); fix the cause and run again`,
  );
});

it('weir run --local prints the on-failure records and the errors in its summary and exits 1', () => {
  const root = resolve(__dirname, '../..');
  const dir = join(root, 'test-output', 'local-run-failures');
  mkdirSync(dir, { recursive: true });
  const inFile = join(dir, 'in.jsonl');
  writeFileSync(inFile, ['a', 'poison', 'b'].map((value, i) => JSON.stringify({ value, timestamp: 1_700_000_000_000 + i, partition: 0 })).join('\n') + '\n');
  // One batch of 3: it fails on every one of the CLI's 31 attempts (about 50 s of backoff).
  const r = spawnSync(process.execPath, [join(root, 'bin/weir.js'), 'run', file, '--input', inFile, '--local', '--partitions', '1', '--batch-size', '3'], { cwd: root, encoding: 'utf8' });
  expect(r.status).toBe(1);
  const runId = /weir run --local failing-sink \(run ([0-9a-f]+)\)/.exec(r.stderr)?.[1];
  expect(runId).toMatch(/^[0-9a-f]{8}$/);
  const topic = `weir-${runId}-failing-sink-s0-failed`;
  expect(r.stderr).toMatch(/\n {2}failed invocations: 31 \(each retried or its batch sent to the on-failure topic; the stage logs above have them\); first errors: "[^\n]*the picky sink refuses \\"poison\\"/);
  expect(r.stderr).toContain(`\n  on-failure: 3 records of stage s0 went to topic ${topic} on ${localBrokers()} after the retries ran out, unprocessed;`);
  expect(r.stderr).toContain(`\nweir: run ${runId} is incomplete: 3 input records went to the on-failure topic ${topic} after 31 failed invocations (see the summary above); fix the cause and run again\n`);
});
