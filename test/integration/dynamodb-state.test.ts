/**
 * DynamoDB adapters other than the commit log (test/integration/dynamo-commit-log.test.ts)
 * against DynamoDB Local (`npm run local:up`): tables, the progress store, the sink writer,
 * and throttling / transient errors injected by the fault proxy (test/support/dynamo-proxy.ts)
 * for every adapter. Fails, never skips, when DynamoDB Local does not answer.
 */
import { randomBytes } from 'node:crypto';
import { DescribeTableCommand, DescribeTimeToLiveCommand, GetItemCommand, QueryCommand, ScanCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { MemorySinkWriter } from '../../shared/adapters/memory/memory-sinks';
import { MemoryProgressStore } from '../../shared/adapters/memory/memory-commit-log';
import { DynamoCommitLog, DynamoProgressStore, DynamoSinkWriter, ensureTables, StateUnavailableError, tableDefinitions } from '../../shared/adapters/dynamodb';
import { functionSink, type SinkRecord } from '../../shared/api';
import { StateConflictError } from '../../shared/runtime/errors';
import type { ProgressStore, SinkRow } from '../../shared/runtime/ports';
import { DynamoProxy, INTERNAL, THROTTLE, THROTTLING, type ProxyAction } from '../support/dynamo-proxy';
import { createSinkTable, deleteTables, localDynamoClient, randomTableName, requireDynamoDbLocal, DYNAMODB_LOCAL_ENDPOINT } from '../support/dynamodb-local';
import { caught } from '../support/thrown';

const client = localDynamoClient();
const tables = { state: randomTableName('state'), progress: randomTableName('progress') };
const sinkTable = randomTableName('sink');
const fastRetry = { maxAttempts: 6, baseDelayMs: 1, maxDelayMs: 10 };
let scopeSeq = 0;
/** A scope no other test touches (with '#', like the executor's `pipeline#stage#partition`). */
const freshScope = (name: string): string => `test-${name}#s1#${scopeSeq++}`;

beforeAll(async () => {
  await requireDynamoDbLocal(client);
  await ensureTables(client, tables, { pollMs: 50 });
  await createSinkTable(client, sinkTable);
});

afterAll(async () => {
  await deleteTables(client, [tables.state, tables.progress, sinkTable]);
  client.destroy();
});

/** Items of one state partition (pk = scope), in sort key order. */
async function partitionItems(scope: string): Promise<Record<string, AttributeValue>[]> {
  const res = await client.send(new QueryCommand({ TableName: tables.state, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: scope } }, ConsistentRead: true }));
  return res.Items ?? [];
}

describe('tables', () => {
  it('ensureTables is idempotent (also concurrently) and leaves both tables ACTIVE with the expected schema and TTL', async () => {
    await Promise.all([ensureTables(client, tables, { pollMs: 50 }), ensureTables(client, tables, { pollMs: 50 })]);
    await ensureTables(client, tables, { pollMs: 50 });
    const state = (await client.send(new DescribeTableCommand({ TableName: tables.state }))).Table;
    const progress = (await client.send(new DescribeTableCommand({ TableName: tables.progress }))).Table;
    expect(state?.TableStatus).toBe('ACTIVE');
    expect(progress?.TableStatus).toBe('ACTIVE');
    expect(state?.KeySchema).toEqual(tableDefinitions(tables).state.KeySchema);
    expect(progress?.KeySchema).toEqual([{ AttributeName: 'pk', KeyType: 'HASH' }]);
    const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tables.state }));
    expect(ttl.TimeToLiveDescription).toMatchObject({ AttributeName: 'ttl', TimeToLiveStatus: 'ENABLED' });
  });

  it('refuses an existing table with another key schema', async () => {
    await expect(ensureTables(client, { state: sinkTable, progress: tables.progress }, { pollMs: 50 })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});


/** The conditional put of a progress store: seq 1 on nothing, n + 1 after n, a conflict otherwise. */
async function progressContract(progress: ProgressStore, scope: string): Promise<unknown[]> {
  const trace: unknown[] = [];
  const put = async (seq: number, data: string): Promise<void> => {
    try {
      await progress.put(scope, seq, data);
      trace.push(['put', seq, 'ok']);
    } catch (err) {
      trace.push(['put', seq, err instanceof StateConflictError ? 'conflict' : String(err)]);
    }
  };
  trace.push(['get', await progress.get(scope)]);
  await put(2, 'two on nothing');
  await put(0, 'zero');
  await put(1, 'one');
  await put(1, 'one again');
  trace.push(['get', await progress.get(scope)]);
  await put(3, 'skips two');
  await put(2, 'two');
  await put(2, 'two again');
  await put(1, 'back to one');
  await put(3, 'three');
  trace.push(['get', await progress.get(scope)]);
  return trace;
}

describe('DynamoProgressStore', () => {
  const expected = [
    ['get', undefined],
    ['put', 2, 'conflict'],
    ['put', 0, 'conflict'],
    ['put', 1, 'ok'],
    ['put', 1, 'conflict'],
    ['get', { seq: 1, data: 'one' }],
    ['put', 3, 'conflict'],
    ['put', 2, 'ok'],
    ['put', 2, 'conflict'],
    ['put', 1, 'conflict'],
    ['put', 3, 'ok'],
    ['get', { seq: 3, data: 'three' }],
  ];

  it('puts seq 1 on nothing and n + 1 after n only; anything else is a StateConflictError and leaves the record (as MemoryProgressStore)', async () => {
    const scope = freshScope('progress') + '#in#0';
    expect(await progressContract(new DynamoProgressStore({ client, table: tables.progress }), scope)).toEqual(expected);
    expect(await progressContract(new MemoryProgressStore(), scope)).toEqual(expected);
  });

  it('stores pk, seq, data and updatedAt; a record over 400 KB is STATE_TOO_LARGE and the stored one stays', async () => {
    const progress = new DynamoProgressStore({ client, table: tables.progress, now: () => 1234567 });
    const scope = freshScope('progress') + '#in#0';
    const data = JSON.stringify({ offsetDone: 99, lanes: { 'ünï#côde': { wm: { t: '-inf' } } } });
    await progress.put(scope, 1, data);
    const raw = await client.send(new GetItemCommand({ TableName: tables.progress, Key: { pk: { S: scope } }, ConsistentRead: true }));
    expect(raw.Item).toEqual({ pk: { S: scope }, seq: { N: '1' }, data: { S: data }, updatedAt: { N: '1234567' } });
    await expect(progress.put(scope, 2, 'z'.repeat(410_000))).rejects.toMatchObject({ code: 'STATE_TOO_LARGE' });
    expect(await progress.get(scope)).toEqual({ seq: 1, data });
    expect(await progress.get(`${scope}x`)).toBeUndefined();
  });

  it('two writers that read the same seq: one commits, the other gets StateConflictError', async () => {
    const scope = freshScope('race') + '#in#0';
    const a = new DynamoProgressStore({ client, table: tables.progress });
    const b = new DynamoProgressStore({ client, table: tables.progress });
    await a.put(scope, 1, 'base');
    const results = await Promise.allSettled([a.put(scope, 2, 'from-a'), b.put(scope, 2, 'from-b')]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const lost = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(lost?.reason).toBeInstanceOf(StateConflictError);
    const won = results[0]?.status === 'fulfilled' ? 'from-a' : 'from-b';
    expect(await a.get(scope)).toEqual({ seq: 2, data: won });
  });
});

describe('DynamoSinkWriter', () => {
  async function scanSink(): Promise<Record<string, AttributeValue>[]> {
    const res = await client.send(new ScanCommand({ TableName: sinkTable, ConsistentRead: true }));
    return (res.Items ?? []).sort((a, b) => ((a.id?.S ?? '') < (b.id?.S ?? '') ? -1 : 1));
  }

  it('puts one item per weir-id; writing the same rows again leaves the same items', async () => {
    const fnRecords: SinkRecord<unknown>[] = [];
    const fn = functionSink<unknown>({ name: 'collector', write: async (rs) => void fnRecords.push(...rs) });
    const writer = new DynamoSinkWriter({ client, functions: new Map([['collector', fn]]) });
    const rows: SinkRow[] = [
      { sink: sinkTable, id: 's0/in/0/0/1', key: 'user#1', value: { total: 3, name: 'ünï' }, timestamp: 1000 },
      { sink: sinkTable, id: 's0/in/0/1/1', key: null, value: 'text', timestamp: -5 },
      { sink: sinkTable, id: 's1/op/k/0-10/0', key: '__proto__', value: [1, null, 2.5], timestamp: 9 },
      { sink: 'collector', id: 'fn-1', key: null, value: 42, timestamp: 3 },
    ];
    await writer.write(rows);
    const first = await scanSink();
    expect(first).toEqual([
      { id: { S: 's0/in/0/0/1' }, key: { S: 'user#1' }, value: { S: '{"total":3,"name":"ünï"}' }, timestamp: { N: '1000' } },
      { id: { S: 's0/in/0/1/1' }, value: { S: '"text"' }, timestamp: { N: '-5' } },
      { id: { S: 's1/op/k/0-10/0' }, key: { S: '__proto__' }, value: { S: '[1,null,2.5]' }, timestamp: { N: '9' } },
    ]);
    expect(fnRecords).toEqual([{ id: 'fn-1', key: null, value: 42, timestamp: 3 }]);

    // a retried batch: same ids, same content -> same table
    await writer.write([...rows, ...rows]);
    expect(await scanSink()).toEqual(first);
    expect(fnRecords.length).toBe(3);

    // the same rows through MemorySinkWriter give the same rows per id
    const mem = new MemorySinkWriter(new Map([['collector', fn]]));
    await mem.write(rows);
    expect([...(mem.tables.get(sinkTable)?.keys() ?? [])].sort()).toEqual(first.map((i) => i.id?.S));
  });

  it("puts a sink's own item (its item function's result with weirId) as DynamoDB attributes", async () => {
    const writer = new DynamoSinkWriter({ client });
    const item = { id: 'user#7', total: 3, tags: ['a', 'b'], nested: { ok: true }, skipped: undefined, weirId: 's1/op/user#7/0-10/0' };
    await writer.write([{ sink: sinkTable, id: 's1/op/user#7/0-10/0', key: 'user#7', value: { total: 3 }, timestamp: 10, item }]);
    const got = await client.send(new GetItemCommand({ TableName: sinkTable, Key: { id: { S: 'user#7' } }, ConsistentRead: true }));
    expect(got.Item).toEqual({ id: { S: 'user#7' }, total: { N: '3' }, tags: { L: [{ S: 'a' }, { S: 'b' }] }, nested: { M: { ok: { BOOL: true } } }, weirId: { S: 's1/op/user#7/0-10/0' } });
  });
});


describe('throttling and transient errors through the fault proxy', () => {
  /** A client without SDK retries (the adapters' own retries are under test) whose requests go through `proxy`. */
  async function proxied(decide: (body: string) => ProxyAction): Promise<{ proxy: DynamoProxy; c: DynamoDBClient }> {
    const proxy = new DynamoProxy(DYNAMODB_LOCAL_ENDPOINT, (r) => decide(r.body));
    const endpoint = await proxy.start();
    return { proxy, c: localDynamoClient({ endpoint, maxAttempts: 1 }) };
  }

  it('retries throttled and failing requests of every adapter until they succeed; the results are exact', async () => {
    // Every request fails the first time it is sent (a retry sends the same body): throttled
    // (HTTP 400, two kinds) or an internal error (HTTP 500), in turn.
    const seen = new Set<string>();
    const faults = [THROTTLE, THROTTLING, INTERNAL];
    let n = 0;
    const { proxy, c } = await proxied((body) => {
      if (seen.has(body)) return { kind: 'forward' };
      seen.add(body);
      return faults[n++ % faults.length] as ProxyAction;
    });
    try {
      const log = new DynamoCommitLog({ client: c, table: tables.state, retry: fastRetry });
      const progress = new DynamoProgressStore({ client: c, table: tables.progress, retry: fastRetry });
      const sinks = new DynamoSinkWriter({ client: c, retry: fastRetry });
      const scope = freshScope('flaky');
      // A commit over PART_BYTES (parts first) and a snapshot, as well as small commits.
      const big = randomBytes(600_000).toString('base64');
      await log.append(scope, 1, 'one');
      await log.append(scope, 2, big);
      await log.snapshot(scope, 2, `snap:${big}`);
      await log.append(scope, 3, 'three');
      await expect(log.append(scope, 3, 'three again')).rejects.toBeInstanceOf(StateConflictError);
      expect(await log.read(scope)).toEqual({ snapshot: { seq: 2, body: `snap:${big}` }, entries: [{ seq: 3, body: 'three' }] });
      expect(await log.read(scope, 0)).toEqual({ entries: [{ seq: 1, body: 'one' }, { seq: 2, body: big }, { seq: 3, body: 'three' }] });
      await progress.put(`${scope}#in#0`, 1, 'p1');
      await progress.put(`${scope}#in#0`, 2, 'p2');
      expect(await progress.get(`${scope}#in#0`)).toEqual({ seq: 2, data: 'p2' });
      await sinks.write([{ sink: sinkTable, id: `${scope}/flaky`, key: 'k', value: 1, timestamp: 5 }]);
      const got = await client.send(new GetItemCommand({ TableName: sinkTable, Key: { id: { S: `${scope}/flaky` } }, ConsistentRead: true }));
      expect(got.Item).toEqual({ id: { S: `${scope}/flaky` }, key: { S: 'k' }, value: { S: '1' }, timestamp: { N: '5' } });
      expect(proxy.injected.ProvisionedThroughputExceededException).toBeGreaterThan(3);
      expect(proxy.injected.ThrottlingException).toBeGreaterThan(3);
      expect(proxy.injected.InternalServerError).toBeGreaterThan(3);
    } finally {
      c.destroy();
      await proxy.stop();
    }
  });

  it('gives up after bounded attempts with a retriable StateUnavailableError naming the error; nothing is written', async () => {
    const { proxy, c } = await proxied(() => THROTTLE);
    try {
      const retry = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 };
      const log = new DynamoCommitLog({ client: c, table: tables.state, retry });
      const progress = new DynamoProgressStore({ client: c, table: tables.progress, retry });
      const sinks = new DynamoSinkWriter({ client: c, retry });
      const scope = freshScope('down');
      // One call at a time: started together, a call that fails while another is awaited is an unhandled rejection.
      for (const call of [
        () => log.read(scope),
        () => log.read(scope, 4),
        () => log.append(scope, 1, 'x'),
        () => log.snapshot(scope, 1, 'x'),
        () => progress.get(`${scope}#in#0`),
        () => progress.put(`${scope}#in#0`, 1, 'p'),
        () => sinks.write([{ sink: sinkTable, id: `${scope}/down`, key: null, value: 1, timestamp: 0 }]),
      ]) {
        const err = await caught(call());
        expect(err).toBeInstanceOf(StateUnavailableError);
        expect(err).toMatchObject({ retriable: true, code: 'STATE_CONFLICT' });
        expect((err as Error).message).toContain('ProvisionedThroughputExceededException');
        expect((err as Error).message).toContain('after 3 attempts');
      }
      expect(proxy.injected.ProvisionedThroughputExceededException).toBe(7 * 3);
      expect(await partitionItems(scope)).toEqual([]);
      expect((await client.send(new GetItemCommand({ TableName: tables.progress, Key: { pk: { S: `${scope}#in#0` } }, ConsistentRead: true }))).Item).toBeUndefined();
    } finally {
      c.destroy();
      await proxy.stop();
    }
  });
});
