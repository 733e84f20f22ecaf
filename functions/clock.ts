import { readFileSync } from 'node:fs';
import { ConfigError } from '../shared/runtime/errors';
import type { Clock } from '../shared/runtime/ports';

/**
 * Names a file holding the processing time, set only by a bounded local run
 * (shared/local/replay-clock.ts). That run replays recorded input: its processing time is
 * the embedded runtime's, the largest input timestamp delivered so far, not the wall clock,
 * so processing-time windows and state TTL give the embedded run's results.
 */
export const REPLAY_CLOCK_ENV = 'WEIR_REPLAY_CLOCK_FILE';

/**
 * The stage's clock: the wall clock, or the replay clock when the local run names its file.
 * The file is read at every call because the run moves the clock between invocations while
 * this sandbox stays warm; it only moves while no invocation is in flight (lockstep).
 */
export function stageClock(env: NodeJS.ProcessEnv): Clock {
  const file = env[REPLAY_CLOCK_ENV];
  if (!file) return { now: () => Date.now() };
  return {
    now: () => {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        throw new ConfigError(`${REPLAY_CLOCK_ENV} names ${file}, which cannot be read (${(err as Error).message}); only weir run --local sets it`);
      }
      const t = Number(text.trim());
      // -Infinity is the clock before the first batch, as embedded; NaN or +Infinity is a broken file.
      if (Number.isNaN(t) || t === Number.POSITIVE_INFINITY) throw new ConfigError(`${REPLAY_CLOCK_ENV} file ${file} must hold a time in ms, got "${text.trim()}"`);
      return t;
    },
  };
}
