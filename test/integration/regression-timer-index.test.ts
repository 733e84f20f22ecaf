/** Regression tests, one per bug found in the DynamoDB timer index (named after the bug). */
import { MemoryProgressStore, MemoryStateStore } from '../../shared/adapters/memory/memory-state-store';
import { DynamoProgressStore, DynamoStateStore, ensureTables } from '../../shared/adapters/dynamodb';
import { kafkaSink, kafkaSource, pipeline, sum, tumbling } from '../../shared/api';
import { InjectedCrash } from '../../shared/runtime/errors';
import type { KeyWrite, ProgressWrite, TimerEntry } from '../../shared/runtime/ports';
import { deleteTables, localDynamoClient, randomTableName } from '../support/dynamodb-local';
import { Harness } from '../support/harness';

const client = localDynamoClient();
const tables = { state: randomTableName('state'), progress: randomTableName('progress') };
beforeAll(() => ensureTables(client, tables, { pollMs: 50 }));
afterAll(async () => {
  await deleteTables(client, [tables.state, tables.progress]);
  client.destroy();
});
const dynamo = (): DynamoStateStore => new DynamoStateStore({ client, table: tables.state, progressTable: tables.progress });
const keysOf = (es: TimerEntry[]): string[] => [...new Set(es.map((e) => e.key))].sort();

it('regression: a timer bucket of keys with control characters stays under the 400 KB item limit', async () => {
  const scope = 'bug1#s1#0';
  const entries = Array.from({ length: 2000 }, (_, i): TimerEntry => ({ domain: 'event', time: 10, key: `${i}:${'\u0000'.repeat(64)}` }));
  const memory = new MemoryStateStore();
  await memory.addTimers(scope, entries, '7');
  expect(await memory.dueTimers(scope, 'event', 10)).toHaveLength(2000);
  await dynamo().addTimers(scope, entries, '7'); 
  expect(keysOf(await dynamo().dueTimers(scope, 'event', 10))).toEqual(keysOf(entries));
});

it('regression: re-adding timers under the same tag keeps the union, in DynamoDB as in memory', async () => {
  const e = (key: string): TimerEntry => ({ domain: 'event', time: 9, key });
  const results: string[][] = [];
  for (const store of [new MemoryStateStore(), dynamo()]) {
    await store.addTimers('bug2a#s1#0', [e('a'), e('b')], '5');
    await store.addTimers('bug2a#s1#0', [e('b')], '5');
    results.push(keysOf(await store.dueTimers('bug2a#s1#0', 'event', 9)));
  }
  expect(results[1]).toEqual(results[0]); 
  // Both stores, not only alike: the union of the two calls.
  expect(results).toEqual([['a', 'b'], ['a', 'b']]);
});

function windowed() {
  const p = pipeline('w');
  p.source(kafkaSource({ topic: 'in', value: 'json', eventTime: { outOfOrdernessMs: 0 } }))
    .map((v) => v as unknown as { k: string; n: number })
    .keyBy((e) => e.k)
    .window(tumbling(10))
    .aggregate(sum<{ k: string; n: number }>((e) => e.n), (k, total, win) => ({ k, total, end: win.end }))
    .sinkTo(kafkaSink({ topic: 'out' }));
  return p;
}

it.each(['memory', 'dynamodb'])('regression: no window is lost when a keyed batch is retried after a partial commit (%s)', async (kind) => {
  const h = new Harness(windowed(), 1);
  if (kind === 'dynamodb') {
    const state = dynamo();
    const progress = new DynamoProgressStore({ client, table: tables.progress });
    h.state.getMany = (s, k) => state.getMany(s, k);
    h.state.commit = (s, w, p) => state.commit(s, w, p);
    h.state.addTimers = (s, e, t) => state.addTimers(s, e, t);
    h.state.clearTimers = (s, d, u) => state.clearTimers(s, d, u);
    h.state.dueTimers = (s, d, u) => state.dueTimers(s, d, u);
    h.progress.get = (s) => progress.get(s);
    h.progress.put = (s, d) => progress.put(s, d);
  }
  h.produce('in', 0, 1, JSON.stringify({ k: `a-${kind}`, n: 1 }));
  h.produce('in', 0, 2, JSON.stringify({ k: `b-${kind}`, n: 2 }));
  await h.deliver('s0');
  // s1 commits its first key, then crashes (as ChaosInjector.stateStore does; on DynamoDB: a crash
  // between two transactions of a commit of more than 99 keys)
  const commit = h.state.commit.bind(h.state);
  h.state.commit = async (scope: string, writes: readonly KeyWrite[], progress?: ProgressWrite) => {
    await commit(scope, writes.slice(0, 1));
    throw new InjectedCrash('partial commit');
  };
  await expect(h.deliver('s1')).rejects.toThrow(InjectedCrash);
  h.state.commit = commit;
  await h.deliver('s1');
  h.produce('in', 0, 100, JSON.stringify({ k: `c-${kind}`, n: 3 }));
  await h.deliver('s0');
  await h.deliver('s1');
  expect(h.values('out')).toEqual(expect.arrayContaining([
    { k: `a-${kind}`, total: 1, end: 10 },
    { k: `b-${kind}`, total: 2, end: 10 },
  ]));
  // Exactly those two windows, each once (c's window [100, 110) is not due at watermark 99).
  const byKey = (x: unknown, y: unknown): number => String((x as { k: string }).k).localeCompare(String((y as { k: string }).k));
  expect([...h.values('out')].sort(byKey)).toEqual([
    { k: `a-${kind}`, total: 1, end: 10 },
    { k: `b-${kind}`, total: 2, end: 10 },
  ]);
});

it('regression: clearTimers reads its buckets with ConsistentRead, as dueTimers does', async () => {
  const c = localDynamoClient();
  const inputs: Array<Record<string, unknown>> = [];
  c.middlewareStack.add((next, context) => async (args) => {
    if ((context as { commandName?: string }).commandName === 'QueryCommand') inputs.push(args.input as Record<string, unknown>);
    return next(args);
  }, { step: 'initialize', name: 'capture' });
  const store = new DynamoStateStore({ client: c, table: tables.state });
  await store.dueTimers('bug3#s1#0', 'event', 5);
  await store.clearTimers('bug3#s1#0', 'event', 5);
  c.destroy();
  expect(inputs.map((i) => i.ConsistentRead)).toEqual([true, true]);
});
