import type { Pipeline } from '../api/pipeline';
import type { FunctionSinkSpec, SinkRecord } from '../api/sinks';
import type { SinkRow } from './ports';

export type FunctionSinks = ReadonlyMap<string, FunctionSinkSpec<unknown>>;

/** The pipeline's function sinks by name: every SinkWriter that runs the pipeline needs them. */
export function functionSinksOf(p: Pipeline): Map<string, FunctionSinkSpec<unknown>> {
  const out = new Map<string, FunctionSinkSpec<unknown>>();
  for (const n of p.nodes()) if (n.kind === 'sink' && n.sink.kind === 'function') out.set(n.sink.name, n.sink);
  return out;
}

/** Sink rows split into each function sink's records (in order) and the rest (tables). */
export function splitFunctionRows(rows: readonly SinkRow[], functions: FunctionSinks): { calls: Array<[FunctionSinkSpec<unknown>, SinkRecord<unknown>[]]>; rest: SinkRow[] } {
  const calls = new Map<string, [FunctionSinkSpec<unknown>, SinkRecord<unknown>[]]>();
  const rest: SinkRow[] = [];
  for (const r of rows) {
    const fn = functions.get(r.sink);
    if (!fn) {
      rest.push(r);
      continue;
    }
    let call = calls.get(r.sink);
    if (!call) calls.set(r.sink, (call = [fn, []]));
    call[1].push({ id: r.id, key: r.key, value: r.value, timestamp: r.timestamp });
  }
  return { calls: [...calls.values()], rest };
}
