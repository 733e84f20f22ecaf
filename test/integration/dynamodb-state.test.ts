/**
 * DynamoDB adapters against DynamoDB Local (`npm run local:up`). Fails, never skips, when it
 * does not answer.
 */
import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  GetItemCommand,
  ProvisionedThroughputExceededException,
  QueryCommand,
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
  timerPk,
  timerSk,
} from '../../shared/adapters/dynamodb';
import { functionSink, type SinkRecord } from '../../shared/api';
import { ConfigError, StateConflictError, WeirError } from '../../shared/runtime/errors';
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
/** A state store on the test tables, progress table included (commit writes progress there). */
const stateStore = (extra: Partial<ConstructorParameters<typeof DynamoStateStore>[0]> = {}): DynamoStateStore =>
  new DynamoStateStore({ client, table: tables.state, progressTable: tables.progress, ...extra });
const progressStore = (): DynamoProgressStore => new DynamoProgressStore({ client, table: tables.progress });

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

/**
 * Timer entries as a set: de-duplicated (DynamoDB lists a key once per bucket, so a key
 * indexed by several batches at one time is listed several times) and sorted.
 */
function timerSet(entries: readonly TimerEntry[]): TimerEntry[] {
  const unique = new Map<string, TimerEntry>();
  for (const e of entries) unique.set(`${e.domain}\u0001${e.time}\u0001${e.key}`, { domain: e.domain, time: e.time, key: e.key });
  return [...unique.values()].sort(byTimeThenKey);
}

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}

/** A client against DynamoDB Local that counts the commands it sends, by name. */
function countingClient(): { client: DynamoDBClient; sent: Map<string, number> } {
  const c = localDynamoClient();
  const sent = new Map<string, number>();
  c.middlewareStack.add(
    (next, context) => async (args) => {
      const name = (context as { commandName?: string }).commandName ?? '?';
      sent.set(name, (sent.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'weirTestCount' },
  );
  return { client: c, sent };
}

/** The raw bucket items of one timer partition (scope, domain), in sort key order. */
async function timerBuckets(scope: string, domain: TimerEntry['domain']): Promise<Array<{ sk: string; keys: string[] }>> {
  const out: Array<{ sk: string; keys: string[] }> = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(
      new QueryCommand({
        TableName: tables.state,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: timerPk(scope, domain) } },
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    for (const item of page.Items ?? []) out.push({ sk: item.sk?.S ?? '', keys: [...(item.keys?.SS ?? [])].sort() });
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}

const newKeys = (keys: readonly string[], data: (k: string) => string = (k) => JSON.stringify(k)): KeyWrite[] =>
  keys.map((key) => ({ key, expectedVersion: 0, data: data(key) }));

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
  it('round-trips more than 100 keys (one commit of several transactions, one getMany), including special keys, with versions counting up', async () => {
    const { client: counting, sent } = countingClient();
    const store = new DynamoStateStore({ client: counting, table: tables.state, progressTable: tables.progress });
    const scope = freshScope('roundtrip');
    const pscope = `${scope}#in#0`;
    const keys = [...WEIRD_KEYS, ...Array.from({ length: 230 }, (_, i) => `key-${i}`)];
    const data = (k: string, v: number): string => JSON.stringify({ k, v, big: 'x'.repeat(k.length % 7) });
    expect((await store.getMany(scope, keys)).size).toBe(0);

    await store.commit(scope, newKeys(keys, (k) => data(k, 1)), { scope: pscope, data: '{"offsetDone":1}' });
    // 252 keys + the progress record: 100 items per TransactWriteItems
    expect(sent.get('TransactWriteItemsCommand')).toBe(Math.ceil((keys.length + 1) / 100));
    expect(await progressStore().get(pscope)).toBe('{"offsetDone":1}');
    const first = await store.getMany(scope, [...keys, 'missing', 'key-0', '__proto__']);
    expect(first.size).toBe(keys.length);
    for (const k of keys) expect(first.get(k)).toEqual({ key: k, version: 1, data: data(k, 1) });
    expect(first.has('missing')).toBe(false);
    expect(Object.getPrototypeOf(first)).toBe(Map.prototype);

    await store.commit(
      scope,
      keys.map((key) => ({ key, expectedVersion: 1, data: data(key, 2) })),
      { scope: pscope, data: '{"offsetDone":2}' },
    );
    const second = await store.getMany(scope, keys);
    for (const k of keys) expect(second.get(k)).toEqual({ key: k, version: 2, data: data(k, 2) });
    expect(await progressStore().get(pscope)).toBe('{"offsetDone":2}');

    // Same keys in another scope are independent.
    const other = freshScope('roundtrip-other');
    expect((await store.getMany(other, keys)).size).toBe(0);
    expect(await store.getMany(scope, [])).toEqual(new Map());
    counting.destroy();
  });

  it('stores the item as documented: pk, sk, data, version and ttl = now + horizon', async () => {
    const store = stateStore({ now: () => 1_700_000_000_123, ttlHorizonSeconds: 3600 });
    const scope = freshScope('layout');
    await store.commit(scope, [{ key: 'k#1', expectedVersion: 0, data: '{"a":1}' }]);
    const raw = await client.send(new GetItemCommand({ TableName: tables.state, Key: { pk: { S: `${scope}#k#k#1` }, sk: { S: 'state' } }, ConsistentRead: true }));
    expect(raw.Item).toEqual({ pk: { S: `${scope}#k#k#1` }, sk: { S: 'state' }, data: { S: '{"a":1}' }, version: { N: '1' }, ttl: { N: String(1_700_000_000 + 3600) } });
    // refreshed on every write
    await stateStore({ now: () => 1_800_000_000_000, ttlHorizonSeconds: 10 }).commit(scope, [{ key: 'k#1', expectedVersion: 1, data: '{"a":2}' }]);
    const again = await client.send(new GetItemCommand({ TableName: tables.state, Key: { pk: { S: `${scope}#k#k#1` }, sk: { S: 'state' } }, ConsistentRead: true }));
    expect(again.Item?.ttl).toEqual({ N: String(1_800_000_000 + 10) });
    // Infinity: no ttl attribute
    await stateStore({ ttlHorizonSeconds: Infinity }).commit(scope, [{ key: 'forever', expectedVersion: 0, data: '1' }]);
    const forever = await client.send(new GetItemCommand({ TableName: tables.state, Key: { pk: { S: `${scope}#k#forever` }, sk: { S: 'state' } }, ConsistentRead: true }));
    expect(forever.Item?.ttl).toBeUndefined();
  });

  it('writes the progress record with the keys, as the progress table documents it (read back through DynamoProgressStore)', async () => {
    const store = stateStore({ now: () => 1234567 });
    const progress = progressStore();
    const scope = freshScope('progress-commit');
    const pscope = `${scope}#in#3`;
    const data = JSON.stringify({ offsetDone: 7, lanes: { 'ünï#côde': { wm: { t: '-inf' } } } });
    expect(await progress.get(pscope)).toBeUndefined();
    await store.commit(scope, [{ key: 'a', expectedVersion: 0, data: '1' }], { scope: pscope, data });
    expect(await progress.get(pscope)).toBe(data);
    const raw = await client.send(new GetItemCommand({ TableName: tables.progress, Key: { pk: { S: pscope } }, ConsistentRead: true }));
    expect(raw.Item).toEqual({ pk: { S: pscope }, data: { S: data }, updatedAt: { N: '1234567' } });
    expect((await store.getMany(scope, ['a'])).get('a')).toEqual({ key: 'a', version: 1, data: '1' });

    // a batch that changed no key still commits its progress; the last write wins
    await store.commit(scope, [], { scope: pscope, data: '{"offsetDone":8}' });
    expect(await progress.get(pscope)).toBe('{"offsetDone":8}');
    // and a commit of nothing at all is a no-op
    await store.commit(scope, []);
    expect(await progress.get(pscope)).toBe('{"offsetDone":8}');
    expect((await store.getMany(scope, ['a'])).get('a')?.version).toBe(1);
  });

  it('a commit with progress but no progressTable option is a ConfigError before anything is written', async () => {
    const store = new DynamoStateStore({ client, table: tables.state });
    const scope = freshScope('no-progress-table');
    const err = await caught(store.commit(scope, [{ key: 'a', expectedVersion: 0, data: '1' }], { scope: `${scope}#in#0`, data: 'p' }));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err).toMatchObject({ code: 'CONFIG_INVALID' });
    expect((await store.getMany(scope, ['a'])).size).toBe(0);
    expect(await progressStore().get(`${scope}#in#0`)).toBeUndefined();
    // without progress it needs no progress table
    await store.commit(scope, [{ key: 'a', expectedVersion: 0, data: '1' }]);
    expect((await store.getMany(scope, ['a'])).get('a')?.version).toBe(1);
  });

  it('a second writer with a stale version gets StateConflictError naming key and scope, and the stored item is unchanged', async () => {
    const a = stateStore();
    const b = stateStore();
    const scope = freshScope('conflict');
    const pscope = `${scope}#in#0`;
    await a.commit(scope, [{ key: 'user-1', expectedVersion: 0, data: '"v1"' }]);
    const readA = (await a.getMany(scope, ['user-1'])).get('user-1');
    const readB = (await b.getMany(scope, ['user-1'])).get('user-1');
    expect(readA?.version).toBe(1);
    expect(readB?.version).toBe(1);
    await a.commit(scope, [{ key: 'user-1', expectedVersion: 1, data: '"from-a"' }], { scope: pscope, data: 'progress-a' });
    const err = await caught(b.commit(scope, [{ key: 'user-1', expectedVersion: 1, data: '"secret-from-b"' }], { scope: pscope, data: 'progress-b' }));
    expect(err).toBeInstanceOf(StateConflictError);
    expect(err).toMatchObject({ code: 'STATE_CONFLICT', retriable: true });
    const message = (err as Error).message;
    expect(message).toContain('"user-1"');
    expect(message).toContain(scope);
    expect(message).not.toContain('secret-from-b');
    expect(message).not.toContain('from-a');
    expect((await a.getMany(scope, ['user-1'])).get('user-1')).toEqual({ key: 'user-1', version: 2, data: '"from-a"' });
    expect(await progressStore().get(pscope)).toBe('progress-a');

    // expectedVersion 0 on an existing key, and a version on a missing key, both conflict.
    await expect(b.commit(scope, [{ key: 'user-1', expectedVersion: 0, data: '"x"' }])).rejects.toBeInstanceOf(StateConflictError);
    await expect(b.commit(scope, [{ key: 'nobody', expectedVersion: 3, data: '"x"' }])).rejects.toBeInstanceOf(StateConflictError);
    expect((await a.getMany(scope, ['user-1', 'nobody'])).size).toBe(1);
    expect((await a.getMany(scope, ['user-1'])).get('user-1')?.data).toBe('"from-a"');
    expect(await progressStore().get(pscope)).toBe('progress-a');
  });

  it('a commit of up to 99 keys plus progress is atomic: one conflicting key and neither the other keys nor the progress record are written', async () => {
    const progress = progressStore();
    for (const conflictAt of [0, 50, 98]) {
      const scope = freshScope(`atomic-${conflictAt}`);
      const pscope = `${scope}#in#0`;
      const store = stateStore();
      await store.commit(scope, [{ key: 'taken', expectedVersion: 0, data: '"old"' }, { key: 'w7', expectedVersion: 0, data: '"w7-old"' }], { scope: pscope, data: 'p1' });
      // 99 writes: 97 new keys, 'w7' at its right version, and 'taken' with a stale version
      const writes: KeyWrite[] = Array.from({ length: 98 }, (_, i) => ({ key: `w${i}`, expectedVersion: i === 7 ? 1 : 0, data: `${i}` }));
      writes.splice(conflictAt, 0, { key: 'taken', expectedVersion: 0, data: '"new"' });
      expect(writes).toHaveLength(99);
      const err = await caught(store.commit(scope, writes, { scope: pscope, data: 'p2' }));
      expect(err).toBeInstanceOf(StateConflictError);
      expect((err as Error).message).toContain('"taken"');
      const after = await store.getMany(scope, writes.map((w) => w.key));
      expect(sortedEntries(after)).toEqual([
        ['taken', { key: 'taken', version: 1, data: '"old"' }],
        ['w7', { key: 'w7', version: 1, data: '"w7-old"' }],
      ]);
      expect(await progress.get(pscope)).toBe('p1');

      // The retry with the version it reads commits everything, in one transaction.
      const { client: counting, sent } = countingClient();
      const retry = new DynamoStateStore({ client: counting, table: tables.state, progressTable: tables.progress });
      const read = await retry.getMany(scope, writes.map((w) => w.key));
      await retry.commit(scope, writes.map((w) => ({ ...w, expectedVersion: read.get(w.key)?.version ?? 0 })), { scope: pscope, data: 'p2' });
      expect(sent.get('TransactWriteItemsCommand')).toBe(1);
      const done = await store.getMany(scope, writes.map((w) => w.key));
      expect(done.size).toBe(99);
      expect(done.get('taken')).toEqual({ key: 'taken', version: 2, data: '"new"' });
      expect(done.get('w7')).toEqual({ key: 'w7', version: 2, data: '7' });
      expect(done.get('w0')).toEqual({ key: 'w0', version: 1, data: '0' });
      expect(await progress.get(pscope)).toBe('p2');
      counting.destroy();
    }
  });

  it('a commit of more than 99 keys runs as several transactions: a conflict keeps the earlier transactions, drops its own and later ones, and never writes progress', async () => {
    const progress = progressStore();
    // 250 keys + progress: transactions [0, 100), [100, 200), [200, 250) + progress
    for (const conflictAt of [150, 220]) {
      const scope = freshScope(`steps-${conflictAt}`);
      const pscope = `${scope}#in#0`;
      const store = stateStore();
      await store.commit(scope, [{ key: 'taken', expectedVersion: 0, data: '"old"' }], { scope: pscope, data: 'p1' });
      const writes: KeyWrite[] = Array.from({ length: 249 }, (_, i) => ({ key: `w${i}`, expectedVersion: 0, data: `${i}` }));
      writes.splice(conflictAt, 0, { key: 'taken', expectedVersion: 0, data: '"new"' });
      const err = await caught(store.commit(scope, writes, { scope: pscope, data: 'p2' }));
      expect(err).toBeInstanceOf(StateConflictError);
      expect((err as Error).message).toContain('"taken"');
      const after = await store.getMany(scope, writes.map((w) => w.key));
      const committedUpTo = Math.floor(conflictAt / 100) * 100;
      writes.forEach((w, i) => {
        if (w.key === 'taken') expect(after.get('taken')).toEqual({ key: 'taken', version: 1, data: '"old"' });
        else if (i < committedUpTo) expect(after.get(w.key)).toEqual({ key: w.key, version: 1, data: w.data });
        else expect(after.has(w.key)).toBe(false);
      });
      expect(await progress.get(pscope)).toBe('p1');
    }
  });

  it('splits a commit by size as well (a transaction holds at most 4 MB): large items all land, progress with them', async () => {
    const { client: counting, sent } = countingClient();
    const store = new DynamoStateStore({ client: counting, table: tables.state, progressTable: tables.progress });
    const scope = freshScope('big-commit');
    const pscope = `${scope}#in#0`;
    const keys = Array.from({ length: 12 }, (_, i) => `big-${i}`);
    const data = (k: string): string => `${k}:${'x'.repeat(350_000)}`;
    await store.commit(scope, newKeys(keys, data), { scope: pscope, data: 'p' });
    expect(sent.get('TransactWriteItemsCommand')).toBeGreaterThan(1);
    const got = await store.getMany(scope, keys);
    expect(got.size).toBe(12);
    for (const k of keys) expect(got.get(k)).toEqual({ key: k, version: 1, data: data(k) });
    expect(await progressStore().get(pscope)).toBe('p');
    counting.destroy();
  });

  it('one key twice in one commit (the port allows one write per key) is refused and writes nothing', async () => {
    const memory = new MemoryStateStore();
    const dynamo = stateStore();
    const scope = freshScope('same-key');
    const writes: KeyWrite[] = [
      { key: 'a', expectedVersion: 0, data: '1' },
      { key: 'b', expectedVersion: 0, data: '1' },
      { key: 'a', expectedVersion: 1, data: '2' },
    ];
    for (const store of [memory, dynamo]) {
      await expect(store.commit(scope, writes, { scope: `${scope}#in#0`, data: 'p' })).rejects.toThrow();
      expect((await store.getMany(scope, ['a', 'b'])).size).toBe(0);
    }
    expect(await progressStore().get(`${scope}#in#0`)).toBeUndefined();
  });
});

describe('DynamoStateStore: state over one item (hot keys)', () => {
  it('spills a key over 300 KB into several items of one transaction, reads it back whole, and shrinks back', async () => {
    const store = stateStore();
    const scope = freshScope('spill');
    const ascii = 'x'.repeat(1_000_000);
    const euro = '€'.repeat(420_000); // 3 bytes each: 1.26 MB, split between characters
    await store.commit(scope, [
      { key: 'ascii', expectedVersion: 0, data: ascii },
      { key: 'euro', expectedVersion: 0, data: euro },
      { key: 'small', expectedVersion: 0, data: 's' },
    ], { scope: `${scope}#in#0`, data: 'p1' });
    const got = await store.getMany(scope, ['ascii', 'euro', 'small']);
    expect(got.get('ascii')).toEqual({ key: 'ascii', version: 1, data: ascii });
    expect(got.get('euro')).toEqual({ key: 'euro', version: 1, data: euro });
    expect(got.get('small')).toEqual({ key: 'small', version: 1, data: 's' });
    expect(await progressStore().get(`${scope}#in#0`)).toBe('p1');
    // Shrinking: the head item says one part; left-over parts are ignored.
    await store.commit(scope, [{ key: 'ascii', expectedVersion: 1, data: 'short' }]);
    expect((await store.getMany(scope, ['ascii'])).get('ascii')).toEqual({ key: 'ascii', version: 2, data: 'short' });
  });

  it('a key over what one transaction holds (3.5 MB) fails with STATE_TOO_LARGE before anything is sent', async () => {
    const store = stateStore();
    const tooBig = freshScope('size-over');
    const err = await caught(
      store.commit(
        tooBig,
        [
          { key: 'small', expectedVersion: 0, data: '1' },
          { key: 'huge-key', expectedVersion: 0, data: 'y'.repeat(3_600_000) },
        ],
        { scope: `${tooBig}#in#0`, data: 'p' },
      ),
    );
    expect(err).toBeInstanceOf(StateTooLargeError);
    expect(err).toBeInstanceOf(WeirError);
    expect(err).toMatchObject({ code: 'STATE_TOO_LARGE', retriable: false, key: 'huge-key' });
    expect((err as Error).message).toContain('"huge-key"');
    // checked before sending: not even the small write of the same batch happened, nor the progress
    expect((await store.getMany(tooBig, ['small', 'huge-key'])).size).toBe(0);
    expect(await progressStore().get(`${tooBig}#in#0`)).toBeUndefined();
  });

  it('a key too long for DynamoDB is refused with STATE_TOO_LARGE on write and reads as absent; the timer index holds it', async () => {
    const store = stateStore();
    const scope = freshScope('long-key');
    const key = 'k'.repeat(2100);
    await expect(store.commit(scope, [{ key, expectedVersion: 0, data: '1' }])).rejects.toMatchObject({ code: 'STATE_TOO_LARGE' });
    expect((await store.getMany(scope, [key, 'other'])).size).toBe(0);
    // Timer keys live in a bucket's JSON list, not in a key attribute: no key-length limit there.
    const entries: TimerEntry[] = [
      { domain: 'event', time: 1, key },
      { domain: 'event', time: 1, key: 'k'.repeat(1010) },
    ];
    await store.addTimers(scope, entries, 'long');
    expect(timerSet(await store.dueTimers(scope, 'event', 1))).toEqual(timerSet(entries));
  });
});

describe('DynamoStateStore: timer index', () => {
  const times = [Infinity, 1e15, Number.MAX_SAFE_INTEGER, 86_400_000, 1, 0, -1, -86_400_000, -1e15, Number.MIN_SAFE_INTEGER, -Infinity];
  const e = (time: number, key: string, domain: TimerEntry['domain'] = 'event'): TimerEntry => ({ domain, time, key });

  it('dueTimers returns every key added at each time <= upTo (inclusive), across negative, zero, large and infinite times and several batches', async () => {
    const store = stateStore();
    const scope = freshScope('timers-bound');
    const keys = ['', 'a', 'b', 'zzz', '\uffff', '😀', 'a'.repeat(1000), '__proto__', '#', 'ü', 'nul\u0000char', 'quote"and\\backslash', 'line\nbreak'];
    const entries: TimerEntry[] = [];
    for (const time of times) for (const key of keys) entries.push(e(time, key));
    // three batches: two halves, and an overlap with both (a key indexed twice is allowed)
    await store.addTimers(scope, entries.filter((_, i) => i % 2 === 0), 'batch-1');
    await store.addTimers(scope, entries.filter((_, i) => i % 2 === 1), 'batch-2');
    await store.addTimers(scope, entries.filter((x) => x.key === 'a' || x.key === 'b'), 'batch-3');
    await store.addTimers(scope, [e(5, 'p', 'processing')], 'batch-1');

    for (const upTo of [...times, -2, 0.5, 2, 1e15 - 1, 1e15 + 1]) {
      const due = await store.dueTimers(scope, 'event', upTo);
      expect(timerSet(due)).toEqual(timerSet(entries.filter((x) => x.time <= upTo)));
      for (const d of due) expect(d.time).toBeLessThanOrEqual(upTo);
      // DynamoDB lists buckets in time order
      expect(due.map((d) => d.time)).toEqual(due.map((d) => d.time).sort((x, y) => x - y));
    }
    // 'a' and 'b' were indexed by two batches at every time: listed at most twice, never lost
    const all = await store.dueTimers(scope, 'event', Infinity);
    expect(all.filter((d) => d.key === 'a' && d.time === 0)).toHaveLength(2);
    expect(all.filter((d) => d.key === 'zzz' && d.time === 0)).toHaveLength(1);
    expect(await store.dueTimers(scope, 'event', NaN)).toEqual([]);
    expect(await store.dueTimers(scope, 'processing', Infinity)).toEqual([e(5, 'p', 'processing')]);
    expect(await store.dueTimers(scope, 'processing', 4)).toEqual([]);
    expect(await store.dueTimers(freshScope('timers-empty'), 'event', Infinity)).toEqual([]);
  });

  it('keeps one bucket item per (domain, time, tag) holding the keys as a string set; re-adding under the same tag is a union (a retry with fewer keys keeps the first attempt\'s)', async () => {
    const store = stateStore();
    const scope = freshScope('timers-buckets');
    const many = Array.from({ length: 300 }, (_, i) => `key-${i}`);
    const entries = [...many.map((k) => e(1000, k)), e(2000, 'x'), e(2000, 'y'), e(2000, 'x'), e(-3, 'neg'), e(7, 'p', 'processing')];
    await store.addTimers(scope, entries, 'offset-41');
    const buckets = await timerBuckets(scope, 'event');
    expect(buckets.map((b) => b.sk)).toEqual([`${timerSk(-3, 'offset-41')}#0`, `${timerSk(1000, 'offset-41')}#0`, `${timerSk(2000, 'offset-41')}#0`]);
    expect(buckets[1]?.keys).toEqual([...many].sort());
    expect(buckets[2]?.keys).toEqual(['x', 'y']);
    expect(await timerBuckets(scope, 'processing')).toEqual([{ sk: `${timerSk(7, 'offset-41')}#0`, keys: ['p'] }]);

    // a retried batch: same entries, same tag
    await store.addTimers(scope, entries, 'offset-41');
    await store.addTimers(scope, entries, 'offset-41');
    expect(await timerBuckets(scope, 'event')).toEqual(buckets);
    const due = await store.dueTimers(scope, 'event', Infinity);
    expect(due).toHaveLength(303);
    expect(timerSet(due)).toEqual(timerSet(entries.filter((x) => x.domain === 'event')));

    // a retry that indexes fewer keys under the same tag (its other keys were committed
    // by the first attempt and are skipped by their fences) must not drop any
    await store.addTimers(scope, [e(2000, 'y')], 'offset-41');
    expect(await timerBuckets(scope, 'event')).toEqual(buckets);

    // another batch at the same time: a bucket of its own
    await store.addTimers(scope, [e(2000, 'x'), e(2000, 'z')], 'offset-90');
    expect((await timerBuckets(scope, 'event')).map((b) => b.sk)).toEqual([
      `${timerSk(-3, 'offset-41')}#0`,
      `${timerSk(1000, 'offset-41')}#0`,
      `${timerSk(2000, 'offset-41')}#0`,
      `${timerSk(2000, 'offset-90')}#0`,
    ]);
    const later = await store.dueTimers(scope, 'event', 2000);
    expect(later).toHaveLength(305);
    expect(timerSet(later)).toEqual(timerSet([...entries.filter((x) => x.domain === 'event'), e(2000, 'z')]));
  });

  it('splits a bucket too large for one item into parts, and a retry adds nothing new', async () => {
    const store = stateStore();
    const scope = freshScope('timers-split');
    const entries = Array.from({ length: 600 }, (_, i) => e(500, `${String(i).padStart(4, '0')}-${'k'.repeat(1000)}`));
    await store.addTimers(scope, entries, 'big');
    const buckets = await timerBuckets(scope, 'event');
    expect(buckets.length).toBeGreaterThan(1);
    for (const b of buckets) expect(b.sk.startsWith(timerSk(500, 'big'))).toBe(true);
    expect(buckets.flatMap((b) => b.keys).sort()).toEqual(entries.map((x) => x.key).sort());
    await store.addTimers(scope, entries, 'big');
    expect(await timerBuckets(scope, 'event')).toEqual(buckets);
    expect(await store.dueTimers(scope, 'event', 499)).toEqual([]);
    const due = await store.dueTimers(scope, 'event', 500);
    expect(due).toHaveLength(600);
    expect(timerSet(due)).toEqual(timerSet(entries));
    await store.clearTimers(scope, 'event', 500);
    expect(await timerBuckets(scope, 'event')).toEqual([]);
  });

  it('clearTimers removes exactly the buckets with time <= upTo (every tag) and leaves later ones, other domains and other scopes', async () => {
    const store = stateStore();
    const scope = freshScope('timers-clear');
    const other = freshScope('timers-clear-other');
    const entries: TimerEntry[] = [];
    for (const time of times) for (const key of ['a', 'b']) entries.push(e(time, key));
    await store.addTimers(scope, entries, 't1');
    await store.addTimers(scope, entries.filter((x) => x.key === 'a'), 't2');
    const processing = times.map((time) => e(time, 'p', 'processing'));
    await store.addTimers(scope, processing, 't1');
    await store.addTimers(other, entries, 't1');
    // 'a' is in a bucket of t1 and of t2 at every time ('b' only in t1's)
    const bucketsAfter = (upTo: number): string[] =>
      times
        .filter((t) => !(t <= upTo))
        .flatMap((t) => [`${timerSk(t, 't1')}#0`, `${timerSk(t, 't2')}#0`])
        .sort();

    // NaN and an empty scope: nothing to do
    await store.clearTimers(scope, 'event', NaN);
    await store.clearTimers(freshScope('timers-clear-empty'), 'event', Infinity);
    expect((await timerBuckets(scope, 'event')).map((b) => b.sk)).toEqual(bucketsAfter(NaN));
    expect(bucketsAfter(NaN)).toHaveLength(2 * times.length);
    expect(timerSet(await store.dueTimers(scope, 'event', Infinity))).toEqual(timerSet(entries));

    for (const upTo of [-Infinity, Number.MIN_SAFE_INTEGER - 1e6, -1, -0.5, 0, 0.5, 86_400_000, 1e15, Number.MAX_SAFE_INTEGER, Infinity]) {
      await store.clearTimers(scope, 'event', upTo);
      expect(timerSet(await store.dueTimers(scope, 'event', Infinity))).toEqual(timerSet(entries.filter((x) => x.time > upTo)));
      expect((await timerBuckets(scope, 'event')).map((b) => b.sk)).toEqual(bucketsAfter(upTo));
      expect(timerSet(await store.dueTimers(scope, 'processing', Infinity))).toEqual(timerSet(processing));
      expect(timerSet(await store.dueTimers(other, 'event', Infinity))).toEqual(timerSet(entries));
    }
    expect(await timerBuckets(scope, 'event')).toEqual([]);

    // Clearing is not a tombstone: an entry added again at a cleared time is listed again.
    await store.addTimers(scope, [e(0, 'again')], 't3');
    expect(await store.dueTimers(scope, 'event', 0)).toEqual([e(0, 'again')]);
    await store.clearTimers(scope, 'processing', 1);
    expect(timerSet(await store.dueTimers(scope, 'processing', Infinity))).toEqual(timerSet(processing.filter((x) => x.time > 1)));
  });

  it('pages through large results (over 1 MB of buckets) in dueTimers and clearTimers', async () => {
    const store = stateStore();
    const scope = freshScope('timers-many');
    const entries = Array.from({ length: 2000 }, (_, i): TimerEntry => ({ domain: 'processing', time: i - 700, key: `${String(i).padStart(5, '0')}-${'p'.repeat(950)}` }));
    await store.addTimers(scope, entries, 'many');
    const due = await store.dueTimers(scope, 'processing', 600);
    expect(due.length).toBe(1301);
    expect(due).toEqual(entries.slice(0, 1301));
    await store.clearTimers(scope, 'processing', 600);
    expect(await store.dueTimers(scope, 'processing', Infinity)).toEqual(entries.slice(1301));
    await store.clearTimers(scope, 'processing', Infinity);
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

  it("puts a sink's own item (its item function's result with weirId) as DynamoDB attributes", async () => {
    const writer = new DynamoSinkWriter({ client });
    const item = { id: 'user#7', total: 3, tags: ['a', 'b'], nested: { ok: true }, skipped: undefined, weirId: 's1/op/user#7/0-10/0' };
    await writer.write([{ sink: sinkTable, id: 's1/op/user#7/0-10/0', key: 'user#7', value: { total: 3 }, timestamp: 10, item }]);
    const got = await client.send(new GetItemCommand({ TableName: sinkTable, Key: { id: { S: 'user#7' } }, ConsistentRead: true }));
    expect(got.Item).toEqual({ id: { S: 'user#7' }, total: { N: '3' }, tags: { L: [{ S: 'a' }, { S: 'b' }] }, nested: { M: { ok: { BOOL: true } } }, weirId: { S: 's1/op/user#7/0-10/0' } });
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
    const store = new DynamoStateStore({ client: c, table: tables.state, progressTable: tables.progress, retry: fastRetry });
    const progress = new DynamoProgressStore({ client: c, table: tables.progress, retry: fastRetry });
    const scope = freshScope('flaky');
    const keys = Array.from({ length: 150 }, (_, i) => `k${i}`);
    await store.commit(scope, keys.map((key) => ({ key, expectedVersion: 0, data: key })), { scope: `${scope}#in#0`, data: 'committed' });
    const got = await store.getMany(scope, keys);
    expect(got.size).toBe(150);
    for (const k of keys) expect(got.get(k)).toEqual({ key: k, version: 1, data: k });
    expect(await progress.get(`${scope}#in#0`)).toBe('committed');
    const entries = keys.map((key, i): TimerEntry => ({ domain: 'event', time: i, key }));
    await store.addTimers(scope, entries, 'flaky');
    expect(await store.dueTimers(scope, 'event', Infinity)).toEqual(entries);
    await store.clearTimers(scope, 'event', 99);
    expect(await store.dueTimers(scope, 'event', Infinity)).toEqual(entries.slice(100));
    await progress.put(scope, 'p');
    expect(await progress.get(scope)).toBe('p');
    c.destroy();
  });

  it('gives up after bounded attempts with a retriable StateUnavailableError (nothing dropped silently)', async () => {
    const c = flakyClient('always');
    const store = new DynamoStateStore({ client: c, table: tables.state, progressTable: tables.progress, retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 } });
    const scope = freshScope('down');
    // One call at a time: started together, a call that fails while another is awaited is an unhandled rejection.
    for (const call of [
      () => store.getMany(scope, ['a']),
      () => store.commit(scope, [{ key: 'a', expectedVersion: 0, data: '1' }], { scope: `${scope}#in#0`, data: 'p' }),
      () => store.dueTimers(scope, 'event', 0),
      () => store.addTimers(scope, [{ domain: 'event', time: 0, key: 'a' }], 'down'),
      () => store.clearTimers(scope, 'event', 0),
    ]) {
      const err = await caught(call());
      expect(err).toBeInstanceOf(StateUnavailableError);
      expect(err).toMatchObject({ retriable: true });
      expect((err as Error).message).toContain('ProvisionedThroughputExceededException');
    }
    c.destroy();
  });
});

// ---------------------------------------------------------------------------------------
// Conformance: one sequence of operations, run against the in-memory and the DynamoDB
// stores; the traces must be identical. dueTimers results are compared as sets (sorted,
// de-duplicated): MemoryStateStore returns insertion order and lists a key once per time,
// DynamoDB returns time order and lists a key once per bucket (batch) it was added by.
// Commits stay under 100 keys, where both stores are all-or-nothing; a tag is re-used
// only for a retry of the same batch (the same entries), as the port requires.

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
    if (Array.isArray(r)) return timerSet(r as TimerEntry[]);
    return r;
  };
  const scopes = [`${scopeBase}#a#0`, `${scopeBase}#ü#1`, `${scopeBase}#a#0#k#x`];
  const [s0 = '', s1 = ''] = scopes;
  const progressScopes = scopes.map((sc) => `${sc}#in#0`);
  const [p0 = ''] = progressScopes;

  // Fixed part.
  await step('get empty', () => s.state.getMany(s0, ['a', '__proto__']));
  await step('commit new', () =>
    s.state.commit(s0, [
      { key: 'a', expectedVersion: 0, data: '1' },
      { key: '__proto__', expectedVersion: 0, data: '{"p":1}' },
      { key: 'constructor', expectedVersion: 0, data: '[]' },
    ]),
  );
  await step('get', () => s.state.getMany(s0, ['a', '__proto__', 'constructor', 'missing']));
  await step('stale update', () => s.state.commit(s0, [{ key: 'a', expectedVersion: 0, data: '2' }]));
  await step('update', () => s.state.commit(s0, [{ key: 'a', expectedVersion: 1, data: '2' }]));
  await step('version on missing key', () => s.state.commit(s0, [{ key: 'nope', expectedVersion: 1, data: '2' }]));
  await step('all or nothing: last write stale', () =>
    s.state.commit(
      s0,
      [
        { key: 'b', expectedVersion: 0, data: 'b1' },
        { key: 'constructor', expectedVersion: 1, data: '"c2"' },
        { key: 'a', expectedVersion: 1, data: '3' },
      ],
      { scope: p0, data: 'never' },
    ),
  );
  await step('get after conflict', () => s.state.getMany(s0, ['a', 'b', 'constructor', 'nope']));
  await step('progress not written by the failed commit', () => s.progress.get(p0));
  await step('commit with progress', () =>
    s.state.commit(
      s0,
      [
        { key: 'b', expectedVersion: 0, data: 'b1' },
        { key: 'a', expectedVersion: 2, data: '3' },
      ],
      { scope: p0, data: '{"offsetDone":1}' },
    ),
  );
  await step('get after commit', () => s.state.getMany(s0, ['a', 'b', 'constructor', 'nope']));
  await step('progress after commit', () => s.progress.get(p0));
  await step('progress only', () => s.state.commit(s0, [], { scope: p0, data: '{"offsetDone":2}' }));
  await step('progress after progress-only commit', () => s.progress.get(p0));
  await step('other scope', () => s.state.getMany(s1, ['a', 'b']));
  const batch1: TimerEntry[] = [
    { domain: 'event', time: -Infinity, key: 'a' },
    { domain: 'event', time: -10, key: 'b' },
    { domain: 'event', time: 0, key: 'c' },
    { domain: 'event', time: 0, key: 'a' },
    { domain: 'event', time: 0, key: 'a' },
    { domain: 'event', time: 1e15, key: 'a' },
    { domain: 'event', time: Infinity, key: 'z' },
    { domain: 'processing', time: 0, key: 'a' },
  ];
  await step('timers', () => s.state.addTimers(s0, batch1, 'b1'));
  await step('timers, retried', () => s.state.addTimers(s0, batch1, 'b1'));
  await step('timers, another batch', () =>
    s.state.addTimers(
      s0,
      [
        { domain: 'event', time: 0, key: 'a' },
        { domain: 'event', time: 0, key: '__proto__' },
        { domain: 'event', time: 3, key: 'c' },
      ],
      'b2',
    ),
  );
  for (const upTo of [-Infinity, -11, -10, -1, 0, 1, 3, 1e15, Infinity, NaN]) {
    await step(`due event ${upTo}`, () => s.state.dueTimers(s0, 'event', upTo));
  }
  await step('due processing', () => s.state.dueTimers(s0, 'processing', 0));
  await step('due other scope', () => s.state.dueTimers(s1, 'event', Infinity));
  await step('clear NaN', () => s.state.clearTimers(s0, 'event', NaN));
  await step('due after clear NaN', () => s.state.dueTimers(s0, 'event', Infinity));
  await step('clear event 0', () => s.state.clearTimers(s0, 'event', 0));
  await step('due after clear', () => s.state.dueTimers(s0, 'event', Infinity));
  await step('due processing after event clear', () => s.state.dueTimers(s0, 'processing', Infinity));
  await step('clear processing -1', () => s.state.clearTimers(s0, 'processing', -1));
  await step('due processing after clear -1', () => s.state.dueTimers(s0, 'processing', Infinity));
  await step('clear processing 0', () => s.state.clearTimers(s0, 'processing', 0));
  await step('due processing after clear 0', () => s.state.dueTimers(s0, 'processing', Infinity));
  await step('clear empty scope', () => s.state.clearTimers(s1, 'event', Infinity));
  await step('progress missing', () => s.progress.get(s0));
  await step('progress put', () => s.progress.put(s0, '{"offsetDone":3}'));
  await step('progress get', () => s.progress.get(s0));

  // Seeded random part: reads decide writes, so any divergence shows up in the trace.
  const rng = new Rng(seed);
  const pool = [...WEIRD_KEYS.slice(0, 16), ...Array.from({ length: 12 }, (_, i) => `k${i}`)];
  const pick = <T>(xs: readonly T[]): T => xs[rng.int(0, xs.length - 1)] as T;
  const timePool = [-Infinity, -1e13, -5000, -1, 0, 1, 999, 1e13, Infinity];
  const randomTime = (): number => (rng.chance(0.5) ? pick(timePool) : rng.int(-3000, 3000));
  const batches: Array<{ scope: string; entries: TimerEntry[]; tag: string }> = [];
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
      const progress = rng.chance(0.5) ? { scope: pick(progressScopes), data: JSON.stringify({ i }) } : undefined;
      await step(`r${i} commit`, () => s.state.commit(scope, writes, progress));
    } else if (op <= 5) {
      const earlier = batches.length ? pick(batches) : undefined;
      if (earlier && rng.chance(0.3)) {
        // a retried batch: the same entries under the same tag
        await step(`r${i} add retried`, () => s.state.addTimers(earlier.scope, earlier.entries, earlier.tag));
      } else {
        const entries = Array.from({ length: rng.int(1, 6) }, (): TimerEntry => ({ domain: rng.chance(0.7) ? 'event' : 'processing', time: randomTime(), key: pick(pool) }));
        batches.push({ scope, entries, tag: `t${i}` });
        await step(`r${i} add`, () => s.state.addTimers(scope, entries, `t${i}`));
      }
    } else if (op <= 7) {
      const domain = rng.chance(0.7) ? 'event' : 'processing';
      const upTo = randomTime();
      await step(`r${i} due`, () => s.state.dueTimers(scope, domain, upTo));
      if (rng.chance(0.6)) await step(`r${i} clear`, () => s.state.clearTimers(scope, domain, rng.chance(0.5) ? upTo : randomTime()));
    } else if (op === 8) {
      await step(`r${i} progress put`, () => s.progress.put(pick(progressScopes), JSON.stringify({ i })));
    } else {
      await step(`r${i} progress get`, () => s.progress.get(pick(progressScopes)));
    }
  }
  for (const scope of scopes) {
    await step('final keys', () => s.state.getMany(scope, pool));
    await step('final event timers', () => s.state.dueTimers(scope, 'event', Infinity));
    await step('final processing timers', () => s.state.dueTimers(scope, 'processing', Infinity));
  }
  for (const p of progressScopes) await step('final progress', () => s.progress.get(p));
  return trace;
}

describe('conformance: MemoryStateStore and DynamoStateStore', () => {
  it.each([1, 2, 3])('the same operations give the same results (seed %i)', async (seed) => {
    const memoryProgress = new MemoryProgressStore();
    const memory = await conformanceScenario({ state: new MemoryStateStore(memoryProgress), progress: memoryProgress }, `conf-${seed}`, seed);
    const dynamo = await conformanceScenario({ state: stateStore(), progress: progressStore() }, freshScope(`conf-${seed}`), seed);
    expect(dynamo).toEqual(memory);
    // Equal traces could share a bug: pin the fixed part's outcomes, computed by hand.
    const at = (label: string): unknown => memory.find((t) => Array.isArray(t) && t[0] === label);
    const stored = (key: string, version: number, data: string): [string, StoredKey] => [key, { key, version, data }];
    expect(at('get empty')).toEqual(['get empty', 'ok', []]);
    expect(at('stale update')).toEqual(['stale update', 'error', 'STATE_CONFLICT', 'StateConflictError']);
    expect(at('version on missing key')).toEqual(['version on missing key', 'error', 'STATE_CONFLICT', 'StateConflictError']);
    expect(at('all or nothing: last write stale')).toEqual(['all or nothing: last write stale', 'error', 'STATE_CONFLICT', 'StateConflictError']);
    expect(at('get after conflict')).toEqual(['get after conflict', 'ok', [stored('a', 2, '2'), stored('constructor', 1, '[]')]]);
    expect(at('progress not written by the failed commit')).toEqual(['progress not written by the failed commit', 'ok', undefined]);
    expect(at('get after commit')).toEqual(['get after commit', 'ok', [stored('a', 3, '3'), stored('b', 1, 'b1'), stored('constructor', 1, '[]')]]);
    expect(at('progress after progress-only commit')).toEqual(['progress after progress-only commit', 'ok', '{"offsetDone":2}']);
    const ev = (time: number, key: string): TimerEntry => ({ domain: 'event', time, key });
    expect(at('due event 0')).toEqual(['due event 0', 'ok', timerSet([ev(-Infinity, 'a'), ev(-10, 'b'), ev(0, 'a'), ev(0, 'c'), ev(0, '__proto__')])]);
    expect(at('due event NaN')).toEqual(['due event NaN', 'ok', []]);
    expect(at('due after clear')).toEqual(['due after clear', 'ok', [ev(3, 'c'), ev(1e15, 'a'), ev(Infinity, 'z')]]);
    expect(at('due processing after clear -1')).toEqual(['due processing after clear -1', 'ok', [{ domain: 'processing', time: 0, key: 'a' }]]);
    expect(at('due processing after clear 0')).toEqual(['due processing after clear 0', 'ok', []]);
    expect(at('progress get')).toEqual(['progress get', 'ok', '{"offsetDone":3}']);
    // the scenario exercises conflicts, timers, clears and reads that found something
    const flat = JSON.stringify(memory);
    expect(flat).toContain('STATE_CONFLICT');
    expect(memory.filter((t) => Array.isArray(t) && t[1] === 'error').length).toBeGreaterThan(3);
    expect(memory.filter((t) => Array.isArray(t) && /^r\d+ clear$/.test(String(t[0]))).length).toBeGreaterThan(3);
    expect(memory.filter((t) => Array.isArray(t) && /^r\d+ add retried$/.test(String(t[0]))).length).toBeGreaterThan(0);
    expect(memory.filter((t) => Array.isArray(t) && /^r\d+ due$/.test(String(t[0])) && Array.isArray(t[2]) && (t[2] as unknown[]).length > 0).length).toBeGreaterThan(3);
  });
});
