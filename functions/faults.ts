import type { CrashPoint, FaultHook } from '../shared/runtime/executor';
import { prng } from '../shared/local/chaos';

/**
 * Local chaos inside a stage process: at seeded points the process kills itself with
 * SIGKILL, as a Lambda sandbox dies mid-invocation. Only set by the local emulator.
 */
export function selfKillingFaults(seed: number, rate = 0.05): FaultHook {
  const rand = prng(seed ^ process.pid);
  return (_point: CrashPoint) => {
    if (rand() < rate) process.kill(process.pid, 'SIGKILL');
  };
}
