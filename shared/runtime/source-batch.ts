import type { GraphNode } from '../api/graph';
import { decodeValue } from '../api/serde';
import type { RecordMeta } from '../api/types';
import { laneId } from '../plan/types';
import { causeOf } from './element';
import { describeError, RecordError } from './errors';
import { keyIdOf } from './keys';
import type { KafkaRecord } from './msk-event';
import { Outputs } from './outputs';
import type { Progress } from './progress';
import { callUser, type StageRouter } from './router';

type SourceNode = Extract<GraphNode, { kind: 'source' }>;

export interface SourceBatchResult {
  readonly outputs: Outputs;
  readonly progress: Progress;
  readonly recordsIn: number;
  readonly dlq: number;
}

/**
 * A source partition's batch: decode, run the chained operators, track the bounded
 * out-of-orderness watermark, and end with a marker on every output partition.
 */
export function runSourceBatch(router: StageRouter, source: SourceNode, partition: number, records: readonly KafkaRecord[], before: Progress, now: number): SourceBatchResult {
  const stage = router.stage;
  const topic = source.source.topic;
  const out = new Outputs(laneId(stage.id, topic, partition), partition, router.plan.dlqTopic, router.limits);
  const progress: Progress = { ...before, lanes: {}, fences: {} };
  progress.now = Math.max(progress.now, now);
  out.now = progress.now;
  const et = source.source.eventTime;
  let dlq = 0;
  for (const rec of records) {
    out.at(rec.offset);
    const mark = out.mark();
    try {
      const value = decodeSourceValue(source, rec);
      const key = keyIdOf(rec.key);
      // The metadata object only when user code asks for it (one per record otherwise).
      const meta = (): RecordMeta => ({ topic, partition, offset: rec.offset, timestamp: rec.timestamp, key, keyBytes: rec.key, headers: rec.headers });
      const element = source.source.withMetadata ? { value, meta: meta() } : value;
      const ts = et?.timestamp ? callUser(source, () => (et.timestamp as (v: unknown, m: RecordMeta) => number)(value, meta())) : rec.timestamp;
      if (!Number.isFinite(ts)) throw new RecordError('RECORD_UNDECODABLE', `source "${topic}": event timestamp is not a finite number (${String(ts)})`);
      router.push(out, source.id, { value: element, timestamp: ts, key }, causeOf(`${stage.id}/${topic}/${partition}/${rec.offset}`));
      // A record that ends in the dead-letter topic does not move event time: its timestamp may be as broken as its value.
      if (et) progress.maxTs = Math.max(progress.maxTs, ts);
    } catch (err) {
      if (!(err instanceof RecordError)) throw err;
      out.rollback(mark);
      out.dlq({ stage: stage.id, topic, partition, offset: rec.offset, error: describeError(err), key: rec.key, value: rec.value, timestamp: rec.timestamp });
      dlq++;
    }
  }
  const last = records[records.length - 1];
  if (last) progress.offsetDone = last.offset;
  if (records.length) progress.lastActivity = now;
  const wm = et && progress.maxTs > -Infinity ? progress.maxTs - et.outOfOrdernessMs - 1 : -Infinity;
  // Always a marker: it carries the watermark, re-activates a lane the ticker marked idle, and moves processing time.
  out.markers(stage.outputs, { lane: laneId(stage.id, topic, partition), wm, idle: false, now: progress.now }, markerTimestamp(wm, now));
  progress.emitted = { wm, idle: false };
  return { outputs: out, progress, recordsIn: records.length, dlq };
}

function decodeSourceValue(source: SourceNode, rec: KafkaRecord): unknown {
  if (rec.value === null) {
    throw new RecordError('RECORD_UNDECODABLE', `source "${source.source.topic}": record has no value (tombstone)`);
  }
  try {
    return decodeValue(source.source.serde, rec.value);
  } catch (err) {
    throw new RecordError('RECORD_UNDECODABLE', `source "${source.source.topic}": ${(err as Error).message}`, err);
  }
}

export function markerTimestamp(wm: number, now: number): number {
  if (Number.isFinite(wm) && wm > 0) return wm;
  return Number.isFinite(now) && now > 0 ? now : 0;
}
