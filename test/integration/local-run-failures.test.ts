import { resolve } from 'node:path';
import { checkLocalRunComplete, localRunSummary, RunIncompleteError } from '../../shared/local/local-report';
import { loadPipeline } from '../../shared/local/load-pipeline';
import { runLocal } from '../../shared/local/local-run';
import { localBrokers } from '../../shared/local/endpoints';

// Issue 11 item 7: a bounded --local run whose batch went to the on-failure topic must say
// so (how many, which topic, the errors) and fail, not exit 0 with incomplete outputs.
jest.setTimeout(120_000);

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
  let thrown: unknown;
  try {
    checkLocalRunComplete(result);
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(RunIncompleteError);
  expect((thrown as RunIncompleteError).onFailureRecords).toBe(2);
  expect((thrown as Error).message).toBe(
    `run ${result.runId} is incomplete: 2 input records went to the on-failure topic ${topic} after 2 failed invocations (see the summary above); fix the cause and run again`,
  );
});
