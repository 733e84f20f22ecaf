/** An element flowing between operators inside a stage. */
export interface Element {
  readonly value: unknown;
  /** Event timestamp (ms). */
  readonly timestamp: number;
  /** The current key in a keyed stage, or the Kafka key in a source stage. */
  readonly key: string | null;
}

/**
 * What caused an output: an input record or a timer. Sink records take their weir-id from it,
 * so a retried batch writes the same ids for the same records.
 */
export interface Cause {
  readonly id: string;
  n: number;
}

export function causeOf(id: string): Cause {
  return { id, n: 0 };
}
