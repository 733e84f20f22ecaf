import { ConfigError } from '../shared/runtime/errors';

/**
 * Events a stage function takes besides MSK batches: the ticker's, the end of a bounded
 * source, and `init` (builds the clients of a fresh container and returns; for warm-up and
 * for measuring a cold start without sending a batch).
 */
export type ControlEvent = { readonly weir: 'tick' } | { readonly weir: 'finish'; readonly topic: string; readonly partition: number } | { readonly weir: 'init' };

/**
 * Set only by the local runtime's stage environment (shared/local/stage-env.ts). `finish`
 * moves a source partition's watermark to +infinity for good: deployed, one stray event (the
 * console's Test button) would stop every window of that partition from ever waiting again,
 * so only a bounded local run, which knows the input has ended, may send it.
 */
export const LOCAL_RUNTIME_ENV = 'WEIR_LOCAL_RUNTIME';

export function isControlEvent(e: unknown): e is ControlEvent {
  return typeof e === 'object' && e !== null && 'weir' in e;
}

/**
 * Checks a control event before the handler acts on it: an unknown kind, a `finish` with bad
 * fields, or a `finish` outside the local runtime is refused with the field at fault.
 */
export function checkControlEvent(e: ControlEvent, env: NodeJS.ProcessEnv): ControlEvent {
  const kind: unknown = e.weir;
  if (kind === 'tick' || kind === 'init') return e;
  if (kind !== 'finish') throw new ConfigError(`control event field "weir" must be "tick", "init" or "finish", got ${JSON.stringify(kind)}`);
  if (env[LOCAL_RUNTIME_ENV] !== '1') {
    throw new ConfigError(
      `control event {weir: 'finish'} is refused: it ends a source partition's event time for good and only the local runtime (weir run --local, which sets ${LOCAL_RUNTIME_ENV}=1) may send it; a deployed stage never needs it`,
    );
  }
  const f = e as { readonly topic?: unknown; readonly partition?: unknown };
  if (typeof f.topic !== 'string' || f.topic === '') throw new ConfigError(`control event {weir: 'finish'} field "topic" must be a topic name, got ${JSON.stringify(f.topic)}`);
  if (typeof f.partition !== 'number' || !Number.isInteger(f.partition) || f.partition < 0) {
    throw new ConfigError(`control event {weir: 'finish'} field "partition" must be a partition number, got ${JSON.stringify(f.partition)}`);
  }
  return e;
}
