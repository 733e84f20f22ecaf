import { dynamoSink, functionSink, kafkaSink, kafkaSource, pipeline, type SinkRecord } from '../shared/api';
import { runEmbedded } from '../shared/local/embedded';
import { at } from './support/run';

describe('DynamoDB and function sinks (embedded)', () => {
  it('hands every record to the function sink once per attempt with a stable id, and puts DynamoDB rows by weir-id', async () => {
    const seen: SinkRecord<string>[] = [];
    const p = pipeline('sinks');
    const s = p.source(kafkaSource({ topic: 'in' })).map((x) => x.toUpperCase());
    s.sinkTo(functionSink({ name: 'collector', write: async (rs) => void seen.push(...rs) }));
    s.sinkTo(dynamoSink({ table: 'upper-table' }));
    const calm = await runEmbedded(p, at([1, 'a'], [2, 'b'], [3, 'c']), { partitions: 1, batchSize: 2 });
    expect(seen.map((r) => [r.id, r.value, r.timestamp])).toEqual([
      ['s0/in/0/0/0', 'A', 1],
      ['s0/in/0/1/0', 'B', 2],
      ['s0/in/0/2/0', 'C', 3],
    ]);
    expect(calm.outputs.filter((o) => o.topic === 'dynamodb:upper-table').map((o) => [o.headers['weir-id'], o.value])).toEqual([
      ['s0/in/0/0/1', 'A'],
      ['s0/in/0/1/1', 'B'],
      ['s0/in/0/2/1', 'C'],
    ]);
    seen.length = 0;
    const wild = await runEmbedded(p, at([1, 'a'], [2, 'b'], [3, 'c']), { partitions: 1, batchSize: 2, chaos: 3 });
    // At least once: retries may repeat a record, always with the same id and value.
    const byId = new Map(seen.map((r) => [r.id, r.value]));
    expect([...byId]).toEqual([
      ['s0/in/0/0/0', 'A'],
      ['s0/in/0/1/0', 'B'],
      ['s0/in/0/2/0', 'C'],
    ]);
    // Every delivery, repeats included, carries one of those (id, value, timestamp) triples:
    // a Map keeps only the last value per id, so check each record.
    expect([...new Set(seen.map((r) => JSON.stringify([r.id, r.value, r.timestamp])))].sort()).toEqual([
      '["s0/in/0/0/0","A",1]',
      '["s0/in/0/1/0","B",2]',
      '["s0/in/0/2/0","C",3]',
    ]);
    // The seed did inject faults, and the DynamoDB rows are the calm run's, one per weir-id.
    const faults = wild.chaos;
    expect(faults && Object.values(faults.crashes).reduce((a, b) => a + b, 0) + faults.redeliveries + faults.duplicatedRecords).toBeGreaterThan(0);
    const rows = (r: typeof calm) => [...new Map(r.outputs.filter((o) => o.topic === 'dynamodb:upper-table').map((o) => [o.headers['weir-id'], o.value]))];
    expect(rows(wild)).toEqual(rows(calm));
    expect(new Set(wild.outputs.filter((o) => o.topic === 'dynamodb:upper-table').map((o) => JSON.stringify([o.headers['weir-id'], o.value]))).size).toBe(3);
  });
});

describe('a sink that cannot take a record', () => {
  it('sends that record to the DLQ naming the sink, and writes the others', async () => {
    const p = pipeline('bad-sink');
    p.source(kafkaSource({ topic: 'in' }))
      .map((x) => (x === 'big' ? BigInt(1) : x))
      .sinkTo(
        kafkaSink<unknown>({
          topic: 'out',
          key: (v) => {
            if (v === 'nokey') throw new Error('no key for this one');
            return String(v);
          },
        }),
      );
    const run = await runEmbedded(p, at([1, 'a'], [2, 'nokey'], [3, 'big'], [4, 'b']), { partitions: 1, batchSize: 10 });
    expect(run.outputs.filter((o) => o.topic === 'out').map((o) => o.value)).toEqual(['a', 'b']);
    const dlq = run.outputs.filter((o) => o.topic === 'bad-sink-dlq');
    expect(dlq.map((o) => [o.value, o.headers['weir-dlq-offset']])).toEqual([
      ['nokey', '1'],
      ['big', '2'],
    ]);
    expect(dlq.map((o) => o.headers['weir-dlq-error'])).toEqual([expect.stringContaining('kafka sink "out" could not be written: no key for this one'), expect.stringContaining('kafka sink "out" could not be written')]);
  });
});

describe('dynamoSink with an item function', () => {
  it('writes the item the function builds, with weirId added', async () => {
    const p = pipeline('items');
    p.source(kafkaSource({ topic: 'in' }))
      .map((x) => x.toUpperCase())
      .sinkTo(dynamoSink<string>({ table: 'items-table', item: (v, id) => ({ pk: v, len: v.length, from: id.split('/')[0] }) }));
    const run = await runEmbedded(p, at([1, 'ab'], [2, 'c']), { partitions: 1 });
    expect(run.outputs.filter((o) => o.topic === 'dynamodb:items-table').map((o) => o.value)).toEqual([
      { pk: 'AB', len: 2, from: 's0', weirId: 's0/in/0/0/0' },
      { pk: 'C', len: 1, from: 's0', weirId: 's0/in/0/1/0' },
    ]);
  });
});
