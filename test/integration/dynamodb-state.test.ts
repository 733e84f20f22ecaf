/**
 * DynamoDB adapters against DynamoDB Local (`npm run local:up`). Fails, never skips, when it
 * does not answer.
 */
import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  GetItemCommand,
  ProvisionedThroughputExceededException,
  ScanCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { MemorySinkWriter } from '../../shared/adapters/memory/memory-sinks';
import { MemoryProgressStore, MemoryStateStore } from '../../shared/adapters/memory/memory-state-store';
import {
  DynamoProgressStore,
  DynamoSinkWriter,
  DynamoStateStore,
  ensureTables,
  sortableTime,
  StateTooLargeError,
  StateUnavailableError,
  tableDefinitions,
  timeFromSortable,
} from '../../shared/adapters/dynamodb';
import { functionSink, type SinkRecord } from '../../shared/api';
import { StateConflictError, WeirError } from '../../shared/runtime/errors';
import type { KeyWrite, ProgressStore, SinkRow, StateStore, StoredKey, TimerEntry } from '../../shared/runtime/ports';
import { createSinkTable, deleteTables, localDynamoClient, randomTableName, requireDynamoDbLocal } from '../support/dynamodb-local';
import { Rng } from '../reference/prng';

const client = localDynamoClient();
const tables = { state: randomTableName('state'), progress: randomTableName('progress') };
const sinkTable = randomTableName('sink');
const fastRetry = { maxAttempts: 6, baseDelayMs: 1, maxDelayMs: 10 };
let scopeSeq = 0;
/** A scope no other test touches (with '#', like the executor's `pipeline#stage#partition`). */
const freshScope = (name: string): string => `test-${name}#s1#${scopeSeq++}`;
const stateStore = (extra: Partial<ConstructorParameters<typeof DynamoStateStore>[0]> = {}): DynamoStateStore =>
  new DynamoStateStore({ client, table: tables.state, ...extra });

const WEIRD_KEYS = [
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'prototype',
  '',
  ' ',
  '#',
  '##',
  'a#b',
  '#k#',
  'x#t#event',
  'state',
  'ünïcødé',
  '日本語のキー',
  '😀 emoji 🎉',
  'line\nbreak\ttab',
  'nul\u0000char',
  'quote"and\\backslash',
  '1e3',
  '-0',
  'a'.repeat(1000),
];

beforeAll(async () => {
  await requireDynamoDbLocal(client);
  await ensureTables(client, tables, { pollMs: 50 });
  await createSinkTable(client, sinkTable);
});

afterAll(async () => {
  await deleteTables(client, [tables.state, tables.progress, sinkTable]);
  client.destroy();
});

function sortedEntries(m: Map<string, StoredKey>): [string, StoredKey][] {
  return [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function byTimeThenKey(a: TimerEntry, b: TimerEntry): number {
  if (a.time !== b.time) return a.time < b.time ? -1 : 1;
  if (a.domain !== b.domain) return a.domain < b.domain ? -1 : 1;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** DynamoDB's sort key order: time, then the key's UTF-8 bytes. */
function byTimeThenKeyBytes(a: TimerEntry, b: TimerEntry): number {
  if (a.time !== b.time) return a.time < b.time ? -1 : 1;
  return Buffer.compare(Buffer.from(a.key, 'utf8'), Buffer.from(b.key, 'utf8'));
}

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
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

describe('sortableTime', () => {
  it('sorts like the numbers, fixed width, and round-trips', () => {
    const rng = new Rng(7);
    const nums = [-Infinity, Infinity, 0, 1, -1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, Number.MAX_VALUE, -Number.MAX_VALUE, 1.5, -1.5, 5e-324, -5e-324];
    for (let i = 0; i < 2000; i++) nums.push(Math.round((rng.float() - 0.5) * 2 ** rng.int(0, 60)));
    const strings = nums.map(sortableTime);
    for (const s of strings) expect(s).toMatch(/^[0-9a-f]{16}$/);
    const byNumber = [...nums].sort((a, b) => a - b).map(sortableTime);
    const byString = [...strings].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    expect(byString).toEqual(byNumber);
    for (const n of nums) expect(timeFromSortable(sortableTime(n))).toBe(n === 0 ? 0 : n);
    expect(sortableTime(-0)).toBe(sortableTime(0));
  });
});

describe('DynamoStateStore: keys', () => {
  it('round-trips more than 100 keys (one getMany), including special keys, with versions counting up', async () => {
    const store = stateStore();
    const scope = freshScope('roundtrip');
    const keys = [...WEIRD_KEYS, ...Array.from({ length: 230 }, (_, i) => `key-${i}`)];
    const data = (k: string, v: number): string => JSON.stringify({ k, v, big: 'x'.repeat(k.length % 7) });
    expect((await store.getMany(scope, keys)).size).toBe(0);

    await store.putMany(scope, keys.map((key) => ({ key, expectedVersion: 0, data: data(key, 1) })));
    const first = await store.getMany(scope, [...keys, 'missing', 'key-0', '__proto__']);
    expect(first.size).toBe(keys.length);
    for (const k of keys) expect(first.get(k)).toEqual({ key: k, version: 1, data: data(k, 1) });
    expect(first.has('missing')).toBe(false);
    expect(Object.getPrototypeOf(first)).toBe(Map.prototype);

    await store.putMany(scope, keys.map((key) => ({ key, expectedVersion: 1, data: data(key, 2) })));
    const second = await store.getMany(scope, keys);
    for (const k of keys) expect(second.get(k)).toEqual({ key: k, version: 2, data: data(k, 2) });

    // Same keys in another scope are independent.
    const other = freshScope('roundtrip-other');
    expect((await store.getMany(other, keys)).size).toBe(0);
    expect(await store.getMany(scope, [])).toEqual(new Map());
  });

  it('stores the item as documented: pk, sk, data, version and ttl = now + horizon', async () => {
    const store = stateStore({ now: () => 1_700_000_000_123, ttlHorizonSeconds: 3600 });
    const scope = freshScope('layout');
    await store.putMany(scope, [{ key: 'k#1', expectedVersion: 0, data: '{"a":1}' }]);
    const raw = await client.send(new GetItemCommand({ TableName: tables.state, Key: { pk: { S: `${scope}#k#k#1` }, sk: { S: 'state' } }, ConsistentRead: true }));
    expect(raw.Item).toEqual({ pk: { S: `${scope}#k#k#1` }, sk: { S: 'state' }, data: { S: '{"a":1}' }, version: { N: '1' }, ttl: { N: String(1_700_000_000 + 3600) } });
    // refreshed on every write
    await stateStore({ now: () => 1_800_000_000_000, ttlHorizonSeconds: 10 }).putMany(scope, [{ key: 'k#1', expectedVersion: 1, data: '{"a":2}' }]);
    const again = await client.send(new GetItemCommand({ TableName: tables.state, Key: { pk: { S: `${scope}#k#k#1` }, sk: { S: 'state' } }, ConsistentRead: true }));
    expect(again.Item?.ttl).toEqual({ N: String(1_800_000_000 + 10) });
    // Infinity: no ttl attribute
    await stateStore({ ttlHorizonSeconds: Infinity }).putMany(scope, [{ key: 'forever', expectedVersion: 0, data: '1' }]);
    const forever = await client.send(new GetItemCommand({ TableName: tables.state, Key: { pk: { S: `${scope}#k#forever` }, sk: { S: 'state' } }, ConsistentRead: true }));
    expect(forever.Item?.ttl).toBeUndefined();
  });

  it('a second writer with a stale version gets StateConflictError naming key and scope, and the stored item is unchanged', async () => {
    const a = stateStore();
    const b = stateStore();
    const scope = freshScope('conflict');
    await a.putMany(scope, [{ key: 'user-1', expectedVersion: 0, data: '"v1"' }]);
    const readA = (await a.getMany(scope, ['user-1'])).get('user-1');
    const readB = (await b.getMany(scope, ['user-1'])).get('user-1');
    expect(readA?.version).toBe(1);
    expect(readB?.version).toBe(1);
    await a.putMany(scope, [{ key: 'user-1', expectedVersion: 1, data: '"from-a"' }]);
    const err = await caught(b.putMany(scope, [{ key: 'user-1', expectedVersion: 1, data: '"secret-from-b"' }]));
    expect(err).toBeInstanceOf(StateConflictError);
    expect(err).toMatchObject({ code: 'STATE_CONFLICT', retriable: true });
    const message = (err as Error).message;
    expect(message).toContain('"user-1"');
    expect(message).toContain(scope);
    expect(message).toContain('version 2');
    expect(message).not.toContain('secret-from-b');
    expect(message).not.toContain('from-a');
    expect((await a.getMany(scope, ['user-1'])).get('user-1')).toEqual({ key: 'user-1', version: 2, data: '"from-a"' });

    // expectedVersion 0 on an existing key, and a version on a missing key, both conflict.
    await expect(b.putMany(scope, [{ key: 'user-1', expectedVersion: 0, data: '"x"' }])).rejects.toBeInstanceOf(StateConflictError);
    await expect(b.putMany(scope, [{ key: 'nobody', expectedVersion: 3, data: '"x"' }])).rejects.toBeInstanceOf(StateConflictError);
    expect((await a.getMany(scope, ['user-1', 'nobody'])).size).toBe(1);
    expect((await a.getMany(scope, ['user-1'])).get('user-1')?.data).toBe('"from-a"');
  });

  it('in a batch with a conflict, every write before the conflicting one is applied and the conflicting key is unchanged', async () => {
    const store = stateStore();
    const scope = freshScope('batch-conflict');
    await store.putMany(scope, [{ key: 'taken', expectedVersion: 0, data: '"old"' }]);
    const writes: KeyWrite[] = Array.from({ length: 40 }, (_, i) => ({ key: `w${i}`, expectedVersion: 0, data: `${i}` }));
    writes.splice(20, 0, { key: 'taken', expectedVersion: 0, data: '"new"' });
    const err = await caught(store.putMany(scope, writes));
    expect(err).toBeInstanceOf(StateConflictError);
    expect((err as Error).message).toContain('"taken"');
    const after = await store.getMany(scope, ['taken', ...writes.map((w) => w.key)]);
    expect(after.get('taken')).toEqual({ key: 'taken', version: 1, data: '"old"' });
    for (let i = 0; i < 20; i++) expect(after.get(`w${i}`)?.version).toBe(1);
  });

  it('writes of one key inside one batch apply in order', async () => {
    const store = stateStore();
    const scope = freshScope('same-key');
    await store.putMany(scope, [
      { key: 'a', expectedVersion: 0, data: '1' },
      { key: 'b', expectedVersion: 0, data: '1' },
      { key: 'a', expectedVersion: 1, data: '2' },
      { key: 'a', expectedVersion: 2, data: '3' },
    ]);
    expect(sortedEntries(await store.getMany(scope, ['a', 'b']))).toEqual([
      ['a', { key: 'a', version: 3, data: '3' }],
      ['b', { key: 'b', version: 1, data: '1' }],
    ]);
  });
});

describe('DynamoStateStore: 400 KB guard', () => {
  it('the largest item the guard lets through is stored; one byte more fails with STATE_TOO_LARGE before anything is sent', async () => {
    const store = stateStore();
    const base = freshScope('size');
    let probe = 0;
    // Probe scopes all have the same length, so only the data length varies.
    const put = (scope: string, len: number): Promise<void> => store.putMany(scope, [{ key: 'big', expectedVersion: 0, data: 'x'.repeat(len) }]);
    const tryPut = async (len: number): Promise<boolean> => {
      try {
        await put(`${base}-${String(probe++).padStart(3, '0')}`, len);
        return true;
      } catch (err) {
        // The guard refused it; DynamoDB refusing something the guard let through fails the test.
        if (err instanceof StateTooLargeError && !/refused by DynamoDB/.test(err.message)) return false;
        throw err;
      }
    };
    let lo = 300_000;
    let hi = 420_000;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (await tryPut(mid)) lo = mid;
      else hi = mid;
    }
    // Not much more conservative than DynamoDB itself (pk + attribute names + numbers < 100 bytes).
    expect(lo).toBeGreaterThan(409_600 - 100);
    expect(lo).toBeLessThan(409_600);
    await put(`${base}-998`, lo);
    expect((await store.getMany(`${base}-998`, ['big'])).get('big')).toEqual({ key: 'big', version: 1, data: 'x'.repeat(lo) });
    await expect(put(`${base}-999`, lo + 1)).rejects.toBeInstanceOf(StateTooLargeError);
    expect((await store.getMany(`${base}-999`, ['big'])).size).toBe(0);

    const tooBig = freshScope('size-over');
    const err = await caught(
      store.putMany(tooBig, [
        { key: 'small', expectedVersion: 0, data: '1' },
        { key: 'huge-key', expectedVersion: 0, data: '€'.repeat(140_000) },
      ]),
    );
    expect(err).toBeInstanceOf(StateTooLargeError);
    expect(err).toBeInstanceOf(WeirError);
    expect(err).toMatchObject({ code: 'STATE_TOO_LARGE', retriable: false, key: 'huge-key' });
    expect((err as StateTooLargeError).size).toBeGreaterThan(420_000);
    expect((err as Error).message).toContain('"huge-key"');
    expect((err as Error).message).toContain(String((err as StateTooLargeError).size));
    // checked before sending: not even the small write of the same batch happened
    expect((await store.getMany(tooBig, ['small', 'huge-key'])).size).toBe(0);
  });

  it('a key too long for DynamoDB is refused with STATE_TOO_LARGE on write and reads as absent', async () => {
    const store = stateStore();
    const scope = freshScope('long-key');
    const key = 'k'.repeat(2100);
    await expect(store.putMany(scope, [{ key, expectedVersion: 0, data: '1' }])).rejects.toMatchObject({ code: 'STATE_TOO_LARGE' });
    expect((await store.getMany(scope, [key, 'other'])).size).toBe(0);
    await expect(store.addTimers(scope, [{ domain: 'event', time: 1, key: 'k'.repeat(1010) }])).rejects.toMatchObject({ code: 'STATE_TOO_LARGE' });
  });
});

describe('DynamoStateStore: timer index', () => {
  const times = [Infinity, 1e15, Number.MAX_SAFE_INTEGER, 86_400_000, 1, 0, -1, -86_400_000, -1e15, Number.MIN_SAFE_INTEGER, -Infinity];

  it('orders entries by time across negative, zero, large and infinite times, then by key', async () => {
    const store = stateStore();
    const scope = freshScope('timers');
    const entries: TimerEntry[] = [];
    for (const time of times) for (const key of ['b', 'a', '__proto__', '#', 'ü']) entries.push({ domain: 'event', time, key });
    await store.addTimers(scope, entries);
    await store.addTimers(scope, [{ domain: 'processing', time: 5, key: 'p' }]);
    const all = await store.dueTimers(scope, 'event', Infinity);
    expect(all).toEqual([...entries].sort(byTimeThenKeyBytes));
    expect(all.map((e) => e.time)).toEqual([...all.map((e) => e.time)].sort((x, y) => x - y));
    expect(await store.dueTimers(scope, 'processing', Infinity)).toEqual([{ domain: 'processing', time: 5, key: 'p' }]);
    expect(await store.dueTimers(freshScope('timers-empty'), 'event', Infinity)).toEqual([]);
  });

  it('dueTimers includes every key at time == upTo and nothing later', async () => {
    const store = stateStore();
    const scope = freshScope('timers-bound');
    const keys = ['', 'a', 'zzz', '\uffff', '😀', 'a'.repeat(1000)];
    const entries: TimerEntry[] = [];
    for (const time of times) for (const key of keys) entries.push({ domain: 'event', time, key });
    await store.addTimers(scope, entries);
    for (const upTo of [...times, -2, 0.5, 2]) {
      const due = await store.dueTimers(scope, 'event', upTo);
      expect(due).toEqual(entries.filter((e) => e.time <= upTo).sort(byTimeThenKeyBytes));
    }
    expect(await store.dueTimers(scope, 'event', NaN)).toEqual([]);
  });

  it('removes entries (and ignores removing what is not there); re-adding is idempotent', async () => {
    const store = stateStore();
    const scope = freshScope('timers-remove');
    const e = (time: number, key: string): TimerEntry => ({ domain: 'event', time, key });
    await store.addTimers(scope, [e(-5, 'a'), e(0, 'b'), e(0, 'b'), e(Infinity, 'c'), e(7, 'd')]);
    await store.addTimers(scope, [e(0, 'b')]);
    await store.removeTimers(scope, [e(0, 'b'), e(Infinity, 'c'), e(1, 'never-added'), e(0, 'b')]);
    expect(await store.dueTimers(scope, 'event', Infinity)).toEqual([e(-5, 'a'), e(7, 'd')]);
    await store.removeTimers(scope, [e(-5, 'a'), e(7, 'd')]);
    expect(await store.dueTimers(scope, 'event', Infinity)).toEqual([]);
  });

  it('pages through large results (over 1 MB of entries)', async () => {
    const store = stateStore();
    const scope = freshScope('timers-many');
    const entries = Array.from({ length: 2000 }, (_, i): TimerEntry => ({ domain: 'processing', time: i - 700, key: `${String(i).padStart(5, '0')}-${'p'.repeat(950)}` }));
    await store.addTimers(scope, entries);
    const due = await store.dueTimers(scope, 'processing', 600);
    expect(due.length).toBe(1301);
    expect(due).toEqual(entries.slice(0, 1301));
    await store.removeTimers(scope, entries);
    expect(await store.dueTimers(scope, 'processing', Infinity)).toEqual([]);
  });
});

describe('DynamoProgressStore', () => {
  it('get of an unknown scope is undefined; put then get returns the last data; updatedAt is stored', async () => {
    const progress = new DynamoProgressStore({ client, table: tables.progress, now: () => 1234567 });
    const scope = freshScope('progress') + '#in#0';
    expect(await progress.get(scope)).toBeUndefined();
    await progress.put(scope, '{"offsetDone":1}');
    expect(await progress.get(scope)).toBe('{"offsetDone":1}');
    const data = JSON.stringify({ offsetDone: 99, lanes: { 'ünï#côde': { wm: { t: '-inf' } } } });
    await progress.put(scope, data);
    expect(await progress.get(scope)).toBe(data);
    expect(await progress.get(`${scope}x`)).toBeUndefined();
    const raw = await client.send(new GetItemCommand({ TableName: tables.progress, Key: { pk: { S: scope } }, ConsistentRead: true }));
    expect(raw.Item).toEqual({ pk: { S: scope }, data: { S: data }, updatedAt: { N: '1234567' } });
    await expect(progress.put(scope, 'z'.repeat(410_000))).rejects.toMatchObject({ code: 'STATE_TOO_LARGE' });
    expect(await progress.get(scope)).toBe(data);
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
});

describe('DynamoStateStore: throttling and unprocessed items', () => {
  /**
   * A client against DynamoDB Local (without SDK retries) that throttles every request the
   * first time it is sent ('flaky') or always, and leaves half of every batch unprocessed.
   */
  function flakyClient(mode: 'flaky' | 'always'): DynamoDBClient {
    const c = localDynamoClient({ maxAttempts: 1 });
    const seen = new Set<string>();
    const throttle = (): never => {
      throw new ProvisionedThroughputExceededException({ message: 'injected throttle', $metadata: { httpStatusCode: 400 } });
    };
    c.middlewareStack.add((next, context) => async (args) => {
      const id = JSON.stringify(args.input);
      if (mode === 'always' || !seen.has(id)) {
        seen.add(id);
        throttle();
      }
      const input = args.input as Record<string, unknown>;
      const name = (context as { commandName?: string }).commandName;
      if (name === 'BatchGetItemCommand') {
        const ri = input.RequestItems as Record<string, { Keys: Record<string, AttributeValue>[] }>;
        const [table, req] = Object.entries(ri)[0] ?? [];
        if (table && req && req.Keys.length > 1) {
          const keep = req.Keys.slice(0, Math.ceil(req.Keys.length / 2));
          const rest = req.Keys.slice(keep.length);
          const res = await next({ ...args, input: { ...input, RequestItems: { [table]: { ...req, Keys: keep } } } });
          (res.output as { UnprocessedKeys?: unknown }).UnprocessedKeys = { [table]: { ...req, Keys: rest } };
          return res;
        }
      }
      if (name === 'BatchWriteItemCommand') {
        const ri = input.RequestItems as Record<string, unknown[]>;
        const [table, reqs] = Object.entries(ri)[0] ?? [];
        if (table && reqs && reqs.length > 1) {
          const keep = reqs.slice(0, Math.ceil(reqs.length / 2));
          const res = await next({ ...args, input: { ...input, RequestItems: { [table]: keep } } });
          (res.output as { UnprocessedItems?: unknown }).UnprocessedItems = { [table]: reqs.slice(keep.length) };
          return res;
        }
      }
      return next(args);
    }, { step: 'initialize', name: 'weirTestThrottle' });
    return c;
  }

  it('retries throttled requests and unprocessed keys/items until everything is done', async () => {
    const c = flakyClient('flaky');
    const store = new DynamoStateStore({ client: c, table: tables.state, retry: fastRetry });
    const progress = new DynamoProgressStore({ client: c, table: tables.progress, retry: fastRetry });
    const scope = freshScope('flaky');
    const keys = Array.from({ length: 150 }, (_, i) => `k${i}`);
    await store.putMany(scope, keys.map((key) => ({ key, expectedVersion: 0, data: key })));
    const got = await store.getMany(scope, keys);
    expect(got.size).toBe(150);
    for (const k of keys) expect(got.get(k)).toEqual({ key: k, version: 1, data: k });
    const entries = keys.map((key, i): TimerEntry => ({ domain: 'event', time: i, key }));
    await store.addTimers(scope, entries);
    expect(await store.dueTimers(scope, 'event', Infinity)).toEqual(entries);
    await store.removeTimers(scope, entries.slice(0, 100));
    expect(await store.dueTimers(scope, 'event', Infinity)).toEqual(entries.slice(100));
    await progress.put(scope, 'p');
    expect(await progress.get(scope)).toBe('p');
    c.destroy();
  });

  it('gives up after bounded attempts with a retriable StateUnavailableError (nothing dropped silently)', async () => {
    const c = flakyClient('always');
    const store = new DynamoStateStore({ client: c, table: tables.state, retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 } });
    const scope = freshScope('down');
    for (const call of [
      store.getMany(scope, ['a']),
      store.putMany(scope, [{ key: 'a', expectedVersion: 0, data: '1' }]),
      store.dueTimers(scope, 'event', 0),
      store.addTimers(scope, [{ domain: 'event', time: 0, key: 'a' }]),
    ]) {
      const err = await caught(call);
      expect(err).toBeInstanceOf(StateUnavailableError);
      expect(err).toMatchObject({ retriable: true });
      expect((err as Error).message).toContain('ProvisionedThroughputExceededException');
    }
    c.destroy();
  });
});

// ---------------------------------------------------------------------------------------
// Conformance: one sequence of operations, run against the in-memory and the DynamoDB
// stores; the traces must be identical. dueTimers results are compared as sets (sorted):
// MemoryStateStore returns insertion order, DynamoDB returns (time, key) order.

interface Stores {
  readonly state: StateStore;
  readonly progress: ProgressStore;
}

type Trace = unknown[];

async function conformanceScenario(s: Stores, scopeBase: string, seed: number): Promise<Trace> {
  const trace: Trace = [];
  const step = async (label: string, fn: () => Promise<unknown>): Promise<unknown> => {
    try {
      const r = await fn();
      trace.push([label, 'ok', normalize(r)]);
      return r;
    } catch (err) {
      trace.push([label, 'error', err instanceof WeirError ? err.code : 'other', err instanceof Error ? err.constructor.name : typeof err]);
      return undefined;
    }
  };
  const normalize = (r: unknown): unknown => {
    if (r instanceof Map) return sortedEntries(r as Map<string, StoredKey>);
    if (Array.isArray(r)) return [...(r as TimerEntry[])].sort(byTimeThenKey);
    return r;
  };
  const scopes = [`${scopeBase}#a#0`, `${scopeBase}#ü#1`, `${scopeBase}#a#0#k#x`];
  const [s0 = '', s1 = ''] = scopes;

  // Fixed part.
  await step('get empty', () => s.state.getMany(s0, ['a', '__proto__']));
  await step('put new', () =>
    s.state.putMany(s0, [
      { key: 'a', expectedVersion: 0, data: '1' },
      { key: '__proto__', expectedVersion: 0, data: '{"p":1}' },
      { key: 'constructor', expectedVersion: 0, data: '[]' },
    ]),
  );
  await step('get', () => s.state.getMany(s0, ['a', '__proto__', 'constructor', 'missing']));
  await step('stale update', () => s.state.putMany(s0, [{ key: 'a', expectedVersion: 0, data: '2' }]));
  await step('update', () => s.state.putMany(s0, [{ key: 'a', expectedVersion: 1, data: '2' }]));
  await step('version on missing key', () => s.state.putMany(s0, [{ key: 'nope', expectedVersion: 1, data: '2' }]));
  await step('same key twice, in order', () =>
    s.state.putMany(s0, [
      { key: 'b', expectedVersion: 0, data: 'b1' },
      { key: 'b', expectedVersion: 1, data: 'b2' },
    ]),
  );
  await step('same key twice, second stale', () =>
    s.state.putMany(s0, [
      { key: 'c', expectedVersion: 0, data: 'c1' },
      { key: 'c', expectedVersion: 0, data: 'c2' },
    ]),
  );
  await step('get after', () => s.state.getMany(s0, ['a', 'b', 'c', 'nope']));
  await step('other scope', () => s.state.getMany(s1, ['a', 'b']));
  await step('timers', () =>
    s.state.addTimers(s0, [
      { domain: 'event', time: -Infinity, key: 'a' },
      { domain: 'event', time: -10, key: 'b' },
      { domain: 'event', time: 0, key: 'c' },
      { domain: 'event', time: 0, key: 'a' },
      { domain: 'event', time: 1e15, key: 'a' },
      { domain: 'event', time: Infinity, key: 'z' },
      { domain: 'processing', time: 0, key: 'a' },
    ]),
  );
  for (const upTo of [-Infinity, -11, -10, -1, 0, 1, 1e15, Infinity, NaN]) {
    await step(`due event ${upTo}`, () => s.state.dueTimers(s0, 'event', upTo));
  }
  await step('due processing', () => s.state.dueTimers(s0, 'processing', 0));
  await step('remove', () =>
    s.state.removeTimers(s0, [
      { domain: 'event', time: 0, key: 'a' },
      { domain: 'processing', time: 0, key: 'a' },
      { domain: 'event', time: 5, key: 'never' },
    ]),
  );
  await step('due after remove', () => s.state.dueTimers(s0, 'event', Infinity));
  await step('progress missing', () => s.progress.get(s0));
  await step('progress put', () => s.progress.put(s0, '{"offsetDone":3}'));
  await step('progress get', () => s.progress.get(s0));

  // Seeded random part: reads decide writes, so any divergence shows up in the trace.
  const rng = new Rng(seed);
  const pool = [...WEIRD_KEYS.slice(0, 16), ...Array.from({ length: 12 }, (_, i) => `k${i}`)];
  const pick = <T>(xs: readonly T[]): T => xs[rng.int(0, xs.length - 1)] as T;
  const timePool = [-Infinity, -1e13, -5000, -1, 0, 1, 999, 1e13, Infinity];
  const randomTime = (): number => (rng.chance(0.5) ? pick(timePool) : rng.int(-3000, 3000));
  for (let i = 0; i < 150; i++) {
    const scope = pick(scopes);
    const op = rng.int(0, 9);
    if (op <= 3) {
      // read some keys, write them back with the versions read; sometimes the last write is stale
      const keys = [...new Set(Array.from({ length: rng.int(1, 8) }, () => pick(pool)))];
      const read = (await step(`r${i} get`, () => s.state.getMany(scope, keys))) as Map<string, StoredKey> | undefined;
      const writes: KeyWrite[] = keys.map((key) => ({ key, expectedVersion: read?.get(key)?.version ?? 0, data: JSON.stringify({ i, key }) }));
      const last = writes[writes.length - 1];
      if (last && rng.chance(0.25)) writes[writes.length - 1] = { ...last, expectedVersion: last.expectedVersion + pick([-1, 1, 2]) };
      await step(`r${i} put`, () => s.state.putMany(scope, writes));
    } else if (op <= 5) {
      const entries = Array.from({ length: rng.int(1, 6) }, (): TimerEntry => ({ domain: rng.chance(0.7) ? 'event' : 'processing', time: randomTime(), key: pick(pool) }));
      await step(`r${i} add`, () => s.state.addTimers(scope, entries));
    } else if (op <= 7) {
      const domain = rng.chance(0.7) ? 'event' : 'processing';
      const due = (await step(`r${i} due`, () => s.state.dueTimers(scope, domain, randomTime()))) as TimerEntry[] | undefined;
      // (sorted first: the stores return due entries in different orders)
      const remove = [...(due ?? [])].sort(byTimeThenKey).filter(() => rng.chance(0.5));
      if (rng.chance(0.3)) remove.push({ domain, time: randomTime(), key: pick(pool) });
      await step(`r${i} remove`, () => s.state.removeTimers(scope, remove));
    } else if (op === 8) {
      await step(`r${i} progress put`, () => s.progress.put(scope, JSON.stringify({ i })));
    } else {
      await step(`r${i} progress get`, () => s.progress.get(scope));
    }
  }
  for (const scope of scopes) {
    await step('final keys', () => s.state.getMany(scope, pool));
    await step('final event timers', () => s.state.dueTimers(scope, 'event', Infinity));
    await step('final processing timers', () => s.state.dueTimers(scope, 'processing', Infinity));
    await step('final progress', () => s.progress.get(scope));
  }
  return trace;
}

describe('conformance: MemoryStateStore and DynamoStateStore', () => {
  it.each([1, 2, 3])('the same operations give the same results (seed %i)', async (seed) => {
    const memory = await conformanceScenario({ state: new MemoryStateStore(), progress: new MemoryProgressStore() }, `conf-${seed}`, seed);
    const dynamo = await conformanceScenario(
      { state: stateStore(), progress: new DynamoProgressStore({ client, table: tables.progress }) },
      freshScope(`conf-${seed}`),
      seed,
    );
    expect(dynamo).toEqual(memory);
    // the scenario exercises conflicts, timers and reads that found something
    const flat = JSON.stringify(memory);
    expect(flat).toContain('STATE_CONFLICT');
    expect(memory.filter((t) => Array.isArray(t) && t[1] === 'error').length).toBeGreaterThan(3);
  });
});
