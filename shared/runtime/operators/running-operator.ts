import type { GraphNode } from '../../api/graph';
import type { Json } from '../../api/types';
import { callUser } from '../router';
import type { KeyedOperator } from './keyed-operator';

type RunningNode = Extract<GraphNode, { kind: 'running' }>;

/** A running aggregate per key (Flink's `keyBy().sum()` / `reduce()`): one output per input. */
export function runningOperator(node: RunningNode): KeyedOperator {
  const agg = node.aggregate;
  return {
    onElement(ctx, state, el, cause) {
      const before = state === undefined ? agg.createAccumulator() : (state as { acc: Json }).acc;
      const acc = callUser(node, () => agg.add(el.value, before));
      const out = callUser(node, () => node.result(ctx.key, agg.getResult(acc)));
      ctx.emit(out, el.timestamp, cause);
      return { acc };
    },
    onTimer: (_ctx, state) => state,
    nextTimer: () => undefined,
  };
}
