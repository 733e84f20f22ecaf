import { RecordError } from './errors';
import type { OutRecord } from './ports';

/**
 * Limits that a record can break no matter how often its batch is retried: they are checked
 * where the record is made, so the one record goes to the dead-letter topic and the stage
 * goes on (a batch that fails on a produce or a state write fails on every retry).
 */

/** Kafka's default `message.max.bytes` (1 MiB + 12), MSK's default too. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;

/**
 * Bytes a key id may have. The commit log keeps keys inside its items, so no DynamoDB key
 * limit applies; but every commit that changes a key carries it, and a repartition record
 * carries it too, so a key this long is a keyBy that returned a payload, not an identity.
 */
export const MAX_KEY_ID_BYTES = 16 * 1024;

export interface RecordLimits {
  /** The largest record (as one record batch) the brokers take: the topics' `max.message.bytes`. */
  readonly maxMessageBytes: number;
}

export const DEFAULT_LIMITS: RecordLimits = { maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES };

/** Throws a RecordError when key id `id` is longer than `max` bytes. */
export function checkKeySize(id: string, operator: string, max: number = MAX_KEY_ID_BYTES): void {
  // A UTF-16 unit is at most 3 UTF-8 bytes: most keys need no count.
  if (id.length * 3 <= max) return;
  const bytes = Buffer.byteLength(id, 'utf8');
  if (bytes <= max) return;
  throw new RecordError(
    'USER_FUNCTION_FAILED',
    `operator "${operator}" (keyBy) returned a key of ${bytes} bytes as stored, over the ${max} bytes a key may have (every commit and repartition record carries it); key by a shorter value, e.g. an id or a hash of it`,
  );
}

/**
 * Bytes of `r` as a record batch of its own, over-estimated: the v2 batch header (61), the
 * record's varints at their widest, and each header's two length varints.
 */
export function recordBytes(r: Pick<OutRecord, 'key' | 'value' | 'headers'>): number {
  let n = 61 + 36 + (r.key?.length ?? 0) + (r.value?.length ?? 0);
  for (const [name, value] of Object.entries(r.headers)) n += 10 + Buffer.byteLength(name, 'utf8') + Buffer.byteLength(value, 'utf8');
  return n;
}

/** Throws a RecordError when `r` is larger than the brokers take. */
export function checkRecordSize(r: OutRecord, limits: RecordLimits, what: string): void {
  // Every record is checked: a bound from string lengths (a UTF-16 unit is at most 3 UTF-8
  // bytes) spares counting the headers' bytes for all but records near the limit.
  let bound = 97 + (r.key?.length ?? 0) + (r.value?.length ?? 0);
  for (const name in r.headers) bound += 10 + 3 * (name.length + (r.headers[name] as string).length);
  if (bound <= limits.maxMessageBytes) return;
  const bytes = recordBytes(r);
  if (bytes <= limits.maxMessageBytes) return;
  throw new RecordError(
    'USER_FUNCTION_FAILED',
    `${what} is a record of ${bytes} bytes for topic "${r.topic}", over the ${limits.maxMessageBytes}-byte max message size; make the value smaller (or split it), or raise the topic's max.message.bytes and the pipeline's maxMessageBytes together`,
  );
}

/**
 * A dead-letter record that would itself be too large keeps as much of its value as fits, and
 * says so in a header: the DLQ must take every record, or the batch could never finish.
 */
export function fitDlqRecord(r: OutRecord, limits: RecordLimits): OutRecord {
  const over = recordBytes(r) - limits.maxMessageBytes;
  if (over <= 0) return r;
  // The key stays unless it takes more than half the room (then it is the problem, and dropped).
  const key = r.key === null || r.key.length <= limits.maxMessageBytes / 2 ? r.key : null;
  // The note's longest form, so the room left for the value holds whatever it says.
  const longest = `value cut from ${r.value?.length ?? 0} to ${r.value?.length ?? 0} bytes; key of ${r.key?.length ?? 0} bytes dropped`;
  const room = limits.maxMessageBytes - recordBytes({ key, value: null, headers: { ...r.headers, 'weir-dlq-truncated': longest } });
  const value = r.value === null || r.value.length <= room ? r.value : r.value.subarray(0, Math.max(0, room));
  const notes = [
    ...(value !== r.value ? [`value cut from ${r.value?.length ?? 0} to ${value?.length ?? 0} bytes`] : []),
    ...(key !== r.key ? [`key of ${r.key?.length ?? 0} bytes dropped`] : []),
  ];
  return { ...r, key, value, headers: { ...r.headers, 'weir-dlq-truncated': notes.join('; ') } };
}
