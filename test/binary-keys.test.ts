import { count, kafkaSink, kafkaSource, pipeline } from '../shared/api';
import { runEmbedded } from '../shared/local/embedded';
import { placeInput } from '../shared/local/input-file';
import { RecordError } from '../shared/runtime/errors';
import { keyBytesOf, keyIdOf, keyIdOfString, keyIdOfValue } from '../shared/runtime/keys';
import { Harness } from './support/harness';
import { thrown } from './support/thrown';

const K1 = Buffer.from([255, 1]);
const K2 = Buffer.from([254, 1]);

function keysOut(h: Harness, topic: string): Array<string | null> {
  const out: Array<string | null> = [];
  for (let p = 0; p < h.broker.partitions(topic); p++) {
    for (const r of h.broker.all(topic, p)) if (r.headers['weir-marker'] === undefined) out.push(r.key === null ? null : r.key.toString('hex'));
  }
  return out;
}

describe('binary (non-UTF-8) Kafka keys', () => {
  it('a pass-through sink writes the very key bytes it read', async () => {
    const p = pipeline('bk');
    p.source(kafkaSource({ topic: 'in' })).sinkTo(kafkaSink({ topic: 'out', value: 'string' }));
    const h = new Harness(p, 1);
    h.broker.append({ topic: 'in', partition: 0, key: K1, value: Buffer.from('a'), timestamp: 1, headers: {} });
    h.broker.append({ topic: 'in', partition: 0, key: K2, value: Buffer.from('b'), timestamp: 2, headers: {} });
    await h.deliver('s0');
    expect(keysOut(h, 'out')).toEqual(['ff01', 'fe01']);
  });

  it('counts keys [255,1] and [254,1] as two keys, through a repartition topic, and writes their bytes back', async () => {
    const p = pipeline('bk');
    p.source(kafkaSource({ topic: 'in', withMetadata: true }))
      .keyBy((r) => r.meta.key ?? '')
      .aggregate(count(), (k, n) => ({ k, n }))
      .sinkTo(kafkaSink({ topic: 'out' }));
    const h = new Harness(p, 1);
    for (const [t, key] of [K1, K2, K1].entries()) h.broker.append({ topic: 'in', partition: 0, key, value: Buffer.from('x'), timestamp: t, headers: {} });
    await h.deliver('s0');
    await h.deliver('s1');
    expect(h.values('out').map((v) => (v as { n: number }).n)).toEqual([1, 1, 2]);
    expect(keysOut(h, 'out')).toEqual(['ff01', 'fe01', 'ff01']);
    expect(keysOut(h, 'bk-s1-repartition')).toEqual(['ff01', 'fe01', 'ff01']);
  });

  it('keyBy returning bytes keys by those bytes', async () => {
    const p = pipeline('bk');
    p.source(kafkaSource({ topic: 'in', value: 'bytes' }))
      .keyBy((v) => v)
      .aggregate(count())
      .sinkTo(kafkaSink({ topic: 'out' }));
    const h = new Harness(p, 1);
    for (const [t, v] of [K1, K2, K1].entries()) h.broker.append({ topic: 'in', partition: 0, key: null, value: v, timestamp: t, headers: {} });
    await h.deliver('s0');
    await h.deliver('s1');
    expect(h.values('out')).toEqual([1, 1, 2]);
    expect(keysOut(h, 'out')).toEqual(['ff01', 'fe01', 'ff01']);
  });
});

describe('key id codec', () => {
  const samples: Buffer[] = [
    Buffer.from([255, 1]),
    Buffer.from([254, 1]),
    Buffer.from([0xef, 0xbf, 0xbd, 1]),
    Buffer.alloc(0),
    Buffer.from('word'),
    Buffer.from('~b64:_wE'),
    Buffer.from('~b64:'),
    Buffer.from([0xef, 0xbb, 0xbf, 0x61]),
    Buffer.from([0xc0, 0x80]),
  ];

  it('maps distinct bytes to distinct ids and back to the same bytes; UTF-8 keys stay their text', () => {
    const ids = samples.map((b) => keyIdOf(b) as string);
    expect(new Set(ids).size).toBe(samples.length);
    expect(ids.map((id) => (keyBytesOf(id) as Buffer).toString('hex'))).toEqual(samples.map((b) => b.toString('hex')));
    expect(ids).toEqual(['~b64:_wE', '~b64:_gE', '\uFFFD\u0001', '', 'word', '~b64:fmI2NDpfd0U', '~b64:fmI2NDo', '\uFEFFa', '~b64:wIA']);
    expect(keyIdOf(null)).toBeNull();
    expect(keyBytesOf(null)).toBeNull();
  });

  it('takes a string given as a key as a key id, and any other string as its text', () => {
    expect(keyIdOfString('~b64:_wE')).toBe('~b64:_wE');
    // Not an id keyIdOf would write (the bytes are UTF-8 "a"): the text itself, escaped.
    expect(keyIdOfString('~b64:YQ')).toBe('~b64:fmI2NDpZUQ');
    expect(keyBytesOf(keyIdOfString('~b64:YQ'))?.toString()).toBe('~b64:YQ');
    expect(() => keyBytesOf('~b64:YQ')).toThrow('is not an escaped key');
  });

  it('encodes keyBy results canonically and refuses values without canonical bytes, naming the operator', () => {
    expect(keyIdOfValue('a', 'k')).toBe('a');
    expect(keyIdOfValue(42, 'k')).toBe('42');
    expect(keyIdOfValue(-0, 'k')).toBe('0');
    expect(keyIdOfValue(12n, 'k')).toBe('12');
    expect(keyIdOfValue(true, 'k')).toBe('true');
    expect(keyIdOfValue(new Uint8Array([255, 1]), 'k')).toBe('~b64:_wE');
    expect(keyIdOfValue({ x: 1 }, 'k')).toBe('{"x":1}');
    expect(keyIdOfValue({ b: [1, 'two', null], a: { d: false, c: 0 } }, 'k')).toBe('{"a":{"c":0,"d":false},"b":[1,"two",null]}');
    expect(keyIdOfValue({ b: 2, a: 1 }, 'k')).toBe(keyIdOfValue({ a: 1, b: 2 }, 'k'));
    const refused: Array<[unknown, string]> = [
      [null, 'returned null: every record needs a key'],
      [undefined, 'returned undefined: every record needs a key'],
      [NaN, 'returned NaN'],
      [Infinity, 'returned Infinity'],
      ['\uD800x', 'unpaired surrogate'],
      [Symbol('s'), 'returned a symbol'],
      [() => 1, 'returned a function'],
      [new Date(0), 'a Date object at key'],
      [new Map(), 'a Map object at key'],
      [{ a: undefined }, 'undefined at key.a'],
      [{ a: 1n }, 'a bigint at key.a'],
      [[1, [NaN]], 'NaN at key[1][0]'],
      // eslint-disable-next-line no-sparse-arrays
      [[1, , 2], 'undefined at key[1]'],
    ];
    for (const [v, msg] of refused) {
      const err = thrown(() => keyIdOfValue(v, 'by-user'));
      expect(err).toBeInstanceOf(RecordError);
      expect(err.message).toContain('operator "by-user" (keyBy) returned');
      expect(err.message).toContain(msg);
    }
  });
});

describe('keyBy values that used to be stringified', () => {
  it('counts {x:1} and {x:2} as two keys, and sends a Date key to the DLQ naming the operator', async () => {
    const p = pipeline('ok');
    p.source(kafkaSource({ topic: 'in', value: 'json' }))
      .keyBy((v) => (v === 'date' ? (new Date(0) as unknown as string) : (v as { x: number })), 'by-x')
      .aggregate(count(), (k, n) => ({ k, n }))
      .sinkTo(kafkaSink({ topic: 'out' }));
    const h = new Harness(p, 1);
    for (const [t, v] of ['{"x":1}', '{"x":2}', '"date"', '{"x":1}'].entries()) h.produce('in', 0, t, v);
    await h.deliver('s0');
    await h.deliver('s1');
    expect(h.values('out')).toEqual([
      { k: '{"x":1}', n: 1 },
      { k: '{"x":2}', n: 1 },
      { k: '{"x":1}', n: 2 },
    ]);
    const dlq = h.records('ok-dlq');
    expect(dlq.map((r) => [r.value, r.headers['weir-dlq-offset']])).toEqual([['"date"', '2']]);
    expect(dlq[0]?.headers['weir-dlq-error']).toBe(
      'USER_FUNCTION_FAILED: operator "by-x" (keyBy) returned a Date object at key, which has no canonical form; return a string, number, boolean, bigint, Uint8Array, or an array / plain object of JSON values',
    );
  });
});

describe('weir run files', () => {
  it('take and give a non-UTF-8 key as its key id, through a keyed stage', async () => {
    const p = pipeline('rk');
    p.source(kafkaSource({ topic: 'in', withMetadata: true }))
      .keyBy((r) => r.meta.keyBytes ?? new Uint8Array())
      .aggregate(count())
      .sinkTo(kafkaSink({ topic: 'out' }));
    const input = [
      { timestamp: 1, key: '~b64:_wE', value: 'a' },
      { timestamp: 2, key: '~b64:_gE', value: 'b' },
      { timestamp: 3, key: '~b64:_wE', value: 'c' },
      { timestamp: 4, key: '~b64:plain', value: 'd' },
    ];
    const placed = placeInput('rk', input, ['in'], () => 1);
    expect(placed.map((r) => r.key?.toString('hex'))).toEqual(['ff01', 'fe01', 'ff01', Buffer.from('~b64:plain').toString('hex')]);
    const { outputs } = await runEmbedded(p, input, { partitions: 1 });
    expect(outputs.filter((o) => o.topic === 'out').map((o) => [o.key, o.value])).toEqual([
      ['~b64:_wE', 1],
      ['~b64:_gE', 1],
      ['~b64:_wE', 2],
      ['~b64:fmI2NDpwbGFpbg', 1],
    ]);
  });
});
