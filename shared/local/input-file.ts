import { readFileSync } from 'node:fs';
import { InputError } from '../runtime/errors';
import { keyBytesOf, keyIdOfString, isWellFormed } from '../runtime/keys';
import { DEFAULT_MAX_MESSAGE_BYTES, recordBytes } from '../runtime/limits';
import { partitionForKey } from '../runtime/murmur2';

/** An input file's key is a key id, as `weir run` writes keys in its output: `~b64:...` for non-UTF-8 bytes. */
function inputKeyBytes(key: string | null, i: number): Buffer | null {
  if (key === null) return null;
  if (!isWellFormed(key)) throw new InputError(`input record ${i + 1}: "key" has an unpaired surrogate, which has no UTF-8 bytes; write non-UTF-8 keys as "~b64:" + base64url`);
  return keyBytesOf(keyIdOfString(key));
}

/** One line of a `weir run --input` file. */
export interface InputRecord {
  readonly topic?: string;
  readonly partition?: number;
  readonly timestamp: number;
  readonly key?: string | null;
  readonly value: unknown;
}

/** Parses JSON lines; errors name the file, line and field. Blank lines are skipped. */
export function parseInput(text: string, source = 'input'): InputRecord[] {
  const out: InputRecord[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    const where = `${source}:${i + 1}`;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (err) {
      throw new InputError(`${where}: not valid JSON (${(err as Error).message}); each line must be one JSON object`);
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw new InputError(`${where}: expected a JSON object like {"timestamp": 0, "value": "..."}`);
    const r = obj as Record<string, unknown>;
    if (typeof r.timestamp !== 'number' || !Number.isInteger(r.timestamp)) throw new InputError(`${where}: "timestamp" must be an integer (ms since the epoch)`);
    if (!('value' in r)) throw new InputError(`${where}: "value" is missing`);
    if (r.topic !== undefined && typeof r.topic !== 'string') throw new InputError(`${where}: "topic" must be a string`);
    if (r.partition !== undefined && !(typeof r.partition === 'number' && Number.isInteger(r.partition) && r.partition >= 0)) {
      throw new InputError(`${where}: "partition" must be an integer >= 0`);
    }
    if (r.key !== undefined && r.key !== null && typeof r.key !== 'string') throw new InputError(`${where}: "key" must be a string or null`);
    out.push({
      ...(r.topic !== undefined ? { topic: r.topic as string } : {}),
      ...(r.partition !== undefined ? { partition: r.partition as number } : {}),
      timestamp: r.timestamp,
      ...(r.key !== undefined ? { key: r.key as string | null } : {}),
      value: r.value,
    });
  });
  return out;
}

export function readInputFile(path: string): InputRecord[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const hint = code === 'ENOENT' ? 'it does not exist; pass a JSON lines file ({"timestamp", "value"} per line) with --input' : code === 'EISDIR' ? 'it is a folder; pass a JSON lines file with --input' : (err as Error).message;
    throw new InputError(`cannot read input file ${path}: ${hint}`);
  }
  return parseInput(text, path);
}

/** Kafka bytes of an input value: a string is its text, anything else its JSON. */
export function inputValueBytes(value: unknown): Buffer {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8');
}

export interface PlacedRecord {
  readonly topic: string;
  readonly partition: number;
  readonly key: Buffer | null;
  readonly value: Buffer;
  readonly timestamp: number;
}

/**
 * Where each input record goes: its topic (the pipeline's source when there is one) and
 * partition (given, else murmur2 of the key as Kafka's Java client, else 0: the sticky
 * partitioner keeps keyless records together, so a file replays as one ordered partition).
 */
export function placeInput(
  pipeline: string,
  input: readonly InputRecord[],
  sourceTopics: readonly string[],
  partitionsOf: (topic: string) => number,
  maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES,
): PlacedRecord[] {
  return input.map((r, i) => {
    const topic = r.topic ?? (sourceTopics.length === 1 ? sourceTopics[0] : undefined);
    if (topic === undefined) throw new InputError(`input record ${i + 1}: "topic" is missing and the pipeline reads ${sourceTopics.length} topics (${sourceTopics.join(', ')}); name one`);
    if (!sourceTopics.includes(topic)) throw new InputError(`input record ${i + 1}: topic "${topic}" is not a source of pipeline "${pipeline}" (it reads ${sourceTopics.join(', ')})`);
    const n = partitionsOf(topic);
    const key = inputKeyBytes(r.key ?? null, i);
    const partition = r.partition ?? (key !== null ? partitionForKey(key, n) : 0);
    if (partition >= n) throw new InputError(`input record ${i + 1}: partition ${partition} does not exist; topic "${topic}" has ${n} partitions (--partitions)`);
    const placed = { topic, partition, key, value: inputValueBytes(r.value), timestamp: r.timestamp };
    // A broker refuses such a record with a bare kafkajs error; say which line and what to do.
    const bytes = recordBytes({ ...placed, headers: {} });
    if (bytes > maxMessageBytes) {
      throw new InputError(`input record ${i + 1} is ${bytes} bytes as a Kafka record, over the ${maxMessageBytes}-byte max message size; make it smaller, or raise the topic's max.message.bytes and the pipeline's maxMessageBytes together`);
    }
    return placed;
  });
}
