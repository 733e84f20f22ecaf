/**
 * What Weir adds to the records it writes. Every record between stages carries its origin
 * (lane, input offset, sequence within that offset); watermark markers are records with
 * the marker header and no value, never handed to user code or sinks.
 */
export const H_ORIGIN = 'weir-origin';
export const H_MARKER = 'weir-marker';
export const H_ID = 'weir-id';

export interface Origin {
  readonly lane: string;
  readonly offset: number;
  readonly seq: number;
}

/**
 * Everything a record between stages carries besides its key and value, in one header
 * (`lane|offset|seq|edge|now`): the operator edge it feeds and the writer's processing time
 * ride with the origin, because kafkajs encodes each header separately and the shuffle is
 * the hottest path (one record per word in a word count).
 */
export interface Envelope extends Origin {
  /** The upstream operator whose output this is (which downstream operator takes it). */
  readonly edge: number;
  /** Processing time of the stage that wrote the record; -inf when it had none. */
  readonly now: number;
}

export function encodeEnvelope(e: Envelope): string {
  return `${e.lane}|${e.offset}|${e.seq}|${e.edge}|${Number.isFinite(e.now) ? e.now : ''}`;
}

export function decodeEnvelope(s: string): Envelope {
  const [lane, offset, seq, edge, now] = s.split('|');
  const o = Number(offset);
  const q = Number(seq);
  const e = Number(edge);
  if (!lane || !Number.isFinite(o) || !Number.isFinite(q) || edge === undefined || edge === '' || !Number.isInteger(e)) {
    throw new Error(`malformed ${H_ORIGIN} header "${s.slice(0, 80)}": expected lane|offset|seq|edge|now`);
  }
  return { lane, offset: o, seq: q, edge: e, now: now ? Number(now) : -Infinity };
}

/** A watermark marker: lane `lane` promises no record older than `wm` follows. */
export interface Marker {
  readonly lane: string;
  readonly wm: number;
  readonly idle: boolean;
  /** Processing time carried by a ticker marker. */
  readonly now?: number;
}

const INF = 'inf';
const NEG_INF = '-inf';

export function encodeTime(t: number): string {
  return t === Infinity ? INF : t === -Infinity ? NEG_INF : String(t);
}
export function decodeTime(s: string): number {
  return s === INF ? Infinity : s === NEG_INF ? -Infinity : Number(s);
}

export function encodeMarker(m: Marker): string {
  return [m.lane, encodeTime(m.wm), m.idle ? '1' : '0', m.now === undefined ? '' : String(m.now)].join('|');
}

export function decodeMarker(s: string): Marker {
  const [lane, wm, idle, now] = s.split('|');
  if (!lane || wm === undefined) throw new Error(`malformed ${H_MARKER} header "${s}"`);
  return { lane, wm: decodeTime(wm), idle: idle === '1', ...(now ? { now: Number(now) } : {}) };
}

/** Origins along one lane only grow; compares (offset, seq). */
export function originAfter(a: { offset: number; seq: number }, fence: readonly [number, number] | undefined): boolean {
  if (!fence) return true;
  return a.offset > fence[0] || (a.offset === fence[0] && a.seq > fence[1]);
}
