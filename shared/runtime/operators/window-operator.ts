import type { GraphNode } from '../../api/graph';
import type { Json, TimeWindow } from '../../api/types';
import { causeOf, type Cause, type Element } from '../element';
import { RecordError } from '../errors';
import { callUser } from '../router';
import { assignSliding, assignTumbling, intersects, maxTimestamp } from '../windows/assign';
import { countWindowOperator } from './count-window-operator';
import type { KeyedContext, KeyedOperator, TimeDomain } from './keyed-operator';

type WindowNode = Extract<GraphNode, { kind: 'window' }>;

/** One open time window of a key: bounds, accumulator and how often it has fired. */
interface OpenWindow {
  s: number;
  e: number;
  acc: Json;
  f: number;
}

/**
 * Flink's WindowOperator for time windows (tumbling, sliding, session) in event or
 * processing time, with the EventTimeTrigger, allowed lateness and a late side output:
 *
 *   wm:  ----------|e-1|--------------|e-1+lateness|------>
 *        collect    fire once          late records re-fire    cleanup; later records are late
 */
export function windowOperator(node: WindowNode, stage: string): KeyedOperator {
  const a = node.assigner;
  if (a.kind === 'count' || a.kind === 'global') return countWindowOperator(node, stage);
  const domain: TimeDomain = a.time;
  const lateness = domain === 'event' ? node.allowedLatenessMs : 0;
  const agg = node.aggregate;

  const assign = (t: number): TimeWindow[] => {
    if (a.kind === 'tumbling') return assignTumbling(t, a.sizeMs, a.offsetMs);
    if (a.kind === 'sliding') return assignSliding(t, a.sizeMs, a.slideMs, a.offsetMs);
    return [{ start: t, end: t + a.gapMs }];
  };
  const progress = (ctx: KeyedContext): number => (domain === 'event' ? ctx.watermark : ctx.now);
  const isLate = (ctx: KeyedContext, w: TimeWindow): boolean => domain === 'event' && maxTimestamp(w) + lateness <= ctx.watermark;

  const fire = (ctx: KeyedContext, w: OpenWindow): void => {
    const window = { start: w.s, end: w.e };
    const firing = w.f;
    w.f++;
    let result: unknown;
    try {
      result = callUser(node, () => node.result(ctx.key, agg.getResult(w.acc), window));
    } catch (err) {
      if (!(err instanceof RecordError)) throw err;
      ctx.fail(err, `window [${w.s}, ${w.e}) firing ${firing}`);
      return;
    }
    ctx.emit(result, w.e - 1, causeOf(`${stage}/${node.name}/${ctx.key}/${w.s}-${w.e}/${firing}`));
    ctx.count('windowsFired');
  };
  const add = (value: unknown, acc: Json): Json => callUser(node, () => agg.add(value, acc));

  return {
    onElement(ctx, state, el: Element, cause: Cause) {
      const open = [...((state as OpenWindow[] | undefined) ?? [])].map((w) => ({ ...w }));
      const t = domain === 'event' ? el.timestamp : ctx.now;
      if (a.kind === 'session') {
        const fresh: TimeWindow = { start: t, end: t + a.gapMs };
        const overlapping = open.filter((w) => intersects({ start: w.s, end: w.e }, fresh));
        const merged: OpenWindow = {
          s: Math.min(fresh.start, ...overlapping.map((w) => w.s)),
          e: Math.max(fresh.end, ...overlapping.map((w) => w.e)),
          acc: agg.createAccumulator(),
          f: Math.max(0, ...overlapping.map((w) => w.f)),
        };
        if (isLate(ctx, { start: merged.s, end: merged.e })) {
          ctx.late(el, cause);
          return state;
        }
        for (const w of overlapping) merged.acc = callUser(node, () => agg.merge(merged.acc, w.acc));
        merged.acc = add(el.value, merged.acc);
        const rest = open.filter((w) => !overlapping.includes(w));
        rest.push(merged);
        if (domain === 'event' && merged.e - 1 <= progress(ctx)) fire(ctx, merged);
        return rest;
      }
      let placed = false;
      for (const w of assign(t)) {
        if (isLate(ctx, w)) continue;
        placed = true;
        let slot = open.find((o) => o.s === w.start && o.e === w.end);
        if (!slot) {
          slot = { s: w.start, e: w.end, acc: agg.createAccumulator(), f: 0 };
          open.push(slot);
        }
        slot.acc = add(el.value, slot.acc);
        if (domain === 'event' && slot.e - 1 <= ctx.watermark) fire(ctx, slot);
      }
      if (!placed) {
        ctx.late(el, cause);
        return state;
      }
      return open;
    },

    onTimer(ctx, state, timerDomain, time) {
      if (timerDomain !== domain || !state) return state;
      const open = (state as OpenWindow[]).map((w) => ({ ...w })).sort((x, y) => x.e - y.e || x.s - y.s);
      const kept: OpenWindow[] = [];
      for (const w of open) {
        if (w.f === 0 && w.e - 1 <= time) fire(ctx, w);
        if (w.e - 1 + lateness > time) kept.push(w);
      }
      return kept.length ? kept : undefined;
    },

    nextTimer(state, timerDomain) {
      if (timerDomain !== domain || !state) return undefined;
      let next: number | undefined;
      for (const w of state as OpenWindow[]) {
        const t = w.f === 0 ? w.e - 1 : w.e - 1 + lateness;
        if (next === undefined || t < next) next = t;
      }
      return next;
    },
  };
}
