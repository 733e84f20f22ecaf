import { laneId } from '../plan/types';
import { causeOf, type Cause, type Element } from './element';
import { describeError, RecordError } from './errors';
import type { KafkaRecord } from './msk-event';
import type { KeyedContext, KeyedOperator, TimeDomain } from './operators/keyed-operator';
import { Outputs } from './outputs';
import type { MetricName } from './ports';
import { combineLanes, type LaneState } from './progress';
import type { StageRouter } from './router';
import { parseItem, TICK_LANE } from './shuffle-items';
import { markerTimestamp } from './source-batch';
import type { KeyOps, PartitionState } from './state/partition-state';
import { originAfter } from './wire';

export interface ShuffleBatchResult {
  readonly outputs: Outputs;
  /** Keys whose state this batch changed (or deleted): the commit's contents. */
  readonly changed: ReadonlySet<string>;
  readonly counts: Partial<Record<MetricName, number>>;
}

type MutableContext = { -readonly [K in keyof KeyedContext]: KeyedContext[K] };


/**
 * A batch of a non-source stage's partition (DESIGN.md section 5), applied in place to the
 * partition's state as this environment holds it: records in order (skipping those at or
 * below their lane's fence), timers fired as in-band watermarks and processing time pass
 * them. Nothing is written here; the executor produces the outputs and then commits the
 * changed keys with the progress, and drops the state if any of that fails.
 */
export function runShuffleBatch(
  router: StageRouter,
  operators: ReadonlyMap<number, KeyedOperator>,
  ps: PartitionState,
  topic: string,
  partition: number,
  records: readonly KafkaRecord[],
): ShuffleBatchResult {
  const stage = router.stage;
  const myLane = laneId(stage.id, topic, partition);
  const out = new Outputs(myLane, partition, router.plan.dlqTopic, router.limits);
  const counts: Partial<Record<MetricName, number>> = {};
  const count = (m: MetricName, n = 1): void => void (counts[m] = (counts[m] ?? 0) + n);
  const progress = ps.progress;
  const live: Record<string, LaneState> = progress.lanes;
  const keyed = stage.keyed;
  const processingTimers = keyed && router.processingTimers;
  const changed = new Set<string>();
  const floor = progress.emitted.wm;
  let wm = combineLanes(stage.lanes, live, floor).wm;
  let now = progress.now;
  const nowBefore = now;
  out.now = now;

  const dlq = (offset: number, rec: KafkaRecord | undefined, error: string): void => {
    out.dlq({ stage: stage.id, topic, partition, offset, error, key: rec?.key ?? null, value: rec?.value ?? null, timestamp: rec?.timestamp ?? markerTimestamp(wm, now) });
    count('dlqRecords');
  };

  // One context per operator and batch, its key and times set before each call: building
  // one with five closures per record was a tenth of a keyed stage's time (more in the
  // bundles, which keep function names).
  const contexts = new Map<number, MutableContext>();
  let firingAt: number | undefined;
  const ctxFor = (key: string, nodeId: number): KeyedContext => {
    let c = contexts.get(nodeId);
    if (!c) {
      const node = router.node(nodeId);
      const self: MutableContext = {
        stage: stage.id,
        key,
        watermark: wm,
        now,
        emit: (value, timestamp, cause) => router.push(out, nodeId, { value, timestamp, key: self.key }, cause),
        late: (el: Element, cause: Cause) => {
          count('lateRecords');
          if (node.kind === 'window' && node.lateSink) router.sink(out, node.lateSink, el, cause);
        },
        count: (m) => count(m),
        // While a timer fires, a user function's error is that firing's (to the DLQ); else the record's.
        fail: (err, what) => {
          if (firingAt === undefined) throw err;
          count('firingErrors');
          dlq(firingAt, undefined, `stage ${stage.id}, operator "${node.name}", key ${JSON.stringify(self.key).slice(0, 120)}, ${what}: ${describeError(err)}`);
        },
      };
      contexts.set(nodeId, (c = self));
    }
    c.key = key;
    c.watermark = wm;
    c.now = now;
    return c;
  };

  const write = (key: string, ops: KeyOps): void => {
    ps.set(key, ops);
    changed.add(key);
  };

  // Timers fire in (time, key) order from the partition's queue. Operators catch a user
  // function that throws while firing and report it through `fail`, so one bad key's
  // window goes to the DLQ while the other keys' results are unaffected.
  const fireTimers = (domain: TimeDomain, upTo: number, offset: number): void => {
    for (let due = ps.due(domain, upTo); due; due = ps.due(domain, upTo)) {
      const [t, key] = due;
      const ops: KeyOps = { ...(ps.keys.get(key) ?? {}) };
      for (const [id, op] of operators) {
        const nt = op.nextTimer(ops[id], domain);
        if (nt === undefined || nt > t) continue;
        firingAt = offset;
        ops[id] = op.onTimer(ctxFor(key, id), ops[id], domain, t);
        firingAt = undefined;
        if (ops[id] === undefined) delete ops[id];
      }
      write(key, ops);
    }
  };

  for (const rec of records) {
    const it = parseItem(rec, router.lanes);
    out.at(rec.offset);
    if (!it) continue;
    if (it.kind === 'bad') {
      dlq(it.offset, it.rec, it.error);
      continue;
    }
    if (it.kind === 'marker') {
      const m = it.marker;
      if (m.lane !== TICK_LANE) live[m.lane] = { wm: Math.max(live[m.lane]?.wm ?? -Infinity, m.wm), idle: m.idle };
      if (m.now !== undefined) now = Math.max(now, m.now);
      out.now = now;
      const next = combineLanes(stage.lanes, live, wm).wm;
      if (next > wm) {
        wm = next;
        if (keyed) fireTimers('event', wm, it.offset);
      }
      if (wm === Infinity) now = Infinity;
      out.now = now;
      if (processingTimers) fireTimers('processing', now, it.offset);
      continue;
    }
    count('recordsIn');
    if (it.now > now) {
      now = it.now;
      out.now = now;
      if (processingTimers) fireTimers('processing', now, it.offset);
    }
    const prevLane = live[it.origin.lane];
    if (prevLane?.idle) live[it.origin.lane] = { wm: prevLane.wm, idle: false };
    const targets = stage.entries[it.edge];
    if (!targets) {
      dlq(it.offset, it.rec, `record names edge ${it.edge}, which does not feed stage ${stage.id}; was the pipeline changed while records were in flight?`);
      continue;
    }
    // With one commit per batch, a lane's fence is the whole partition's: any record at or
    // below it was applied by a committed batch (an upstream retry wrote it again).
    if (!originAfter(it.origin, progress.fences[it.origin.lane])) {
      count('duplicatesSkipped');
      continue;
    }
    progress.fences[it.origin.lane] = [it.origin.offset, it.origin.seq];
    const cause = causeOf(`${stage.id}/${it.origin.lane}/${it.origin.offset}/${it.origin.seq}`);
    const el: Element = { value: it.value, timestamp: it.rec.timestamp, key: it.key };
    const mark = out.mark();
    if (!keyed) {
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
    const ops: KeyOps = { ...(ps.keys.get(it.key) ?? {}) };
    try {
      for (const t of targets) {
        const op = operators.get(t);
        if (!op) throw new Error(`stage ${stage.id}: operator #${t} is not keyed`);
        ops[t] = op.onElement(ctxFor(it.key, t), ops[t], el, cause);
        if (ops[t] === undefined) delete ops[t];
      }
      write(it.key, ops);
    } catch (err) {
      if (!(err instanceof RecordError)) throw err;
      out.rollback(mark);
      dlq(it.offset, it.rec, describeError(err));
    }
  }

  const last = records[records.length - 1];
  if (last) progress.offsetDone = last.offset;
  progress.now = now;
  const status = combineLanes(stage.lanes, live, wm);
  if (status.wm !== progress.emitted.wm || status.idle !== progress.emitted.idle || now > nowBefore) {
    out.markers(stage.outputs, { lane: myLane, wm: status.wm, idle: status.idle, ...(Number.isFinite(now) ? { now } : {}) }, markerTimestamp(status.wm, now));
    progress.emitted = status;
  }
  return { outputs: out, changed, counts };
}

