/**
 * Shared types and pipeline constants for the reference oracle.
 *
 * This is an independent model of the six Weir example pipelines. It must not
 * import anything from shared/ or examples/.
 */

/** One line of a JSON-lines input file. */
export interface InputRecord {
  topic?: string;
  partition?: number;
  timestamp: number;
  key?: string | null;
  value: unknown;
}

export const EXAMPLE_NAMES = [
  'wordcount',
  'windowed-wordcount',
  'uppercase',
  'sum',
  'sessions',
  'sliding-average',
] as const;

export type ExampleName = (typeof EXAMPLE_NAMES)[number];

/** A record the pipeline writes to an output topic (dead-letter records excluded). */
export interface ExpectedOutput {
  topic: string;
  value: unknown;
  timestamp: number;
}

export interface Expected {
  /** Records written to output topics, in the order the modelled run writes them. */
  outputs: ExpectedOutput[];
  /** How many input records go to the dead-letter topic `<pipeline>-dlq`. */
  dlqCount: number;
  /** Indexes (into the input array, ascending) of the records that go to the dead-letter topic. */
  dlqInputIndexes: number[];
  /**
   * expectedFinalResults('sum', ...) only: the running sum after every valid
   * record, and how many records were valid. (The intermediate sums depend on
   * how partitions interleave, so sum's `outputs` is left empty there.)
   */
  sum?: { finalSum: number; validCount: number };
  /**
   * expectedFinalResults('wordcount', ...) only: which timestamp goes with
   * which count depends on how partitions interleave, so there the outputs
   * carry `timestamp: NaN`. This map gives, per word, the ascending multiset of
   * timestamps its outputs must carry (one per occurrence of the word).
   */
  wordTimestamps?: Map<string, number[]>;
}

export interface PipelineSpec {
  /** Pipeline name; the dead-letter topic is `${name}-dlq`. */
  name: ExampleName;
  sourceTopic: string;
  /** Bounded out-of-orderness of the watermark strategy; null when the pipeline has no event time. */
  outOfOrdernessMs: number | null;
}

export const PIPELINES: Record<ExampleName, PipelineSpec> = {
  wordcount: { name: 'wordcount', sourceTopic: 'lines', outOfOrdernessMs: null },
  'windowed-wordcount': { name: 'windowed-wordcount', sourceTopic: 'lines', outOfOrdernessMs: 2000 },
  uppercase: { name: 'uppercase', sourceTopic: 'lines', outOfOrdernessMs: null },
  sum: { name: 'sum', sourceTopic: 'numbers', outOfOrdernessMs: null },
  sessions: { name: 'sessions', sourceTopic: 'clicks', outOfOrdernessMs: 5000 },
  'sliding-average': { name: 'sliding-average', sourceTopic: 'readings', outOfOrdernessMs: 1000 },
};

export const TOPICS = {
  wordCounts: 'word-counts',
  wordCounts5s: 'word-counts-5s',
  lateWords: 'late-words',
  linesUpper: 'lines-upper',
  sum: 'sum',
  sessions: 'sessions',
  sensorAverages: 'sensor-averages',
} as const;

export const TUMBLING_SIZE_MS = 5000;
export const SESSION_GAP_MS = 30000;
export const SLIDING_SIZE_MS = 10000;
export const SLIDING_SLIDE_MS = 5000;

export function dlqTopic(example: ExampleName): string {
  return `${PIPELINES[example].name}-dlq`;
}
