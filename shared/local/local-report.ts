import { WeirError } from '../runtime/errors';
import type { LocalRunResult } from './local-run';
import { formatTally, tallyOutputs } from './run-summary';

/** A bounded local run finished, but some input never went through: the outputs are incomplete. */
export class RunIncompleteError extends WeirError {
  constructor(
    readonly onFailureRecords: number,
    message: string,
  ) {
    super('RUN_INCOMPLETE', message);
  }
}

/**
 * The summary of `weir run --local` after its outputs: results by distinct weir-id, failed
 * invocations with their first errors, and the records that went to an on-failure topic
 * (where, and how to read them). Lines for stderr.
 */
export function localRunSummary(result: LocalRunResult, brokers: string): string[] {
  const lines = formatTally(tallyOutputs(result.plan, result.outputs));
  if (result.failures > 0) {
    const first = result.failureMessages.map((m) => JSON.stringify(m)).join(', ');
    lines.push(`  failed invocations: ${result.failures} (each retried or its batch sent to the on-failure topic; the stage logs above have them); first errors: ${first}`);
  }
  for (const f of result.onFailure) {
    if (f.records === 0) continue;
    lines.push(
      `  on-failure: ${f.records} ${f.records === 1 ? 'record' : 'records'} of stage ${f.stage} went to topic ${f.topic} on ${brokers} after the retries ran out, unprocessed; headers weir-failed-topic/-partition/-offset/-error name each one's input and error`,
    );
  }
  return lines;
}

/** Throws when records went to an on-failure topic: the run's outputs lack them, so it failed. */
export function checkLocalRunComplete(result: LocalRunResult): void {
  const failed = result.onFailure.filter((f) => f.records > 0);
  const total = failed.reduce((a, f) => a + f.records, 0);
  if (total === 0) return;
  throw new RunIncompleteError(
    total,
    `run ${result.runId} is incomplete: ${total} input ${total === 1 ? 'record' : 'records'} went to the on-failure ${failed.length === 1 ? 'topic' : 'topics'} ${failed.map((f) => f.topic).join(', ')} after ${result.failures} failed invocations (see the summary above); fix the cause and run again`,
  );
}
