import { recordBytes } from '../../runtime/limits';
import type { OutRecord } from '../../runtime/ports';

/**
 * Cuts records into produce requests of at most `maxBytes` each (estimated as record
 * batches: per partition the batch header, per record its widest encoding). kafkajs sends
 * one request however large, and a broker refuses a partition's batch over its
 * `message.max.bytes`, so a big batch of outputs failed on every retry.
 *
 * The cut keeps the given order: requests are sent one after another, so the records of a
 * partition land in the order given. A record over `maxBytes` on its own gets a request of
 * its own (records are checked where they are made, so the broker's answer names it).
 */
export function splitBySize<R extends OutRecord>(records: readonly R[], maxBytes: number): R[][] {
  const requests: R[][] = [];
  let current: R[] = [];
  let bytes = 0;
  const partitions = new Set<string>();
  // recordBytes counts a batch header (61) per record; a request pays it, its topic name and
  // the partition's fields once per partition.
  const sizeIn = (r: R, where: string): number => recordBytes(r) - 61 + (partitions.has(where) ? 0 : 61 + 16 + Buffer.byteLength(r.topic, 'utf8'));
  for (const r of records) {
    const where = `${r.topic}\u0000${r.partition}`;
    if (current.length && bytes + sizeIn(r, where) > maxBytes) {
      requests.push(current);
      current = [];
      bytes = 0;
      partitions.clear();
    }
    bytes += sizeIn(r, where);
    partitions.add(where);
    current.push(r);
  }
  if (current.length) requests.push(current);
  return requests;
}
