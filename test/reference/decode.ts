/**
 * How each pipeline reads the Kafka value of an input record.
 *
 * Kafka encoding of an input line's value: a JSON string becomes its raw text,
 * any other JSON value becomes JSON.stringify(value). Every source below first
 * turns the value into that text, then interprets it.
 */

/** The text of the Kafka value bytes for an input record's `value`. */
export function kafkaValueText(value: unknown): string {
  if (typeof value === 'string') return value;
  const text = JSON.stringify(value);
  if (text === undefined) {
    throw new Error(`input value cannot be encoded as JSON: ${String(value)}`);
  }
  return text;
}

/** Words of a line, as the word-count examples split them. */
export function wordsOf(line: string): string[] {
  return line.toLowerCase().match(/[a-z]+/g) ?? [];
}

/** The integer a `numbers` record carries, or null when it goes to the dead-letter topic. */
export function parseSumValue(value: unknown): number | null {
  const text = kafkaValueText(value);
  if (!/^\s*[-+]?\d+\s*$/.test(text)) return null;
  return Number(text.trim());
}

/** JSON.parse of the value text; `undefined` when the bytes are not valid JSON. */
function parseJsonText(value: unknown): { parsed: unknown } | undefined {
  try {
    return { parsed: JSON.parse(kafkaValueText(value)) as unknown };
  } catch {
    return undefined;
  }
}

function asObject(v: unknown): Record<string, unknown> | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  return v as Record<string, unknown>;
}

export interface Click {
  user: string;
}

/** A `clicks` record, or null when it goes to the dead-letter topic (undecodable, or no string `user`). */
export function parseClick(value: unknown): Click | null {
  const decoded = parseJsonText(value);
  if (decoded === undefined) return null;
  const obj = asObject(decoded.parsed);
  if (obj === undefined) return null;
  const user = obj['user'];
  if (typeof user !== 'string') return null;
  return { user };
}

export interface Reading {
  sensor: string;
  value: number;
}

/** A `readings` record, or null when it goes to the dead-letter topic. */
export function parseReading(value: unknown): Reading | null {
  const decoded = parseJsonText(value);
  if (decoded === undefined) return null;
  const obj = asObject(decoded.parsed);
  if (obj === undefined) return null;
  const sensor = obj['sensor'];
  const v = obj['value'];
  if (typeof sensor !== 'string') return null;
  if (typeof v !== 'number' || !Number.isFinite(v)) return null;
  return { sensor, value: v };
}
