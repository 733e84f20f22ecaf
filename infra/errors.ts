import { ConfigError } from '../shared/runtime/errors';

/**
 * A WeirPipeline prop is wrong. The message names the prop, the value, what to do, and the
 * construct path, e.g.
 *   stages.s1.batchSize must be an integer in 1..10000, got 0: set a batch size the MSK event
 *   source mapping accepts [at Stack/Weir]
 */
export class WeirPropError extends ConfigError {
  readonly prop: string;
  readonly value: unknown;
  readonly path: string;
  constructor(path: string, prop: string, value: unknown, problem: string, fix: string) {
    super(`${prop} ${problem}, got ${show(value)}: ${fix} [at ${path}]`);
    this.prop = prop;
    this.value = value;
    this.path = path;
  }
}

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === undefined) return 'undefined';
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
