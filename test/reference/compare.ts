/**
 * Helpers to compare outputs as multisets, independent of object key order.
 */
import { ExpectedOutput } from './types';

/** JSON text with object keys sorted, so equal values give equal text. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj)
      .filter((k) => obj[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableStringify(obj[k])}`).join(',')}}`;
  }
  const text = JSON.stringify(value);
  return text === undefined ? 'undefined' : text;
}

/**
 * Outputs as a sorted list of canonical strings: compare two of these with
 * toEqual to compare multisets of {topic, value, timestamp}.
 */
export function canonicalOutputs(
  outputs: ReadonlyArray<ExpectedOutput>,
  opts: { ignoreTimestamps?: boolean } = {},
): string[] {
  return outputs
    .map((o) =>
      opts.ignoreTimestamps === true
        ? stableStringify({ topic: o.topic, value: o.value })
        : stableStringify({ topic: o.topic, value: o.value, timestamp: o.timestamp }),
    )
    .sort();
}
