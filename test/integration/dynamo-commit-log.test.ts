/**
 * DynamoCommitLog (a keyed stage partition's commit log, shared/adapters/dynamodb/tables.ts
 * for the layout) against DynamoDB Local, and against MemoryCommitLog where both apply. Fails,
 * never skips, when DynamoDB Local does not answer.
 */
import { randomBytes } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { GetItemCommand, QueryCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { DynamoCommitLog, ensureTables, meterClient } from '../../shared/adapters/dynamodb';
import { forEachBounded, itemBytes } from '../../shared/adapters/dynamodb/dynamo-common';
import { LOG_RING_SLOTS, logSk, PART_BYTES, STATE_HEAD_SORT_KEY, STATE_TTL_ATTRIBUTE } from '../../shared/adapters/dynamodb/tables';
import { MemoryCommitLog } from '../../shared/adapters/memory/memory-commit-log';
import { StateConflictError, WeirError } from '../../shared/runtime/errors';
import type { CommitLog, LogRead } from '../../shared/runtime/ports';
import { Rng } from '../reference/prng';
import { caught } from '../support/thrown';
import { DynamoProxy, type ProxyAction } from '../support/dynamo-proxy';
import { deleteTables, DYNAMODB_LOCAL_ENDPOINT, localDynamoClient, randomTableName, requireDynamoDbLocal } from '../support/dynamodb-local';

jest.setTimeout(180_000);

type Item = Record<string, AttributeValue>;
const client = localDynamoClient();
const tables = { state: randomTableName('state'), progress: randomTableName('progress') };
let scopeSeq = 0;
/** A scope no other test touches (`pipeline#stage#partition`, as the executor names them). */
const freshScope = (name: string): string => `test-${name}#s1#${scopeSeq++}`;
const dynamoLog = (): DynamoCommitLog => new DynamoCommitLog({ client, table: tables.state });

beforeAll(async () => {
  await requireDynamoDbLocal(client);
  await ensureTables(client, tables, { pollMs: 50 });
});

afterAll(async () => {
  await deleteTables(client, [tables.state, tables.progress]);
  client.destroy();
});

/** Text that deflate cannot shrink much: `bytes` random bytes in base64. */
const incompressible = (bytes: number): string => randomBytes(bytes).toString('base64');
/** Items the adapter writes for a body of this size: one below PART_BYTES deflated, else one per PART_BYTES. */
const partsOf = (body: string): number => Math.ceil(deflateRawSync(body, { level: 1 }).length / PART_BYTES);

/** Every item of a partition, in sort key order. */
async function items(scope: string): Promise<Item[]> {
  const out: Item[] = [];
  let start: Item | undefined;
  do {
    const res = await client.send(
      new QueryCommand({ TableName: tables.state, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: scope } }, ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}) }),
    );
    out.push(...(res.Items ?? []));
    start = res.LastEvaluatedKey;
  } while (start);
  return out;
}
const sks = async (scope: string, prefix: string): Promise<string[]> => (await items(scope)).map((i) => i.sk?.S ?? '').filter((sk) => sk.startsWith(prefix));
const getItem = async (scope: string, sk: string): Promise<Item | undefined> =>
  (await client.send(new GetItemCommand({ TableName: tables.state, Key: { pk: { S: scope }, sk: { S: sk } }, ConsistentRead: true }))).Item;

const seqs = (r: LogRead): number[] => r.entries.map((e) => e.seq);
const body = (seq: number): string => `commit ${seq}: {"k":${seq}}`;

// ---------------------------------------------------------------------------------------
// Conformance: one seeded sequence of appends, snapshots and reads against both logs.

type Trace = unknown[];

/**
 * The read as the trace records it. The port lets a log answer a reader behind the latest
 * snapshot either way: DynamoDB returns the commits after it from the ring (they are all
 * still there), memory returns the snapshot and the commits after it. Both bring the reader
 * to the same commit; the trace records that for those reads (and the exact read otherwise).
 */
function traced(r: LogRead, after: number | undefined, snapSeq: number): unknown {
  if (after === undefined || after >= snapSeq) return r;
  const last = r.entries.length ? (r.entries[r.entries.length - 1]?.seq as number) : (r.snapshot?.seq ?? after);
  return { behindSnapshot: true, last, after: r.entries.filter((e) => e.seq > snapSeq) };
}

async function scenario(log: CommitLog, base: string, seed: number): Promise<Trace> {
  const trace: Trace = [];
  const step = async (label: string, fn: () => Promise<unknown>): Promise<void> => {
    try {
      trace.push([label, 'ok', await fn()]);
    } catch (err) {
      trace.push([label, 'error', err instanceof WeirError ? err.code : 'other', err instanceof Error ? err.constructor.name : typeof err]);
    }
  };
  const rng = new Rng(seed);
  const scopes = [`${base}#0`, `${base}#ü#1`, `${base}#2`];
  const head = new Map<string, number>(scopes.map((s) => [s, 0]));
  const snap = new Map<string, number>(scopes.map((s) => [s, 0]));
  const pick = <T>(xs: readonly T[]): T => xs[rng.int(0, xs.length - 1)] as T;
  const read = async (label: string, scope: string, after: number | undefined): Promise<void> => {
    const s = snap.get(scope) ?? 0;
    await step(label, async () => traced(await log.read(scope, after), after, s));
  };
  // Fixed part.
  const [s0 = ''] = scopes;
  await read('empty', s0, undefined);
  await read('empty after 3', s0, 3);
  for (let seq = 1; seq <= 5; seq++) await step(`append ${seq}`, () => log.append(s0, seq, body(seq)));
  head.set(s0, 5);
  await step('append taken 3', () => log.append(s0, 3, 'stale'));
  await step('append taken 5', () => log.append(s0, 5, 'stale'));
  await read('all', s0, undefined);
  await read('after 2', s0, 2);
  await read('after 5', s0, 5);
  await step('snapshot 4', () => log.snapshot(s0, 4, 'snapshot at 4'));
  snap.set(s0, 4);
  await step('snapshot 2 (older)', () => log.snapshot(s0, 2, 'snapshot at 2'));
  await step('snapshot 4 again', () => log.snapshot(s0, 4, 'another snapshot at 4'));
  await read('cold after snapshot', s0, undefined);
  await read('warm at 4', s0, 4);
  await read('warm at 5', s0, 5);
  await read('behind the snapshot', s0, 1);
  // Seeded part: appends in order (sometimes a taken seq), snapshots at or below the head, reads anywhere.
  for (let i = 0; i < 120; i++) {
    const scope = pick(scopes);
    const h = head.get(scope) ?? 0;
    const op = rng.int(0, 9);
    if (op <= 3) {
      const big = rng.chance(0.05);
      const text = big ? `${i}:${'x'.repeat(rng.int(1, 5000))}` : `${i}:${pick(['', '{}', 'ünï', '\u0000', '"q"'])}`;
      await step(`r${i} append ${h + 1}`, () => log.append(scope, h + 1, text));
      head.set(scope, h + 1);
    } else if (op === 4 && h > 0) {
      await step(`r${i} append taken`, () => log.append(scope, rng.int(1, h), `stale ${i}`));
    } else if (op === 5 && h > 0) {
      const at = rng.int(Math.max(1, h - 3), h);
      await step(`r${i} snapshot ${at}`, () => log.snapshot(scope, at, `snapshot ${i} at ${at}`));
      snap.set(scope, Math.max(snap.get(scope) ?? 0, at));
    } else {
      const after = rng.chance(0.3) ? undefined : rng.int(0, h + 1);
      await read(`r${i} read after ${after}`, scope, after);
    }
  }
  for (const scope of scopes) {
    await read('final cold', scope, undefined);
    for (let after = 0; after <= (head.get(scope) ?? 0); after++) await read(`final after ${after}`, scope, after);
  }
  return trace;
}

describe('DynamoCommitLog conforms to MemoryCommitLog', () => {
  it.each([1, 2])('the same appends, snapshots and reads give the same results (seed %i)', async (seed) => {
    const memory = await scenario(new MemoryCommitLog(), `conf-${seed}`, seed);
    const dynamo = await scenario(dynamoLog(), freshScope(`conf-${seed}`), seed);
    expect(dynamo).toEqual(memory);
    // Equal traces could share a bug: pin the fixed part, by hand.
    const at = (label: string): unknown => memory.find((t) => Array.isArray(t) && t[0] === label);
    const e = (seq: number): { seq: number; body: string } => ({ seq, body: body(seq) });
    expect(at('empty')).toEqual(['empty', 'ok', { entries: [] }]);
    expect(at('empty after 3')).toEqual(['empty after 3', 'ok', { entries: [] }]);
    expect(at('append taken 3')).toEqual(['append taken 3', 'error', 'STATE_CONFLICT', 'StateConflictError']);
    expect(at('append taken 5')).toEqual(['append taken 5', 'error', 'STATE_CONFLICT', 'StateConflictError']);
    expect(at('all')).toEqual(['all', 'ok', { entries: [1, 2, 3, 4, 5].map(e) }]);
    expect(at('after 2')).toEqual(['after 2', 'ok', { entries: [3, 4, 5].map(e) }]);
    expect(at('after 5')).toEqual(['after 5', 'ok', { entries: [] }]);
    expect(at('cold after snapshot')).toEqual(['cold after snapshot', 'ok', { snapshot: { seq: 4, body: 'snapshot at 4' }, entries: [e(5)] }]);
    expect(at('warm at 4')).toEqual(['warm at 4', 'ok', { entries: [e(5)] }]);
    expect(at('warm at 5')).toEqual(['warm at 5', 'ok', { entries: [] }]);
    expect(at('behind the snapshot')).toEqual(['behind the snapshot', 'ok', { behindSnapshot: true, last: 5, after: [e(5)] }]);
    // The seeded part reached conflicts, snapshots and reads that found commits.
    expect(memory.filter((t) => Array.isArray(t) && /^r\d+ append taken$/.test(String(t[0]))).length).toBeGreaterThan(3);
    expect(memory.filter((t) => Array.isArray(t) && /^r\d+ snapshot/.test(String(t[0]))).length).toBeGreaterThan(3);
    expect(JSON.stringify(memory)).toContain('"snapshot":{"seq"');
  });

  it('a reader behind the latest snapshot: DynamoDB returns every commit after it from the ring, memory the snapshot; both end at the same commit', async () => {
    const logs: CommitLog[] = [new MemoryCommitLog(), dynamoLog()];
    const [memory, dynamo] = await Promise.all(
      logs.map(async (log) => {
        const scope = freshScope('behind');
        for (let seq = 1; seq <= 6; seq++) await log.append(scope, seq, body(seq));
        await log.snapshot(scope, 4, 'at 4');
        return log.read(scope, 2);
      }),
    );
    expect(dynamo).toEqual({ entries: [3, 4, 5, 6].map((seq) => ({ seq, body: body(seq) })) });
    expect(memory).toEqual({ snapshot: { seq: 4, body: 'at 4' }, entries: [5, 6].map((seq) => ({ seq, body: body(seq) })) });
  });
});

// ---------------------------------------------------------------------------------------

describe('DynamoCommitLog: nothing live expires (issue 11, scenario 8)', () => {
  it('no commit, part, snapshot or head carries the table\'s TTL attribute', async () => {
    const log = dynamoLog();
    const scope = freshScope('no-ttl');
    await log.append(scope, 1, body(1));
    await log.append(scope, 2, incompressible(PART_BYTES + 1000));
    await log.snapshot(scope, 2, incompressible(PART_BYTES + 1000));
    await log.append(scope, 3, body(3));
    const all = await items(scope);
    expect(all.map((i) => i.sk?.S?.split('#')[0]).sort()).toEqual(['head', 'log', 'log', 'log', 'logpart', 'logpart', 'snap', 'snap']);
    expect(all.filter((i) => STATE_TTL_ATTRIBUTE in i)).toEqual([]);
  });
});

describe('DynamoCommitLog: appends and tail reads', () => {
  it('a tail read after k missed commits returns exactly those k (across pages of the tail query)', async () => {
    const log = dynamoLog();
    const scope = freshScope('tail');
    const n = 40;
    for (let seq = 1; seq <= n; seq++) await log.append(scope, seq, body(seq));
    for (const k of [0, 1, 2, 7, 8, 9, 31, 32, 33, 39, 40]) {
      const r = await log.read(scope, n - k);
      expect(r.snapshot).toBeUndefined();
      expect(r.entries).toEqual(Array.from({ length: k }, (_, i) => ({ seq: n - k + 1 + i, body: body(n - k + 1 + i) })));
    }
    // A reader ahead of the log (it cannot be, but the read must not invent commits).
    expect(await log.read(scope, n + 3)).toEqual({ entries: [] });
  });

  it('an append at a taken seq is a StateConflictError and leaves the commit as it was', async () => {
    const log = dynamoLog();
    const scope = freshScope('taken');
    await log.append(scope, 1, 'first');
    await log.append(scope, 2, 'second');
    for (const seq of [1, 2]) {
      const err = await caught(log.append(scope, seq, 'zombie'));
      expect(err).toBeInstanceOf(StateConflictError);
      expect(err).toMatchObject({ code: 'STATE_CONFLICT', retriable: true });
      expect((err as Error).message).toContain(`commit ${seq}`);
    }
    expect(await log.read(scope)).toEqual({ entries: [{ seq: 1, body: 'first' }, { seq: 2, body: 'second' }] });
    // Two writers racing for one seq: exactly one wins.
    const results = await Promise.allSettled([log.append(scope, 3, 'a'), dynamoLog().append(scope, 3, 'b')]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect((results.find((r): r is PromiseRejectedResult => r.status === 'rejected')?.reason as unknown) instanceof StateConflictError).toBe(true);
    expect(seqs(await log.read(scope, 2))).toEqual([3]);
  });

  it('commits over PART_BYTES round-trip through logpart items, and the partition keeps exactly those items', async () => {
    const log = dynamoLog();
    const scope = freshScope('parts');
    const bodies = [incompressible(400_000), incompressible(800_000), 'small', incompressible(1_000)];
    expect(bodies.map(partsOf)).toEqual([2, 3, 1, 1]);
    for (const [i, b] of bodies.entries()) await log.append(scope, i + 1, b);
    expect(await log.read(scope)).toEqual({ entries: bodies.map((b, i) => ({ seq: i + 1, body: b })) });
    expect(await log.read(scope, 1)).toEqual({ entries: bodies.slice(1).map((b, i) => ({ seq: i + 2, body: b })) });
    expect(await sks(scope, 'logpart#')).toHaveLength(5);
    expect(await sks(scope, 'log#')).toEqual([1, 2, 3, 4].map(logSk));
    // Every item stays under DynamoDB's 400 KB.
    for (const item of await items(scope)) expect(itemBytes(item)).toBeLessThan(400 * 1024);
    const spilled = await getItem(scope, logSk(2));
    expect(spilled?.data).toBeUndefined();
    expect(spilled?.parts).toEqual({ N: '3' });
  });

  it('regression: an append that loses its seq deletes the parts it wrote first (they were never readable), and keeps the winner\'s', async () => {
    const log = dynamoLog();
    const scope = freshScope('lost-parts');
    const winner = incompressible(400_000);
    await log.append(scope, 1, winner);
    const kept = await sks(scope, 'logpart#');
    expect(kept).toHaveLength(2);
    await expect(log.append(scope, 1, incompressible(700_000))).rejects.toBeInstanceOf(StateConflictError);
    expect(await sks(scope, 'logpart#')).toEqual(kept);
    expect(await log.read(scope)).toEqual({ entries: [{ seq: 1, body: winner }] });
  });

  it('bills an append as the item\'s KB, and an overwritten slot as the larger of the old and new item', async () => {
    const metered = localDynamoClient();
    const meter = meterClient(metered);
    const log = new DynamoCommitLog({ client: metered, table: tables.state });
    const scope = freshScope('billing');
    const kb = (item: Item | undefined): number => Math.ceil(itemBytes(item ?? {}) / 1024);
    for (const [seq, b] of [
      [1, 'tiny'],
      [2, incompressible(20_000)],
      [3, incompressible(200_000)],
    ] as const) {
      meter.reset();
      await log.append(scope, seq, b);
      const stored = await getItem(scope, logSk(seq));
      expect(meter.usage()).toEqual({ writeRequests: 1, readRequests: 0, writeUnits: kb(stored), readUnits: 0 });
    }
    metered.destroy();
  });
});

// ---------------------------------------------------------------------------------------

describe('DynamoCommitLog: the ring of LOG_RING_SLOTS slots', () => {
  // 4096 slots and a few more: DynamoDB Local takes ~2-4 ms a put, 16 in flight.
  const scope = freshScope('ring');
  const N = LOG_RING_SLOTS + 3;
  const spilled = incompressible(400_000);
  const mid = incompressible(20_000);
  const bodyOf = (seq: number): string => (seq === 4 ? spilled : seq === 6 ? mid : body(seq));
  const log = dynamoLog();

  beforeAll(async () => {
    // The adapter does not need commits in order: fill the ring in parallel.
    await forEachBounded(
      Array.from({ length: N }, (_, i) => i + 1),
      16,
      (seq) => log.append(scope, seq, bodyOf(seq)),
    );
  });

  it('after wrapping, the next commit overwrites the slot of commit - LOG_RING_SLOTS and deletes that commit\'s parts', async () => {
    expect(await sks(scope, 'log#')).toHaveLength(LOG_RING_SLOTS);
    expect(await sks(scope, 'logpart#')).toHaveLength(partsOf(spilled));
    expect((await getItem(scope, logSk(3)))?.seq).toEqual({ N: String(LOG_RING_SLOTS + 3) });
    await log.append(scope, LOG_RING_SLOTS + 4, body(LOG_RING_SLOTS + 4));
    expect((await getItem(scope, logSk(4)))?.seq).toEqual({ N: String(LOG_RING_SLOTS + 4) });
    expect(await sks(scope, 'logpart#')).toEqual([]);
  });

  it('an append at a taken seq conflicts after the ring wrapped too: the slot holds that commit, a later one, or a commit of a later lap', async () => {
    const last = LOG_RING_SLOTS + 4;
    for (const seq of [last, LOG_RING_SLOTS + 1, LOG_RING_SLOTS, 5, 4, 2, 1]) {
      const err = await caught(log.append(scope, seq, 'stale'));
      expect(err).toBeInstanceOf(StateConflictError);
    }
    expect((await getItem(scope, logSk(1)))?.seq).toEqual({ N: String(LOG_RING_SLOTS + 1) });
    expect((await getItem(scope, logSk(5)))?.seq).toEqual({ N: '5' });
  });

  it('an overwrite of a slot bills the larger of the old and the new item', async () => {
    const metered = localDynamoClient();
    const meter = meterClient(metered);
    const mlog = new DynamoCommitLog({ client: metered, table: tables.state });
    const kb = (item: Item | undefined): number => Math.ceil(itemBytes(item ?? {}) / 1024);
    // Slot 5 holds commit 5 (small): small over small.
    meter.reset();
    await mlog.append(scope, LOG_RING_SLOTS + 5, body(LOG_RING_SLOTS + 5));
    expect(meter.usage()).toEqual({ writeRequests: 1, readRequests: 0, writeUnits: 1, readUnits: 0 });
    // Slot 6 holds commit 6 (about 20 KB): small over large bills the old item.
    const old = await getItem(scope, logSk(6));
    expect(kb(old)).toBeGreaterThan(10);
    meter.reset();
    await mlog.append(scope, LOG_RING_SLOTS + 6, body(LOG_RING_SLOTS + 6));
    expect(meter.usage()).toEqual({ writeRequests: 1, readRequests: 0, writeUnits: kb(old), readUnits: 0 });
    metered.destroy();
  });

  it('a tail read crosses the end of the ring; a reader whose next commit was lapped falls back to the snapshot', async () => {
    const last = LOG_RING_SLOTS + 6;
    const from = LOG_RING_SLOTS - 2;
    expect(await log.read(scope, from - 1)).toEqual({ entries: Array.from({ length: last - from + 1 }, (_, i) => ({ seq: from + i, body: body(from + i) })) });
    // Commit 3's slot holds LOG_RING_SLOTS + 3 and there is no snapshot: nothing can serve the read.
    const err = await caught(log.read(scope, 2));
    expect(err).toBeInstanceOf(StateConflictError);
    expect(await caught(log.read(scope))).toBeInstanceOf(StateConflictError);
    await log.snapshot(scope, LOG_RING_SLOTS, 'state at the end of the first lap');
    const fromSnapshot = { snapshot: { seq: LOG_RING_SLOTS, body: 'state at the end of the first lap' }, entries: [1, 2, 3, 4, 5, 6].map((i) => ({ seq: LOG_RING_SLOTS + i, body: body(LOG_RING_SLOTS + i) })) };
    expect(await log.read(scope, 2)).toEqual(fromSnapshot);
    expect(await log.read(scope, 0)).toEqual(fromSnapshot);
    expect(await log.read(scope)).toEqual(fromSnapshot);
    // A reader the ring still serves reads the ring, even behind the snapshot.
    expect(seqs(await log.read(scope, LOG_RING_SLOTS - 10))).toEqual(Array.from({ length: 16 }, (_, i) => LOG_RING_SLOTS - 9 + i));
    expect(await log.read(scope, last)).toEqual({ entries: [] });
  });
});

// ---------------------------------------------------------------------------------------

describe('DynamoCommitLog: snapshots', () => {
  it('a snapshot over PART_BYTES round-trips through its parts; the next snapshot replaces them', async () => {
    const log = dynamoLog();
    const scope = freshScope('snap-parts');
    for (let seq = 1; seq <= 4; seq++) await log.append(scope, seq, body(seq));
    const first = incompressible(1_100_000);
    expect(partsOf(first)).toBe(4);
    await log.snapshot(scope, 3, first);
    expect(await log.read(scope)).toEqual({ snapshot: { seq: 3, body: first }, entries: [{ seq: 4, body: body(4) }] });
    const firstParts = await sks(scope, 'snap#');
    expect(firstParts).toHaveLength(4);
    expect((await getItem(scope, STATE_HEAD_SORT_KEY))?.parts).toEqual({ N: '4' });
    const second = incompressible(400_000);
    await log.snapshot(scope, 4, second);
    expect(await log.read(scope)).toEqual({ snapshot: { seq: 4, body: second }, entries: [] });
    const secondParts = await sks(scope, 'snap#');
    expect(secondParts).toHaveLength(partsOf(second));
    expect(secondParts.filter((sk) => firstParts.includes(sk))).toEqual([]);
  });

  it('a snapshot whose head write lost the race (an older or equal seq) leaves the newer head and deletes its own parts', async () => {
    const log = dynamoLog();
    const scope = freshScope('snap-race');
    for (let seq = 1; seq <= 9; seq++) await log.append(scope, seq, body(seq));
    await log.snapshot(scope, 8, 'newer');
    const head = await getItem(scope, STATE_HEAD_SORT_KEY);
    const parts = await sks(scope, 'snap#');
    await log.snapshot(scope, 5, incompressible(500_000));
    await log.snapshot(scope, 8, 'same seq, other body');
    expect(await getItem(scope, STATE_HEAD_SORT_KEY)).toEqual(head);
    expect(await sks(scope, 'snap#')).toEqual(parts);
    expect(await log.read(scope)).toEqual({ snapshot: { seq: 8, body: 'newer' }, entries: [{ seq: 9, body: body(9) }] });
    // Concurrently, the newest wins whatever the order the heads land in.
    await Promise.all([log.snapshot(scope, 9, 'at 9'), dynamoLog().snapshot(scope, 7, 'at 7'), dynamoLog().snapshot(scope, 8, 'at 8 again')]);
    expect(await log.read(scope)).toEqual({ snapshot: { seq: 9, body: 'at 9' }, entries: [] });
    expect(await sks(scope, 'snap#')).toHaveLength(1);
  });

  it('a crash between snapshot parts (some or all parts written, the head not) leaves the old snapshot and the log readable and exact', async () => {
    const scope = freshScope('snap-crash');
    const log = dynamoLog();
    for (let seq = 1; seq <= 6; seq++) await log.append(scope, seq, body(seq));
    await log.snapshot(scope, 3, 'old snapshot at 3');
    const expected = { snapshot: { seq: 3, body: 'old snapshot at 3' }, entries: [4, 5, 6].map((seq) => ({ seq, body: body(seq) })) };
    // The process dies at a snapshot write: the proxy answers with an error the adapter does not
    // retry, and lets nothing more of that snapshot through (a dead process sends nothing).
    for (const dieAt of ['snap#', 'head']) {
      let dead = false;
      const proxy = new DynamoProxy(DYNAMODB_LOCAL_ENDPOINT, (r): ProxyAction => {
        const put = r.op === 'PutItem' && r.body.includes(scope);
        if (put && (dead || (dieAt === 'head' ? r.body.includes('"sk":{"S":"head"}') : /"sk":\{"S":"snap#[^"]*#00002"/.test(r.body)))) {
          dead = true;
          return { kind: 'error', status: 400, type: 'ValidationException', message: 'the process died (injected)' };
        }
        return { kind: 'forward' };
      });
      const endpoint = await proxy.start();
      const c = localDynamoClient({ endpoint, maxAttempts: 1 });
      try {
        const big = incompressible(1_100_000);
        expect(partsOf(big)).toBeGreaterThanOrEqual(4);
        await expect(new DynamoCommitLog({ client: c, table: tables.state }).snapshot(scope, 6, big)).rejects.toThrow();
      } finally {
        c.destroy();
        await proxy.stop();
      }
      const orphans = (await sks(scope, 'snap#')).filter((sk) => !sk.startsWith('snap#000000000003-'));
      // Parts a crashed snapshot wrote stay behind (nothing reads them); with the head refused, all of them.
      if (dieAt === 'head') expect(orphans.length).toBeGreaterThanOrEqual(4);
      expect((await getItem(scope, STATE_HEAD_SORT_KEY))?.snapSeq).toEqual({ N: '3' });
      expect(await log.read(scope)).toEqual(expected);
      expect(await log.read(scope, 4)).toEqual({ entries: [5, 6].map((seq) => ({ seq, body: body(seq) })) });
    }
    // The next snapshot and commit go on as if nothing happened.
    await log.snapshot(scope, 6, 'new snapshot at 6');
    await log.append(scope, 7, body(7));
    expect(await log.read(scope)).toEqual({ snapshot: { seq: 6, body: 'new snapshot at 6' }, entries: [{ seq: 7, body: body(7) }] });
  });
});
