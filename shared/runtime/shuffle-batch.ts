import type { GraphNode } from '../api/graph';
import { laneId, type StagePlan } from '../plan/types';
import { causeOf, type Cause, type Element } from './element';
import { describeError, RecordError } from './errors';
import { keyIdOf } from './keys';
import { loadKey, serializeKey, type KeyState } from './key-state';
import type { KafkaRecord } from './msk-event';
import type { KeyedContext, KeyedOperator, TimeDomain } from './operators/keyed-operator';
import { Outputs } from './outputs';
import type { KeyWrite, MetricName, StateStore, TimerEntry } from './ports';
import { combineLanes, type LaneState, type Progress } from './progress';
import type { StageRouter } from './router';
import { markerTimestamp } from './source-batch';
import { decodeEnvelope, decodeMarker, H_MARKER, H_ORIGIN, originAfter, type Marker, type Origin } from './wire';

type Item =
  | { readonly kind: 'marker'; readonly offset: number; readonly marker: Marker }
  | {
      readonly kind: 'data';
      readonly offset: number;
      readonly origin: Origin;
      readonly edge: number;
      readonly key: string | null;
      readonly value: unknown;
      readonly now: number;
      readonly rec: KafkaRecord;
    }
  | { readonly kind: 'bad'; readonly offset: number; readonly error: string; readonly rec: KafkaRecord };

export interface ShuffleBatchResult {
  readonly outputs: Outputs;
  readonly progress: Progress;
  readonly keyWrites: KeyWrite[];
  readonly timerAdds: TimerEntry[];
  /** Index entries up to these times have fired and can be dropped after the commit. */
  readonly clearUpTo: Partial<Record<TimeDomain, number>>;
  readonly counts: Partial<Record<MetricName, number>>;
}

const DOMAINS: readonly TimeDomain[] = ['event', 'processing'];

/** Whether a stage has operators that set processing-time timers (process functions, processing-time windows). */
export function stageHasProcessingTimers(stage: StagePlan, nodes: readonly GraphNode[]): boolean {
  return stage.nodeIds.some((id) => {
    const n = nodes[id] as GraphNode;
    return n.kind === 'process' || (n.kind === 'window' && 'time' in n.assigner && n.assigner.time === 'processing');
  });
}

function parse(rec: KafkaRecord): Item {
  try {
    const m = rec.headers[H_MARKER];
    if (m !== undefined) return { kind: 'marker', offset: rec.offset, marker: decodeMarker(m) };
    const header = rec.headers[H_ORIGIN];
    if (header === undefined) throw new Error(`record lacks the ${H_ORIGIN} header Weir writes between stages`);
    const { edge, now, ...origin } = decodeEnvelope(header);
    const value: unknown = rec.value === null ? null : JSON.parse(rec.value.toString('utf8'));
    return { kind: 'data', offset: rec.offset, origin, edge, key: keyIdOf(rec.key), value, now, rec };
  } catch (err) {
    return { kind: 'bad', offset: rec.offset, error: describeError(err), rec };
  }
}

/**
 * A batch of a non-source stage's partition (DESIGN.md section 5):
 * read every key the batch touches or whose timers fall due, apply records in order in
 * memory (skipping those at or below the key's fence), fire timers as in-band watermarks
 * pass them, then hand back one write per changed key, the timer index changes and the
 * new progress. Nothing is written here; the executor writes in the safe order.
 */
export async function runShuffleBatch(
  router: StageRouter,
  operators: ReadonlyMap<number, KeyedOperator>,
  state: StateStore,
  scope: string,
  topic: string,
  partition: number,
  records: readonly KafkaRecord[],
  before: Progress,
): Promise<ShuffleBatchResult> {
  const stage = router.stage;
  const myLane = laneId(stage.id, topic, partition);
  const out = new Outputs(myLane, partition, router.plan.dlqTopic);
  const counts: Partial<Record<MetricName, number>> = {};
  const count = (m: MetricName, n = 1): void => void (counts[m] = (counts[m] ?? 0) + n);
  const items = records.map(parse);
  const expected = new Set(stage.lanes);

  // Pass 1: how far watermark and processing time get in this batch, to read due keys up front.
  const lanes: Record<string, LaneState> = structuredClone(before.lanes);
  const applyMarker = (m: Marker): void => {
    if (!expected.has(m.lane)) return;
    const prev = lanes[m.lane];
    lanes[m.lane] = { wm: Math.max(prev?.wm ?? -Infinity, m.wm), idle: m.idle };
  };
  const activate = (lane: string): void => {
    const prev = lanes[lane];
    if (prev?.idle) lanes[lane] = { wm: prev.wm, idle: false };
  };
  const wm0 = combineLanes(stage.lanes, lanes).wm;
  let maxWm = wm0;
  let maxNow = before.now;
  for (const it of items) {
    if (it.kind === 'marker') {
      applyMarker(it.marker);
      maxWm = Math.max(maxWm, combineLanes(stage.lanes, lanes).wm);
      if (it.marker.now !== undefined) maxNow = Math.max(maxNow, it.marker.now);
    } else if (it.kind === 'data') {
      activate(it.origin.lane);
      maxNow = Math.max(maxNow, it.now);
    }
  }
  if (maxWm === Infinity) maxNow = Infinity;

  const keyed = stage.keyed;
  // Processing time moves with every batch (markers carry it); only a stage that can set
  // processing-time timers reads, fires and clears them (two DynamoDB queries a batch otherwise).
  const processingTimers = keyed && stageHasProcessingTimers(stage, router.nodes);
  const keys = new Map<string, KeyState>();
  const due: TimerEntry[] = [];
  if (keyed) {
    const wanted = new Set<string>();
    for (const it of items) if (it.kind === 'data' && it.key !== null) wanted.add(it.key);
    if (maxWm > wm0) due.push(...(await state.dueTimers(scope, 'event', maxWm)));
    if (processingTimers && maxNow > before.now) due.push(...(await state.dueTimers(scope, 'processing', maxNow)));
    for (const d of due) wanted.add(d.key);
    const stored = wanted.size ? await state.getMany(scope, [...wanted]) : new Map();
    count('stateReads', wanted.size);
    for (const k of wanted) keys.set(k, loadKey(k, stored.get(k)));
  }
  const nextOf = (ks: KeyState, d: TimeDomain): number | undefined => {
    let next: number | undefined;
    for (const [id, op] of operators) {
      const t = op.nextTimer(ks.ops[id], d);
      if (t !== undefined && (next === undefined || t < next)) next = t;
    }
    return next;
  };
  const timersBefore = new Map<string, Record<TimeDomain, number | undefined>>();
  for (const ks of keys.values()) timersBefore.set(ks.key, { event: nextOf(ks, 'event'), processing: nextOf(ks, 'processing') });

  // Pass 2: apply in order.
  const live: Record<string, LaneState> = structuredClone(before.lanes);
  const progress: Progress = { ...before, lanes: live, fences: { ...before.fences } };
  let wm = wm0;
  let now = before.now;
  out.now = now;
  const dirty = new Set<string>();

  const ctxFor = (ks: KeyState, nodeId: number): KeyedContext => {
    const node = router.node(nodeId);
    return {
      stage: stage.id,
      key: ks.key,
      watermark: wm,
      now,
      emit: (value, timestamp, cause) => router.push(out, nodeId, { value, timestamp, key: ks.key }, cause),
      late: (el: Element, cause: Cause) => {
        count('lateRecords');
        if (node.kind === 'window' && node.lateSink) router.sink(out, node.lateSink, el, cause);
      },
      count: (m) => count(m),
    };
  };

  const fireTimers = (domain: TimeDomain, upTo: number): void => {
    const queue: Array<[number, string]> = [];
    for (const ks of keys.values()) {
      const t = nextOf(ks, domain);
      if (t !== undefined && t <= upTo) queue.push([t, ks.key]);
    }
    const order = (a: [number, string], b: [number, string]): number => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0);
    queue.sort(order);
    // A head index and binary insertion: shift() and a linear search made firing quadratic
    // in the keys due (8,000 keys of a sliding window took 20 s).
    for (let head = 0; head < queue.length; head++) {
      const [t, key] = queue[head] as [number, string];
      const ks = keys.get(key) as KeyState;
      for (const [id, op] of operators) {
        const nt = op.nextTimer(ks.ops[id], domain);
        if (nt === undefined || nt > t) continue;
        ks.ops[id] = op.onTimer(ctxFor(ks, id), ks.ops[id], domain, t);
        if (ks.ops[id] === undefined) delete ks.ops[id];
      }
      dirty.add(key);
      const again = nextOf(ks, domain);
      if (again !== undefined && again <= upTo) {
        const next: [number, string] = [again, key];
        let lo = head + 1;
        let hi = queue.length;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (order(queue[mid] as [number, string], next) <= 0) lo = mid + 1;
          else hi = mid;
        }
        queue.splice(lo, 0, next);
      }
    }
  };

  const dlq = (offset: number, rec: KafkaRecord, error: string): void => {
    out.dlq({ stage: stage.id, topic, partition, offset, error, key: rec.key, value: rec.value, timestamp: rec.timestamp });
    count('dlqRecords');
  };

  for (const it of items) {
    out.at(it.offset);
    if (it.kind === 'bad') {
      dlq(it.offset, it.rec, it.error);
      continue;
    }
    if (it.kind === 'marker') {
      const m = it.marker;
      if (expected.has(m.lane)) live[m.lane] = { wm: Math.max(live[m.lane]?.wm ?? -Infinity, m.wm), idle: m.idle };
      if (m.now !== undefined) now = Math.max(now, m.now);
      out.now = now;
      const next = combineLanes(stage.lanes, live).wm;
      if (next > wm) {
        wm = next;
        if (keyed) fireTimers('event', wm);
      }
      if (wm === Infinity) now = Infinity;
      if (processingTimers) fireTimers('processing', now);
      continue;
    }
    count('recordsIn');
    if (it.now > now) {
      now = it.now;
      out.now = now;
      if (processingTimers) fireTimers('processing', now);
    }
    const prevLane = live[it.origin.lane];
    if (prevLane?.idle) live[it.origin.lane] = { wm: prevLane.wm, idle: false };
    const targets = stage.entries[it.edge];
    if (!targets) {
      dlq(it.offset, it.rec, `record names edge ${it.edge}, which does not feed stage ${stage.id}; was the pipeline changed while records were in flight?`);
      continue;
    }
    const cause = causeOf(`${stage.id}/${it.origin.lane}/${it.origin.offset}/${it.origin.seq}`);
    const el: Element = { value: it.value, timestamp: it.rec.timestamp, key: it.key };
    if (!keyed) {
      if (!originAfter(it.origin, progress.fences[it.origin.lane])) {
        count('duplicatesSkipped');
        continue;
      }
      progress.fences[it.origin.lane] = [it.origin.offset, it.origin.seq];
      const mark = out.mark();
      try {
        for (const t of targets) router.deliver(out, router.node(t), el, cause);
      } catch (err) {
        if (!(err instanceof RecordError)) throw err;
        out.rollback(mark);
        dlq(it.offset, it.rec, describeError(err));
      }
      continue;
    }
    if (it.key === null) {
      dlq(it.offset, it.rec, `keyed stage ${stage.id} got a record without a key`);
      continue;
    }
    const ks = keys.get(it.key) as KeyState;
    if (!originAfter(it.origin, ks.fence[it.origin.lane])) {
      count('duplicatesSkipped');
      continue;
    }
    ks.fence[it.origin.lane] = [it.origin.offset, it.origin.seq];
    dirty.add(ks.key);
    const mark = out.mark();
    const saved = { ...ks.ops };
    try {
      for (const t of targets) {
        const op = operators.get(t);
        if (!op) throw new Error(`stage ${stage.id}: operator #${t} is not keyed`);
        ks.ops[t] = op.onElement(ctxFor(ks, t), ks.ops[t], el, cause);
        if (ks.ops[t] === undefined) delete ks.ops[t];
      }
    } catch (err) {
      if (!(err instanceof RecordError)) throw err;
      out.rollback(mark);
      ks.ops = saved;
      dlq(it.offset, it.rec, describeError(err));
    }
  }

  const last = records[records.length - 1];
  if (last) progress.offsetDone = last.offset;
  progress.now = now;
  const status = combineLanes(stage.lanes, live);
  if (status.wm !== before.emitted.wm || status.idle !== before.emitted.idle || now > before.now) {
    out.markers(stage.outputs, { lane: myLane, wm: status.wm, idle: status.idle, ...(Number.isFinite(now) ? { now } : {}) }, markerTimestamp(status.wm, now));
    progress.emitted = status;
  }

  // Index entries: one for each key whose earliest timer changed, or that still holds a
  // timer at or before where time got to (registered in the past: it fires at the next
  // advance). An entry is never at or below that point, so clearing up to it after the
  // commit only drops entries whose timers have fired.
  const reached: Record<TimeDomain, number> = { event: wm, processing: now };
  const keyWrites: KeyWrite[] = [];
  const timerAdds: TimerEntry[] = [];
  for (const ks of keys.values()) {
    if (dirty.has(ks.key)) keyWrites.push({ key: ks.key, expectedVersion: ks.version, data: serializeKey(ks) });
    const was = timersBefore.get(ks.key);
    for (const d of DOMAINS) {
      const want = nextOf(ks, d);
      if (want === undefined) continue;
      if (want !== was?.[d] || want <= reached[d]) timerAdds.push({ domain: d, time: Math.max(want, reached[d] + 1), key: ks.key });
    }
  }
  const clearUpTo: Partial<Record<TimeDomain, number>> = {};
  if (wm > wm0) clearUpTo.event = wm;
  if (processingTimers && now > before.now) clearUpTo.processing = now;
  return { outputs: out, progress, keyWrites, timerAdds, clearUpTo, counts };
}
