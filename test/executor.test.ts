import { decodeEnvelope, encodeEnvelope } from '../shared/runtime/wire';
import { fromJson, toJson } from '../shared/runtime/progress';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { count, kafkaSink, kafkaSource, pipeline, tumbling } from '../shared/api';
import { InjectedCrash } from '../shared/runtime/errors';
import type { MskEvent } from '../shared/runtime/msk-event';
import { Harness } from './support/harness';

const fixture = (): MskEvent => JSON.parse(readFileSync(resolve(__dirname, 'fixtures/msk-event.json'), 'utf8')) as MskEvent;

function upper() {
  const p = pipeline('up');
  p.source(kafkaSource({ topic: 'lines', withMetadata: true }))
    .map((r) => ({ text: r.value.toUpperCase(), key: r.meta.key, headers: r.meta.headers, offset: r.meta.offset }))
    .sinkTo(kafkaSink({ topic: 'out' }));
  return p;
}

function runningCount() {
  const p = pipeline('rc');
  p.source(kafkaSource({ topic: 'lines' }))
    .flatMap((l) => l.split(' '))
    .keyBy((w) => w)
    .aggregate(count(), (w, n) => ({ w, n }))
    .sinkTo(kafkaSink({ topic: 'out' }));
  return p;
}

describe('stage executor on MSK events', () => {
  it('decodes the MSK event exactly as Lambda delivers it: base64, null keys, byte-array headers, several partitions', async () => {
    const h = new Harness(upper(), 4);
    const report = await h.executor('s0').handle(fixture());
    expect(report).toMatchObject({ partitions: 2, recordsIn: 3, skippedBatches: 0 });
    const out = h.records('out');
    expect(out.map((r) => JSON.parse(r.value as string))).toEqual([
      { text: 'THE QUICK BROWN FOX', key: null, headers: {}, offset: 41 },
      { text: 'JUMPS OVER THE LAZY DOG', key: 'k1', headers: { 'trace-id': '7f3a' }, offset: 42 },
      { text: 'STREAM PROCESSING', key: 'k2', headers: { a: '1', b: '' }, offset: 7 },
    ]);
    expect(out.map((r) => r.headers['weir-id'])).toEqual(['s0/lines/0/41/0', 's0/lines/0/42/0', 's0/lines/3/7/0']);
  });

  it('skips a batch delivered again after success (a lost offset commit)', async () => {
    const h = new Harness(upper(), 4);
    await h.executor('s0').handle(fixture());
    const again = await h.executor('s0').handle(fixture());
    expect(again).toMatchObject({ recordsIn: 0, skippedBatches: 2 });
    expect(h.records('out')).toHaveLength(3);
  });

  it('counts each record once when a keyed batch crashes after its commit, before it returned', async () => {
    const h = new Harness(runningCount(), 1);
    h.produce('lines', 0, 1, 'a b a');
    await h.deliver('s0');
    const append = h.log.append.bind(h.log);
    h.log.append = async (scope, seq, body) => {
      await append(scope, seq, body);
      throw new InjectedCrash('after the commit, before the invocation returned');
    };
    await expect(h.deliver('s1')).rejects.toThrow(InjectedCrash);
    h.log.append = append;
    await h.deliver('s1');
    h.produce('lines', 0, 2, 'a');
    await h.deliver('s0');
    await h.deliver('s1');
    // The first attempt wrote its outputs and committed; the retry found the batch done.
    expect(h.values('out')).toEqual([
      { w: 'a', n: 1 },
      { w: 'b', n: 1 },
      { w: 'a', n: 2 },
      { w: 'a', n: 3 },
    ]);
    expect(h.metrics.batchesSkipped).toBe(1);
  });

  it('skips the whole batch when it crashed after its atomic commit, before returning', async () => {
    const h = new Harness(runningCount(), 1);
    h.produce('lines', 0, 1, 'a b a');
    await h.deliver('s0');
    h.fault = (point) => {
      if (point === 'after-commit') throw new InjectedCrash(point);
    };
    await expect(h.deliver('s1')).rejects.toThrow(InjectedCrash);
    h.fault = undefined;
    await h.deliver('s1');
    expect(h.values('out')).toEqual([
      { w: 'a', n: 1 },
      { w: 'b', n: 1 },
      { w: 'a', n: 2 },
    ]);
    expect(h.metrics.batchesSkipped).toBe(1);
  });

  it('fences duplicates an upstream retry wrote at new offsets', async () => {
    const h = new Harness(runningCount(), 1);
    h.produce('lines', 0, 1, 'x y');
    await h.deliver('s0');
    // Replay the upstream batch: it writes the same records (same origins) again.
    const repartition = h.plan.stages[1]?.inputTopics[0] as string;
    for (const r of [...h.broker.all(repartition, 0)]) h.broker.append({ ...r });
    await h.deliver('s1');
    expect(h.values('out')).toEqual([
      { w: 'x', n: 1 },
      { w: 'y', n: 1 },
    ]);
    expect(h.metrics.duplicatesSkipped).toBe(2);
  });

  it('sends undecodable records to the dead-letter topic with headers naming where they came from, and goes on', async () => {
    const p = pipeline('js');
    p.source(kafkaSource({ topic: 'in', value: 'json' })).sinkTo(kafkaSink({ topic: 'out' }));
    const h = new Harness(p, 1);
    h.produce('in', 0, 1, '{"ok":1}');
    h.produce('in', 0, 2, 'not json{');
    h.produce('in', 0, 3, null);
    h.produce('in', 0, 4, '{"ok":2}');
    await h.deliver('s0');
    expect(h.values('out')).toEqual([{ ok: 1 }, { ok: 2 }]);
    const dlq = h.records('js-dlq');
    expect(dlq.map((r) => [r.value, r.headers['weir-dlq-stage'], r.headers['weir-dlq-topic'], r.headers['weir-dlq-partition'], r.headers['weir-dlq-offset']])).toEqual([
      ['not json{', 's0', 'in', '0', '1'],
      [null, 's0', 'in', '0', '2'],
    ]);
    expect(dlq[0]?.headers['weir-dlq-error']).toMatch(/value is not valid JSON/);
    expect(dlq[1]?.headers['weir-dlq-error']).toMatch(/no value \(tombstone\)/);
  });

  it('marks a silent source partition idle on tick, so the other partition moves the watermark and windows fire', async () => {
    const p = pipeline('idle');
    p.source(kafkaSource({ topic: 'in', eventTime: { outOfOrdernessMs: 0, idleTimeoutMs: 1000 } }))
      .keyBy((x) => x)
      .window(tumbling(100))
      .aggregate(count(), (k, n, w) => ({ k, n, end: w.end }))
      .sinkTo(kafkaSink({ topic: 'out' }));
    const h = new Harness(p, 2);
    h.now = 0;
    h.produce('in', 1, 0, 'b');
    await h.deliver('s0');
    h.now = 5000;
    for (const t of [10, 50, 150, 250]) h.produce('in', 0, t, 'a');
    await h.deliver('s0');
    await h.deliver('s1');
    // Partition 1 has said nothing since ts 0: it holds the watermark back.
    expect(h.values('out')).toEqual([]);
    await h.executor('s0').tick(() => 2);
    await h.deliver('s1');
    const fired = (h.values('out') as Array<{ k: string; end: number }>).sort((x, y) => x.end - y.end || x.k.localeCompare(y.k));
    expect(fired).toEqual([
      { k: 'a', n: 2, end: 100 },
      { k: 'b', n: 1, end: 100 },
      { k: 'a', n: 1, end: 200 },
    ]);
  });
});

describe('wire formats', () => {
  it('keeps the envelope of a record between stages whole, and names the header when it is malformed', () => {
    const e = { lane: 's0:lines:3', offset: 41, seq: 2, edge: 5, now: 1767225600123 };
    expect(decodeEnvelope(encodeEnvelope(e))).toEqual(e);
    expect(decodeEnvelope(encodeEnvelope({ ...e, now: -Infinity }))).toEqual({ ...e, now: -Infinity });
    expect(() => decodeEnvelope('s0:lines:3|41|2')).toThrow(/malformed weir-origin header/);
  });

  it('round-trips key state with infinities, and leaves user objects that look like a tag alone', () => {
    const state = { wm: -Infinity, end: Infinity, user: { t: 'inf' }, n: [1, Infinity] };
    const text = toJson(state);
    expect(fromJson(text)).toEqual(state);
    expect(fromJson(toJson({ t: '-inf' }))).toEqual({ t: '-inf' });
  });
});

describe('a keyed batch', () => {
  it('commits one log entry per partition batch, with or without key changes, and writes no progress item of its own', async () => {
    const p = pipeline('marks');
    p.source(kafkaSource({ topic: 'lines', eventTime: { outOfOrdernessMs: 0 } }))
      .keyBy((w) => w)
      .window(tumbling(1000))
      .aggregate(count(), (w, n) => `${w}:${n}`)
      .sinkTo(kafkaSink({ topic: 'out', value: 'string' }));
    const h = new Harness(p, 2);
    const append = jest.spyOn(h.log, 'append');
    const put = jest.spyOn(h.progress, 'put');
    h.produce('lines', 0, 10, 'a');
    await h.deliver('s0');
    await h.deliver('s1');
    // One s1 partition got the word, the other only watermark markers: one commit each.
    expect(append.mock.calls.map(([scope, seq]) => `${scope}@${seq}`).sort()).toEqual(['marks#s1#0@1', 'marks#s1#1@1']);
    const lines = append.mock.calls.map(([, , body]) => body.split('\n').length - 1).sort();
    expect(lines).toEqual([0, 1]);
    expect(put.mock.calls.map(([scope]) => scope).filter((sc) => sc.includes('#s1#'))).toEqual([]);
  });
});
