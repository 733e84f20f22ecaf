import { isUtf8 } from 'node:buffer';
import { RecordError } from './errors';

/**
 * Key identity (docs/KEYS.md). A key IS its bytes: the Kafka key between stages and in sinks.
 * Inside a stage a key travels as its key id, a string used for state maps, timers and
 * weir-ids. The id codec is one-to-one both ways:
 * - bytes that are valid UTF-8 and do not start with ESCAPE: the id is their text, so keys
 *   stay readable in state, ids and logs;
 * - any other bytes: ESCAPE + base64url of the bytes. Text that itself starts with ESCAPE is
 *   escaped too, so no text can collide with the id of non-UTF-8 bytes.
 */
export const KEY_ESCAPE = '~b64:';

/** The key id of Kafka key bytes (null for a record without a key). */
export function keyIdOf(bytes: Uint8Array | null | undefined): string | null {
  if (bytes === null || bytes === undefined) return null;
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // toString('utf8') would replace invalid sequences with U+FFFD and merge distinct keys.
  if (isUtf8(buf)) {
    const text = buf.toString('utf8');
    if (!text.startsWith(KEY_ESCAPE)) return text;
  }
  return KEY_ESCAPE + buf.toString('base64url');
}

/** The bytes of an escaped id exactly as keyIdOf writes it; undefined for any other text. */
function unescaped(id: string): Buffer | undefined {
  const b64 = id.slice(KEY_ESCAPE.length);
  const bytes = Buffer.from(b64, 'base64url');
  // Node's base64 decoder skips junk silently, and bytes that have a text id are never escaped.
  if (bytes.toString('base64url') !== b64) return undefined;
  if (isUtf8(bytes) && !bytes.toString('utf8').startsWith(KEY_ESCAPE)) return undefined;
  return bytes;
}

/** The Kafka key bytes of a key id; the inverse of keyIdOf. */
export function keyBytesOf(id: string | null): Buffer | null {
  if (id === null) return null;
  if (!id.startsWith(KEY_ESCAPE)) return Buffer.from(id, 'utf8');
  const bytes = unescaped(id);
  if (bytes === undefined) throw new Error(`key id "${id.slice(0, 80)}" starts with ${KEY_ESCAPE} but is not an escaped key`);
  return bytes;
}

/**
 * The key id of a string user code gives as a key (keyBy, a sink's key function). Strings are
 * taken as key ids, so a key user code was handed (ctx.key, meta.key) keys the same bytes when
 * given back; any string that is not an escaped id is its UTF-8 text.
 */
export function keyIdOfString(text: string): string {
  if (!text.startsWith(KEY_ESCAPE) || unescaped(text) !== undefined) return text;
  return KEY_ESCAPE + Buffer.from(text, 'utf8').toString('base64url');
}

/** Unpaired surrogates have no UTF-8 form: Buffer.from would turn each into EF BF BD. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function isWellFormed(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

/**
 * The key id of what a keyBy function returned. Legal keys (deterministic, as Flink requires):
 * - string (well-formed UTF-16): a key id (keyIdOfString), i.e. its UTF-8 text unless it is
 *   an escaped id as user code is handed for a non-UTF-8 key;
 * - number (finite), bigint, boolean: their decimal / `true` / `false` text;
 * - Uint8Array / Buffer: its bytes;
 * - array or plain object of strings, finite numbers, booleans, null, arrays and plain
 *   objects: canonical JSON (object fields sorted), so `{a:1,b:2}` and `{b:2,a:1}` are one key.
 * A key is its bytes: 1, 1n and "1" are the same key, as they would be on a Kafka topic.
 * Anything else (null, undefined, NaN, symbols, functions, Dates, Maps, class instances)
 * throws a RecordError naming the operator, so the record goes to the dead-letter topic.
 */
export function keyIdOfValue(value: unknown, operator: string): string {
  const bad = (why: string): never => {
    throw new RecordError('USER_FUNCTION_FAILED', `operator "${operator}" (keyBy) returned ${why}; return a string, number, boolean, bigint, Uint8Array, or an array / plain object of JSON values`);
  };
  switch (typeof value) {
    case 'string':
      if (!isWellFormed(value)) bad('a string with an unpaired surrogate, which has no UTF-8 bytes');
      return keyIdOfString(value);
    case 'number':
      if (!Number.isFinite(value)) bad(`${value}, which is not a usable key`);
      return String(value);
    case 'bigint':
    case 'boolean':
      return String(value);
    case 'object':
      if (value === null) return bad('null: every record needs a key');
      if (value instanceof Uint8Array) return keyIdOf(value) as string;
      return canonicalJson(value, bad);
    default:
      return bad(value === undefined ? 'undefined: every record needs a key' : `a ${typeof value}`);
  }
}

function canonicalJson(value: unknown, bad: (why: string) => never, path = 'key'): string {
  switch (typeof value) {
    case 'string':
      if (!isWellFormed(value)) bad(`a string with an unpaired surrogate at ${path}`);
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) bad(`${value} at ${path}`);
      return JSON.stringify(value);
    case 'boolean':
      return String(value);
    case 'object': {
      if (value === null) return 'null';
      // Array.from visits holes too (as undefined, which is refused); map would skip them.
      if (Array.isArray(value)) return `[${Array.from(value as unknown[], (v, i) => canonicalJson(v, bad, `${path}[${i}]`)).join(',')}]`;
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) bad(`a ${(value as object).constructor?.name ?? 'non-plain'} object at ${path}, which has no canonical form`);
      const rec = value as Record<string, unknown>;
      const fields = Object.keys(rec).sort();
      return `{${fields.map((f) => `${JSON.stringify(f)}:${canonicalJson(rec[f], bad, `${path}.${f}`)}`).join(',')}}`;
    }
    default:
      return bad(`${value === undefined ? 'undefined' : `a ${typeof value}`} at ${path}`);
  }
}

/** The Kafka key of what a sink's key function returned: a string as a key id (see keyIdOfString), bytes as they are. */
export function sinkKeyBytes(value: unknown): Buffer | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') {
    if (!isWellFormed(value)) throw new RecordError('USER_FUNCTION_FAILED', 'its key has an unpaired surrogate, which has no UTF-8 bytes');
    return keyBytesOf(keyIdOfString(value));
  }
  if (value instanceof Uint8Array) return Buffer.from(value);
  throw new RecordError('USER_FUNCTION_FAILED', `its key function returned a ${typeof value}; return a string, Uint8Array or null`);
}
