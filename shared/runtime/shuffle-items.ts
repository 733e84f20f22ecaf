import { describeError } from './errors';
import { keyIdOf } from './keys';
import type { KafkaRecord } from './msk-event';
import { decodeEnvelope, decodeMarker, H_MARKER, H_ORIGIN, type Marker, type Origin } from './wire';

/** The lane name of the ticker's processing-time markers (they carry `now`, never a watermark). */
export const TICK_LANE = 'tick';

/** One record of a non-source stage's input, decoded once. */
export type Item =
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

/**
 * Decodes a record Weir wrote between stages. Internal topics are trusted only as far as
 * the plan allows (ARCHITECTURE.md, "Trust boundary"): a marker from a lane this stage does
 * not combine is ignored whole (its watermark and its processing time), and a data record
 * whose origin names such a lane, or an impossible position, goes to the DLQ instead of
 * moving a fence.
 */
export function parseItem(rec: KafkaRecord, lanes: ReadonlySet<string>): Item | undefined {
  try {
    const m = rec.headers[H_MARKER];
    if (m !== undefined) {
      const marker = decodeMarker(m);
      if (lanes.has(marker.lane)) return { kind: 'marker', offset: rec.offset, marker };
      if (marker.lane === TICK_LANE && marker.now !== undefined && Number.isFinite(marker.now)) return { kind: 'marker', offset: rec.offset, marker: { lane: TICK_LANE, wm: -Infinity, idle: true, now: marker.now } };
      return undefined;
    }
    const header = rec.headers[H_ORIGIN];
    if (header === undefined) throw new Error(`record lacks the ${H_ORIGIN} header Weir writes between stages`);
    const { edge, now, ...origin } = decodeEnvelope(header);
    if (!lanes.has(origin.lane)) throw new Error(`record's ${H_ORIGIN} names lane "${origin.lane}", which does not feed this stage partition; records on internal topics come only from the pipeline's stages`);
    if (!Number.isSafeInteger(origin.offset) || origin.offset < 0 || !Number.isSafeInteger(origin.seq) || origin.seq < 0) {
      throw new Error(`record's ${H_ORIGIN} has an impossible position ${origin.offset}/${origin.seq}`);
    }
    const value: unknown = rec.value === null ? null : JSON.parse(rec.value.toString('utf8'));
    return { kind: 'data', offset: rec.offset, origin, edge, key: keyIdOf(rec.key), value, now, rec };
  } catch (err) {
    return { kind: 'bad', offset: rec.offset, error: describeError(err), rec };
  }
}
