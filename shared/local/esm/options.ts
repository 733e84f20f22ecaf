/** The options and reports of the MSK trigger emulator (emulator.ts). */
import type { StartingPosition } from '../../api/sources';
import type { Routing } from './sandbox-pool';

export interface EsmOptions {
  /** Records per invocation (MSK BatchSize), whether of one partition or several. @default 100 */
  readonly batchSize?: number;
  /** How long a partial batch waits to fill (MaximumBatchingWindowInSeconds). @default 100 ms */
  readonly batchingWindowMs?: number;
  /** Retries of a failing batch (or control event) before it goes to the on-failure topic (is thrown). @default 10 */
  readonly maxRetries?: number;
  /**
   * Lockstep: when a partition has waited this long for records that exist and nothing was
   * fetched for it, the consumer is replaced by a new one (which refetches from the committed
   * offset). A last resort for a consumer that stopped without reporting a crash. @default 30000
   */
  readonly stallMs?: number;
  /** Invoke functions deployed behind a Lambda API (LocalStack) instead of the local bundles. */
  readonly lambdaEndpoint?: { readonly url: string; readonly functionName: (stage: string) => string; readonly region?: string };
  /** Where a group with no committed offsets starts. @default 'TRIM_HORIZON' */
  readonly startingPosition?: StartingPosition;
  /** Physical topic name prefix (fresh names per local run). */
  readonly topicPrefix?: string;
  readonly invokeTimeoutMs?: number;
  /** Where a batch goes after maxRetries (physical name); without one, a failing batch is retried until it succeeds. */
  readonly onFailureTopic?: string;
  /** Chaos: probability of delivering a successful batch again (a lost offset commit). */
  readonly redeliverRate?: number;
  readonly rand?: () => number;
  /** Called with errors of free-running partitions (the emulator goes on). */
  readonly onError?: (err: unknown) => void;
  /** Called after every invocation, successful or not (observers such as `weir dev --ui`). */
  readonly onInvocation?: (report: InvocationReport) => void;
  /**
   * Which sandbox takes an invocation (see Routing); 'pinned' only to compare with. Under
   * 'lambda', a free-mode event also carries the buffered records of other partitions not in
   * flight, up to batchSize in all, as the MSK trigger's events do; under 'pinned' it holds
   * one partition (another's records would run in that partition's sandbox). @default 'lambda'
   */
  readonly routing?: Routing;
  /** Sandboxes at most, as a function's reserved concurrency. @default unlimited (one batch in flight per partition bounds it) */
  readonly maxConcurrency?: number;
}

/** One invocation as an observer sees it. */
export interface InvocationReport {
  readonly stage: string;
  /** `batch`: an MSK event of `records` records, of `topic`/`partition` first; `control`: ticker or end of input. */
  readonly kind: 'batch' | 'control';
  readonly topic?: string;
  readonly partition?: number;
  /** Every partition of a batch event and its record count (several when partitions share an event). */
  readonly partitions?: ReadonlyArray<{ readonly topic: string; readonly partition: number; readonly records: number }>;
  readonly records: number;
  /** The sandbox that ran it (1, 2, ... in creation order, per stage). */
  readonly sandbox?: number;
  readonly durationMs: number;
  /** What the function returned (the stage handler's result); absent when it failed. */
  readonly result?: unknown;
  readonly error?: unknown;
}

export interface EsmStats {
  invocations: number;
  failures: number;
  redeliveries: number;
  toOnFailure: number;
  recordsIn: number;
  stateWrites: number;
  /** DynamoDB usage the stage's invocations reported (service-measured capacity). */
  dynamo: { writeRequests: number; readRequests: number; writeUnits: number; readUnits: number };
  /** Sums of the counters among the `metrics` the stage's invocations reported (cacheHits, restores, ...; not the stateBytes gauge). */
  metrics: Record<string, number>;
}
