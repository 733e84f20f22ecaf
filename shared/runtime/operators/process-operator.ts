import type { GraphNode } from '../../api/graph';
import type { Collector, ListState, MapState, ProcessContext, StateSpec, TimerService, ValueState } from '../../api/state';
import type { Json } from '../../api/types';
import { causeOf, type Cause, type Element } from '../element';
import { RecordError } from '../errors';
import { callUser } from '../router';
import type { KeyedContext, KeyedOperator, TimeDomain } from './keyed-operator';

type ProcessNode = Extract<GraphNode, { kind: 'process' }>;

/** A value written at processing time `t` (for TTL). */
interface Stamped {
  v: Json;
  t: number;
}

interface ProcessState {
  /** value: Stamped; list: Stamped[]; map: Record<string, Stamped> */
  s: Record<string, Stamped | Stamped[] | Record<string, Stamped>>;
  te: number[];
  tp: number[];
}

const insertSorted = (xs: number[], t: number): number[] => (xs.includes(t) ? xs : [...xs, t].sort((a, b) => a - b));

/**
 * Flink's KeyedProcessFunction: per-key value, list and map state with processing-time
 * TTL (refreshed on write, expired entries never returned), and event/processing-time timers.
 */
export function processOperator(node: ProcessNode, stage: string): KeyedOperator {
  const spec: StateSpec = node.state;

  const run = (ctx: KeyedContext, st: ProcessState, timestamp: number, cause: Cause, body: (pctx: ProcessContext<StateSpec>, out: Collector<unknown>) => void): ProcessState => {
    const alive = (x: Stamped, ttl: number | undefined): boolean => ttl === undefined || ctx.now - x.t < ttl;
    const handles: Record<string, ValueState<Json> | ListState<Json> | MapState<Json>> = {};
    for (const [name, d] of Object.entries(spec)) {
      if (d.kind === 'value') {
        handles[name] = {
          value: () => {
            const x = st.s[name] as Stamped | undefined;
            return x && alive(x, d.ttlMs) ? x.v : undefined;
          },
          update: (v) => void (st.s[name] = { v, t: ctx.now }),
          clear: () => void delete st.s[name],
        } satisfies ValueState<Json>;
      } else if (d.kind === 'list') {
        const live = (): Stamped[] => ((st.s[name] as Stamped[] | undefined) ?? []).filter((x) => alive(x, d.ttlMs));
        handles[name] = {
          get: () => live().map((x) => x.v),
          add: (v) => void (st.s[name] = [...live(), { v, t: ctx.now }]),
          update: (vs) => void (st.s[name] = vs.map((v) => ({ v, t: ctx.now }))),
          clear: () => void delete st.s[name],
        } satisfies ListState<Json>;
      } else {
        const live = (): Record<string, Stamped> =>
          Object.fromEntries(Object.entries((st.s[name] as Record<string, Stamped> | undefined) ?? {}).filter(([, x]) => alive(x, d.ttlMs)));
        handles[name] = {
          get: (k) => live()[k]?.v,
          put: (k, v) => void (st.s[name] = { ...live(), [k]: { v, t: ctx.now } }),
          has: (k) => k in live(),
          remove: (k) => {
            const m = live();
            delete m[k];
            st.s[name] = m;
          },
          entries: () => Object.entries(live()).map(([k, x]) => [k, x.v] as [string, Json]),
          clear: () => void delete st.s[name],
        } satisfies MapState<Json>;
      }
    }
    const timers: TimerService = {
      currentWatermark: ctx.watermark,
      currentProcessingTime: ctx.now,
      registerEventTimeTimer: (t) => void (st.te = insertSorted(st.te, t)),
      registerProcessingTimeTimer: (t) => void (st.tp = insertSorted(st.tp, t)),
      deleteEventTimeTimer: (t) => void (st.te = st.te.filter((x) => x !== t)),
      deleteProcessingTimeTimer: (t) => void (st.tp = st.tp.filter((x) => x !== t)),
    };
    // Emitted only once the user function returned: one that throws emits nothing.
    const collected: Array<[unknown, number]> = [];
    const out: Collector<unknown> = { collect: (value, ts) => void collected.push([value, ts ?? timestamp]) };
    callUser(node, () => body({ key: ctx.key, timestamp, state: handles as ProcessContext<StateSpec>['state'], timers }, out));
    for (const [value, ts] of collected) ctx.emit(value, ts, cause);
    return st;
  };

  const load = (state: unknown): ProcessState => {
    const s = state as ProcessState | undefined;
    return s ? { s: structuredClone(s.s), te: [...s.te], tp: [...s.tp] } : { s: {}, te: [], tp: [] };
  };
  const result = (st: ProcessState): ProcessState | undefined => (Object.keys(st.s).length || st.te.length || st.tp.length ? st : undefined);

  return {
    onElement(ctx, state, el: Element, cause) {
      const st = run(ctx, load(state), el.timestamp, cause, (pctx, out) => node.fn.processElement(el.value, pctx, out));
      return result(st);
    },
    onTimer(ctx, state, domain: TimeDomain, time) {
      if (!state) return state;
      const st = load(state);
      const onTimer = node.fn.onTimer;
      for (;;) {
        const list = domain === 'event' ? st.te : st.tp;
        const t = list[0];
        if (t === undefined || t > time) break;
        if (domain === 'event') st.te = st.te.slice(1);
        else st.tp = st.tp.slice(1);
        if (onTimer) {
          const cause = causeOf(`${stage}/${node.name}/${ctx.key}/t${domain === 'event' ? 'e' : 'p'}${t}`);
          const before = { s: structuredClone(st.s), te: [...st.te], tp: [...st.tp] };
          try {
            run(ctx, st, t, cause, (pctx, out) => onTimer.call(node.fn, t, { ...pctx, timeDomain: domain }, out));
          } catch (err) {
            if (!(err instanceof RecordError)) throw err;
            // The state as it was before the failed firing, less the timer that fired.
            st.s = before.s;
            st.te = before.te;
            st.tp = before.tp;
            ctx.fail(err, `${domain}-time timer ${t}`);
          }
        }
      }
      return result(st);
    },
    nextTimer(state, domain) {
      const s = state as ProcessState | undefined;
      return domain === 'event' ? s?.te[0] : s?.tp[0];
    },
  };
}
