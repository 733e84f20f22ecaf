import type { GraphNode } from '../../api/graph';
import type { Json } from '../../api/types';
import { causeOf } from '../element';
import { callUser } from '../router';
import type { KeyedOperator } from './keyed-operator';

type WindowNode = Extract<GraphNode, { kind: 'window' }>;

interface CountState {
  /** Elements seen since the last purge. */
  n: number;
  /** Firings so far (names each firing's weir-id). */
  fires: number;
  acc?: Json;
  /** Sliding count windows keep the last `size` elements with their timestamps. */
  buf?: Array<[Json, number]>;
  min?: number;
  max?: number;
}

/**
 * Count windows (Flink's `countWindow(size[, slide])`: GlobalWindows + CountTrigger,
 * purging when tumbling, a CountEvictor when sliding) and global windows with a count trigger.
 * They fire on elements only, so they have no timers.
 */
export function countWindowOperator(node: WindowNode, stage: string): KeyedOperator {
  const a = node.assigner;
  if (a.kind !== 'count' && a.kind !== 'global') throw new Error(`operator "${node.name}" is not a count window`);
  const agg = node.aggregate;
  const every = a.kind === 'count' ? a.slide : a.trigger.count;
  const purge = a.kind === 'count' ? a.slide === a.size : a.trigger.purge;
  const evictTo = a.kind === 'count' && a.slide !== a.size ? a.size : undefined;

  return {
    onElement(ctx, state, el, _cause) {
      const s: CountState = state ? { ...(state as CountState) } : { n: 0, fires: 0 };
      s.n++;
      s.min = Math.min(s.min ?? el.timestamp, el.timestamp);
      s.max = Math.max(s.max ?? el.timestamp, el.timestamp);
      if (evictTo !== undefined) {
        s.buf = [...(s.buf ?? []), [el.value as Json, el.timestamp] as [Json, number]].slice(-evictTo);
      } else {
        s.acc = callUser(node, () => agg.add(el.value, s.acc === undefined ? agg.createAccumulator() : s.acc));
      }
      if (s.n % every !== 0) return s;
      let acc = s.acc;
      let window = { start: s.min, end: s.max + 1 };
      if (s.buf) {
        acc = s.buf.reduce<Json>((x, [v]) => callUser(node, () => agg.add(v, x)), agg.createAccumulator());
        window = { start: Math.min(...s.buf.map(([, t]) => t)), end: Math.max(...s.buf.map(([, t]) => t)) + 1 };
      }
      const result = callUser(node, () => node.result(ctx.key, agg.getResult(acc as Json), window));
      ctx.emit(result, el.timestamp, causeOf(`${stage}/${node.name}/${ctx.key}/c${s.fires}`));
      ctx.count('windowsFired');
      s.fires++;
      if (purge) return { n: 0, fires: s.fires };
      return s;
    },
    onTimer: (_ctx, state) => state,
    nextTimer: () => undefined,
  };
}
