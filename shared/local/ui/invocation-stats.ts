import type { InvocationReport } from '../esm/emulator';
import type { StagePlan } from '../../plan/types';
import type { StageFigures } from './snapshot';

interface Recent {
  readonly at: number;
  readonly recordsIn: number;
  readonly recordsOut: number;
  readonly durationMs: number;
}

interface Totals {
  recordsIn: number;
  recordsOut: number;
  invocations: number;
  controlInvocations: number;
  errors: number;
  lateRecords: number;
  dlqRecords: number;
  windowsFired: number;
  lastError?: string;
  lastBatchMs?: number;
  recent: Recent[];
}

type Metrics = Partial<Record<'recordsIn' | 'recordsOut' | 'lateRecords' | 'dlqRecords' | 'windowsFired', number>>;

/** The metrics a stage function reported (the stage handler's result), defensively read. */
function metricsOf(result: unknown): Metrics {
  const m = (result as { metrics?: unknown } | undefined)?.metrics;
  return m !== null && typeof m === 'object' ? (m as Metrics) : {};
}

/**
 * Per-stage figures from the trigger emulators' invocation reports: totals since start and
 * rates over the last `rateWindowMs`. Pure: the clock is passed in.
 */
export class InvocationStats {
  private readonly totals = new Map<string, Totals>();

  constructor(
    private readonly stages: readonly StagePlan[],
    private readonly now: () => number = Date.now,
    readonly rateWindowMs = 5000,
  ) {
    for (const s of stages) this.totals.set(s.id, { recordsIn: 0, recordsOut: 0, invocations: 0, controlInvocations: 0, errors: 0, lateRecords: 0, dlqRecords: 0, windowsFired: 0, recent: [] });
  }

  record(r: InvocationReport): void {
    const t = this.totals.get(r.stage);
    if (!t) return;
    if (r.kind === 'batch') t.invocations++;
    else t.controlInvocations++;
    if (r.error !== undefined) {
      t.errors++;
      t.lastError = r.error instanceof Error ? r.error.message : String(r.error);
      return;
    }
    const m = metricsOf(r.result);
    t.recordsIn += m.recordsIn ?? 0;
    t.recordsOut += m.recordsOut ?? 0;
    t.lateRecords += m.lateRecords ?? 0;
    t.dlqRecords += m.dlqRecords ?? 0;
    t.windowsFired += m.windowsFired ?? 0;
    if (r.kind === 'batch') t.lastBatchMs = r.durationMs;
    t.recent.push({ at: this.now(), recordsIn: m.recordsIn ?? 0, recordsOut: m.recordsOut ?? 0, durationMs: r.kind === 'batch' ? r.durationMs : Number.NaN });
  }

  figures(): StageFigures[] {
    const now = this.now();
    const seconds = this.rateWindowMs / 1000;
    return this.stages.map((s) => {
      const t = this.totals.get(s.id) as Totals;
      while (t.recent.length && (t.recent[0] as Recent).at <= now - this.rateWindowMs) t.recent.shift();
      const batches = t.recent.filter((x) => !Number.isNaN(x.durationMs));
      return {
        id: s.id,
        keyed: s.keyed,
        inputTopics: s.inputTopics,
        recordsIn: t.recordsIn,
        recordsOut: t.recordsOut,
        inPerSec: round1(t.recent.reduce((a, x) => a + x.recordsIn, 0) / seconds),
        outPerSec: round1(t.recent.reduce((a, x) => a + x.recordsOut, 0) / seconds),
        invocations: t.invocations,
        controlInvocations: t.controlInvocations,
        errors: t.errors,
        ...(t.lastError !== undefined ? { lastError: t.lastError } : {}),
        ...(t.lastBatchMs !== undefined ? { lastBatchMs: t.lastBatchMs } : {}),
        ...(batches.length ? { meanBatchMs: Math.round(batches.reduce((a, x) => a + x.durationMs, 0) / batches.length) } : {}),
        lateRecords: t.lateRecords,
        dlqRecords: t.dlqRecords,
        windowsFired: t.windowsFired,
      };
    });
  }
}

const round1 = (x: number): number => Math.round(x * 10) / 10;
