import { count, kafkaSink, kafkaSource, pipeline } from '../shared/api';
import { splitBySize } from '../shared/adapters/kafka/split-by-size';
import { runEmbedded } from '../shared/local/embedded';
import { InputError } from '../shared/runtime/errors';
import { fitDlqRecord, MAX_KEY_ID_BYTES, recordBytes } from '../shared/runtime/limits';
import type { OutRecord } from '../shared/runtime/ports';
import { Harness } from './support/harness';

describe('a keyBy key too long to store', () => {
  it('sends its record to the DLQ saying what to do, and the stage goes on', async () => {
    const p = pipeline('lk');
    p.source(kafkaSource({ topic: 'in' }))
      .keyBy((v) => v, 'by-line')
      .aggregate(count(), (k, n) => ({ k: k.slice(0, 3), n }))
      .sinkTo(kafkaSink({ topic: 'out' }));
    const h = new Harness(p, 1);
    const room = MAX_KEY_ID_BYTES;
    expect(room).toBe(16 * 1024);
    h.produce('in', 0, 1, 'a'.repeat(room));
    h.produce('in', 0, 2, 'b'.repeat(room + 1));
    h.produce('in', 0, 3, 'a'.repeat(room));
    await h.deliver('s0');
    await h.deliver('s1');
    expect(h.values('out')).toEqual([
      { k: 'aaa', n: 1 },
      { k: 'aaa', n: 2 },
    ]);
    const dlq = h.records('lk-dlq');
    expect(dlq.map((r) => r.headers['weir-dlq-offset'])).toEqual(['1']);
    expect(dlq[0]?.headers['weir-dlq-error']).toBe(
      `USER_FUNCTION_FAILED: operator "by-line" (keyBy) returned a key of ${room + 1} bytes as stored, over the ${room} bytes a key may have (every commit and repartition record carries it); key by a shorter value, e.g. an id or a hash of it`,
    );
  });
});

describe('an output record over the max message size', () => {
  it('sends its input record to the DLQ (value cut to fit, and said so), and the stage goes on', async () => {
    const p = pipeline('big');
    p.source(kafkaSource({ topic: 'in' }))
      .map((v) => v.repeat(2), 'double')
      .sinkTo(kafkaSink({ topic: 'out', value: 'string' }));
    const h = new Harness(p, 1);
    const mb2 = 'x'.repeat(2 * 1024 * 1024);
    h.produce('in', 0, 1, 'small');
    h.produce('in', 0, 2, mb2);
    h.produce('in', 0, 3, 'y'.repeat(600_000));
    h.produce('in', 0, 4, 'tiny');
    await h.deliver('s0');
    expect(h.records('out').map((r) => r.value)).toEqual(['smallsmall', 'tinytiny']);
    const dlq = h.records('big-dlq');
    expect(dlq.map((r) => r.headers['weir-dlq-offset'])).toEqual(['1', '2']);
    expect(dlq[0]?.headers['weir-dlq-error']).toBe(
      `USER_FUNCTION_FAILED: kafka sink "out" could not be written: it is a record of ${4 * 1024 * 1024 + 97 + 10 + 'weir-id'.length + 's0/in/0/1/0'.length} bytes for topic "out", over the 1048588-byte max message size; make the value smaller (or split it), or raise the topic's max.message.bytes and the pipeline's maxMessageBytes together`,
    );
    // The 2 MB input does not fit the DLQ either: it keeps what fits and says so.
    expect(dlq[0]?.headers['weir-dlq-truncated']).toBe(`value cut from 2097152 to ${dlq[0]?.value?.length} bytes`);
    expect(dlq[0]?.value).toBe(mb2.slice(0, dlq[0]?.value?.length));
    // Cut to the byte: the room is what the longest note ("...; key of 0 bytes dropped") leaves,
    // so the record ends exactly that unused tail (24 bytes) under the limit, no lower.
    const dlqRecord = h.broker.all('big-dlq', 0)[0] as OutRecord;
    expect(recordBytes(dlqRecord)).toBe(1_048_588 - 24);
    // 600 KB fits the DLQ whole.
    expect(dlq[1]?.value).toBe('y'.repeat(600_000));
    expect(dlq[1]?.headers['weir-dlq-truncated']).toBeUndefined();
  });

  it('follows the pipeline maxMessageBytes, also for records to another stage', async () => {
    const p = pipeline('small', { maxMessageBytes: 4096 });
    p.source(kafkaSource({ topic: 'in' }))
      .keyBy((v) => v.slice(0, 1), 'first')
      .aggregate(count())
      .sinkTo(kafkaSink({ topic: 'out' }));
    const h = new Harness(p, 1);
    h.produce('in', 0, 1, 'a'.repeat(3000));
    h.produce('in', 0, 2, 'a'.repeat(5000));
    await h.deliver('s0');
    await h.deliver('s1');
    expect(h.values('out')).toEqual([1]);
    expect(h.records('small-dlq').map((r) => [r.headers['weir-dlq-offset'], r.headers['weir-dlq-error']?.match(/over the \d+-byte max message size/)?.[0]])).toEqual([
      ['1', 'over the 4096-byte max message size'],
    ]);
  });
});

describe('an input file record over the max message size', () => {
  it('is refused before anything runs, naming the record and the fix', async () => {
    const p = pipeline('in-big');
    p.source(kafkaSource({ topic: 'in' })).sinkTo(kafkaSink({ topic: 'out' }));
    const run = runEmbedded(p, [{ timestamp: 1, value: 'ok' }, { timestamp: 2, value: 'x'.repeat(2 * 1024 * 1024) }], { partitions: 1 });
    await expect(run).rejects.toBeInstanceOf(InputError);
    await expect(run).rejects.toThrow(
      "input record 2 is 2097249 bytes as a Kafka record, over the 1048588-byte max message size; make it smaller, or raise the topic's max.message.bytes and the pipeline's maxMessageBytes together",
    );
  });
});

describe('splitBySize', () => {
  const rec = (topic: string, partition: number, bytes: number, i: number): OutRecord => ({ topic, partition, key: null, value: Buffer.alloc(bytes, i % 256), timestamp: i, headers: { n: String(i) } });

  it('cuts requests under the limit, keeping order, and a record over it alone', () => {
    const records = [rec('a', 0, 400, 0), rec('a', 1, 400, 1), rec('b', 0, 400, 2), rec('a', 0, 2000, 3), rec('a', 0, 100, 4), rec('a', 0, 100, 5)];
    // 526 bytes each as the first record of its partition in a request: three fit under 1600.
    const parts = splitBySize(records, 1600);
    expect(parts.map((p) => p.map((r) => r.timestamp))).toEqual([[0, 1, 2], [3], [4, 5]]);
    expect(parts.flat()).toEqual(records);
  });

  it('keeps everything in one request when it fits', () => {
    const records = Array.from({ length: 100 }, (_, i) => rec('t', i % 3, 10, i));
    expect(splitBySize(records, 1_048_588)).toEqual([records]);
    expect(splitBySize([], 1000)).toEqual([]);
  });
});

describe('fitDlqRecord', () => {
  const limits = { maxMessageBytes: 4096 };
  const dlq = (key: number, value: number): OutRecord => ({ topic: 'p-dlq', partition: 0, key: Buffer.alloc(key, 1), value: Buffer.alloc(value, 2), timestamp: 0, headers: { 'weir-dlq-error': 'e' } });

  it('leaves a record that fits alone', () => {
    const r = dlq(10, 3000);
    expect(fitDlqRecord(r, limits)).toBe(r);
  });

  it('cuts the value to fit exactly, keeping a small key', () => {
    const r = fitDlqRecord(dlq(10, 10_000), limits);
    expect(r.key?.length).toBe(10);
    // By hand: 61 + 36 framing, the 10-byte key, headers at 10 + name + value each:
    // weir-dlq-error "e" (25) and weir-dlq-truncated with the note's longest form,
    // "value cut from 10000 to 10000 bytes; key of 10 bytes dropped" (10 + 18 + 60 = 88):
    // 220 bytes, leaving 3876 for the value.
    expect(r.value?.length).toBe(3876);
    expect(r.value).toEqual(Buffer.alloc(3876, 2));
    expect(r.headers['weir-dlq-truncated']).toBe('value cut from 10000 to 3876 bytes');
    // Under the limit by the unused part of the longest note only (26 bytes).
    expect(recordBytes(r)).toBe(4096 - 26);
  });

  it('drops a key that takes more than half the room, and says so', () => {
    const r = fitDlqRecord(dlq(3000, 3000), limits);
    expect(r.key).toBeNull();
    expect(r.headers['weir-dlq-truncated']).toBe('key of 3000 bytes dropped');
    expect(r.value?.length).toBe(3000);
    expect(recordBytes(r)).toBeLessThanOrEqual(4096);
  });
});
