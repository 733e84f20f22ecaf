import { kafkaSink, kafkaSource, pipeline } from '../shared/api';
import { StateConflictError } from '../shared/runtime/errors';
import { buildMskEvent } from '../shared/runtime/msk-event';
import { parseProgress } from '../shared/runtime/progress';
import { progressScope } from '../shared/runtime/scopes';
import { Harness } from './support/harness';
import { recordRow } from './support/reliability';

// Issue 11, scenario 4: progress writes of sources and stateless stages were plain puts, so a
// stalled invocation (zombie, rebalance overlap, or another partition of the same event still
// running after Promise.all rejected) wrote after newer batches and rolled offsets and the
// watermark back. Every progress write is now conditional on the seq it read.
function upper() {
  const p = pipeline('stale');
  p.source(kafkaSource({ topic: 'in', eventTime: { outOfOrdernessMs: 0 } }))
    .map((s) => s.toUpperCase())
    .sinkTo(kafkaSink({ topic: 'out', value: 'string' }));
  return p;
}

const gate = (): { wait: Promise<void>; open: () => void } => {
  let open = (): void => undefined;
  const wait = new Promise<void>((r) => (open = r));
  return { wait, open };
};

describe('progress writes are fenced (issue 11, scenario 4)', () => {
  it('a stalled invocation that resumes after a newer batch committed cannot roll offsets or the watermark back', async () => {
    const h = new Harness(upper(), 1);
    for (const [i, v] of ['a', 'b', 'c', 'd'].entries()) h.produce('in', 0, 1000 * (i + 1), v);
    const batch = h.broker.read('in', 0, 0, 4);
    const stalled = gate();
    const reached = gate();
    const zombie = h.executor('s0');
    // The zombie's produce is acknowledged, then it stalls before its progress write.
    const send = h.broker.send.bind(h.broker);
    let first = true;
    h.broker.send = async (records) => {
      await send(records);
      if (!first) return;
      first = false;
      reached.open();
      await stalled.wait;
    };
    const zombieRun = zombie.handle(buildMskEvent(batch.slice(0, 2)));
    await reached.wait;
    // Meanwhile the retry of the same records, and the next ones, commit.
    await h.executor('s0').handle(buildMskEvent(batch));
    const scope = progressScope('stale', 's0', 'in', 0);
    const committed = parseProgress((await h.progress.get(scope))?.data);
    expect(committed.offsetDone).toBe(3);
    stalled.open();
    await expect(zombieRun).rejects.toThrow(StateConflictError);
    const after = parseProgress((await h.progress.get(scope))?.data);
    expect(after.offsetDone).toBe(3);
    expect(after.emitted.wm).toBe(committed.emitted.wm);
    expect(h.records('out').map((r) => r.value)).toEqual(['A', 'B', 'A', 'B', 'C', 'D']);
    recordRow({
      row: '18',
      injected: 'embedded harness: an invocation stalls after producing records 0-1; the retry commits records 0-3; the stalled one resumes and writes its progress',
      recordsIn: 4,
      lost: 0,
      duplicated: 0,
      dlq: 0,
      outcome: "the stalled write is refused (StateConflictError): offsetDone stays 3 and the watermark where the newer batch put it; its outputs repeat the retry's under the same origins (dropped downstream by the lane fence)",
      test: 'test/stale-progress.test.ts',
    });
  });

  it('an event with several partitions answers only after every partition settled, then fails', async () => {
    const h = new Harness(upper(), 2);
    h.produce('in', 0, 1000, 'a');
    h.produce('in', 1, 1000, 'b');
    const slow = gate();
    const order: string[] = [];
    h.fault = (point, info) => {
      if (point === 'before-produce' && info.partition === 0) throw new StateConflictError('partition 0 fails at once');
      if (point === 'after-produce' && info.partition === 1) return void order.push('p1 produced');
      return undefined;
    };
    const ex = h.executor('s0');
    const records = [...h.broker.read('in', 0, 0, 1), ...h.broker.read('in', 1, 0, 1)];
    const put = h.progress.put.bind(h.progress);
    const writing = gate();
    h.progress.put = async (scope, seq, data) => {
      writing.open();
      await slow.wait;
      await put(scope, seq, data);
      order.push(`committed ${scope}`);
    };
    const run = ex.handle(buildMskEvent(records)).catch((e: unknown) => {
      order.push('invocation failed');
      throw e;
    });
    // Partition 1 is at its progress write (partition 0 failed before producing); let every
    // pending callback run: the invocation must still be waiting for partition 1.
    await writing.wait;
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(['p1 produced']);
    slow.open();
    await expect(run).rejects.toThrow('partition 0 fails at once');
    expect(order).toEqual(['p1 produced', 'committed stale#s0#in#1', 'invocation failed']);
  });
});
