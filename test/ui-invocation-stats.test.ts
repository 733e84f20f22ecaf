import type { StagePlan } from '../shared/plan/types';
import { InvocationStats } from '../shared/local/ui/invocation-stats';

const stage = (id: string): StagePlan => ({ id, index: 0, inputTopics: ['in'], isSource: true, keyed: false, nodeIds: [], entries: {}, lanes: [], outputs: [], settings: {} }) as StagePlan;

describe('weir dev --ui: per-stage figures from invocation reports', () => {
  it('sums records and metrics, counts errors and ticks, and rates over the last window only (virtual clock)', () => {
    // GIVEN a clock we move by hand and a 5 s rate window
    let now = 0;
    const stats = new InvocationStats([stage('s0'), stage('s1')], () => now, 5000);
    const ok = (stage: string, recordsIn: number, recordsOut: number, durationMs: number) =>
      stats.record({ stage, kind: 'batch', topic: 'in', partition: 0, records: recordsIn, durationMs, result: { recordsIn, metrics: { recordsIn, recordsOut, lateRecords: 1, windowsFired: 2 } } });
    // WHEN s0 handles two batches, one fails, and s1 gets a tick
    ok('s0', 10, 12, 100);
    now = 3000;
    ok('s0', 20, 22, 300);
    stats.record({ stage: 's0', kind: 'batch', records: 5, durationMs: 50, error: new Error('boom') });
    stats.record({ stage: 's1', kind: 'control', records: 0, durationMs: 5, result: { metrics: {} } });
    // THEN totals count everything, rates and means cover the last 5 s
    const [s0, s1] = stats.figures();
    expect(s0).toEqual({
      id: 's0', keyed: false, inputTopics: ['in'], recordsIn: 30, recordsOut: 34, inPerSec: 6, outPerSec: 6.8, invocations: 3, controlInvocations: 0, errors: 1, lastError: 'boom',
      lastBatchMs: 300, meanBatchMs: 200, lateRecords: 2, dlqRecords: 0, windowsFired: 4,
    });
    expect(s1).toMatchObject({ invocations: 0, controlInvocations: 1, errors: 0, inPerSec: 0 });
    // AND once the first batch is older than the window, it leaves the rates but not the totals
    now = 6000;
    expect(stats.figures()[0]).toMatchObject({ recordsIn: 30, inPerSec: 4, meanBatchMs: 300 });
    now = 9000;
    const idle = stats.figures()[0];
    expect(idle).toMatchObject({ recordsIn: 30, inPerSec: 0, outPerSec: 0 });
    expect(idle?.meanBatchMs).toBeUndefined();
  });
});
