import { InvocationError } from '../shared/local/esm/invoker';
import type { FunctionInvoker } from '../shared/local/esm/lambda-api-invoker';
import { SandboxPool } from '../shared/local/esm/sandbox-pool';

/** A sandbox whose invocations settle when the test says so. */
class FakeSandbox implements FunctionInvoker {
  readonly initMs = [1];
  killed = false;
  readonly pending: Array<{ event: unknown; ok: (v: unknown) => void; fail: (e: unknown) => void }> = [];
  invoke(event: unknown): Promise<unknown> {
    return new Promise((ok, fail) => this.pending.push({ event, ok, fail }));
  }
  kill(): void {
    this.killed = true;
  }
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

function pool(options: ConstructorParameters<typeof SandboxPool>[1] = {}): { pool: SandboxPool; made: FakeSandbox[] } {
  const made: FakeSandbox[] = [];
  return {
    made,
    pool: new SandboxPool(() => {
      const s = new FakeSandbox();
      made.push(s);
      return s;
    }, options),
  };
}

describe('SandboxPool', () => {
  it('starts a sandbox only when none is idle, and routes to any idle one (no partition affinity)', async () => {
    const { pool: p, made } = pool({ seed: 7 });
    const a = p.invoke('a', 'p0');
    const b = p.invoke('b', 'p1');
    await tick();
    expect(made).toHaveLength(2);
    made[0]?.pending.shift()?.ok(1);
    made[1]?.pending.shift()?.ok(2);
    expect((await a).sandbox).toBe(1);
    expect((await b).sandbox).toBe(2);
    // Both idle now: later invocations of one partition land on both sandboxes, no third starts.
    const seen = new Set<number>();
    for (let i = 0; i < 40; i++) {
      const r = p.invoke(i, 'p0');
      await tick();
      for (const s of made) s.pending.shift()?.ok(i);
      seen.add((await r).sandbox);
    }
    expect(seen).toEqual(new Set([1, 2]));
    expect(made).toHaveLength(2);
  });

  it('keeps a sandbox warm after a handled error and replaces one whose process died', async () => {
    const { pool: p, made } = pool({ maxConcurrency: 1 });
    const first = p.invoke('x', 'p0');
    await tick();
    made[0]?.pending.shift()?.fail(new InvocationError('function-error', 'boom'));
    expect(await first).toMatchObject({ sandbox: 1, ok: false });
    const second = p.invoke('y', 'p1');
    await tick();
    expect(made).toHaveLength(1);
    made[0]?.pending.shift()?.fail(new InvocationError('crash', 'SIGKILL'));
    expect(await second).toMatchObject({ sandbox: 1, ok: false });
    expect(made[0]?.killed).toBe(true);
    const third = p.invoke('z', 'p0');
    await tick();
    made[1]?.pending.shift()?.ok('done');
    expect(await third).toEqual({ sandbox: 2, ok: true, result: 'done' });
    expect(p.initMs).toEqual([1]);
  });

  it('at the concurrency limit, hands a freed sandbox to the first waiter', async () => {
    const { pool: p, made } = pool({ maxConcurrency: 1 });
    const order: string[] = [];
    const a = p.invoke('a', 'p0').then(() => order.push('a'));
    const b = p.invoke('b', 'p1').then(() => order.push('b'));
    const c = p.invoke('c', 'p0').then(() => order.push('c'));
    await tick();
    expect(made).toHaveLength(1);
    for (let i = 0; i < 3; i++) {
      const next = made[0]?.pending.shift();
      order.push(`run ${String(next?.event)}`);
      next?.ok(i);
      await tick();
    }
    await Promise.all([a, b, c]);
    expect(order).toEqual(['run a', 'a', 'run b', 'b', 'run c', 'c']);
  });

  it('pinned: one sandbox per partition, whatever is idle', async () => {
    const { pool: p, made } = pool({ routing: 'pinned' });
    for (const pin of ['p0', 'p1', 'p0', 'p1', 'p0']) {
      const r = p.invoke(pin, pin);
      await tick();
      for (const s of made) s.pending.shift()?.ok(pin);
      expect((await r).sandbox).toBe(pin === 'p0' ? 1 : 2);
    }
  });
});
