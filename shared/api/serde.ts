import type { Json } from './types';

/**
 * How record bytes become values. `string` is UTF-8 text, `json` is UTF-8 JSON,
 * `bytes` hands over the raw bytes.
 */
export type SerdeName = 'string' | 'json' | 'bytes';

export type SerdeValue<S extends SerdeName> = S extends 'string' ? string : S extends 'json' ? Json : Uint8Array;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes bytes with a serde; throws a plain Error with the reason when they do not decode. */
export function decodeValue(serde: SerdeName, bytes: Uint8Array): unknown {
  if (serde === 'bytes') return bytes;
  const text = utf8.decode(bytes);
  if (serde === 'string') return text;
  try {
    return JSON.parse(text) as Json;
  } catch (err) {
    // The parser's message quotes the text; an error (DLQ header, log) must not carry the payload.
    const at = /position (\d+)/.exec((err as Error).message);
    throw new Error(`value is not valid JSON (${bytes.length} bytes${at ? `, error at position ${at[1]}` : ''})`);
  }
}

/** Encodes a value for a Kafka sink: strings as their text unless the serde is json. */
export function encodeValue(serde: SerdeName, value: unknown): Buffer {
  if (serde === 'bytes') {
    if (value instanceof Uint8Array) return Buffer.from(value);
    throw new Error(`bytes serde needs a Uint8Array value, got ${typeof value}`);
  }
  if (serde === 'string') return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8');
  return Buffer.from(JSON.stringify(value), 'utf8');
}
