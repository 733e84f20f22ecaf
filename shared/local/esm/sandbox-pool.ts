import { prng } from '../chaos';
import { InvocationError } from './invoker';
import type { FunctionInvoker } from './lambda-api-invoker';

/**
 * How invocations find a sandbox:
 * - lambda: any idle sandbox (a seeded random one), a new one when none is idle and the
 *   concurrency limit allows, else the first to become idle; as Lambda does, so a partition's
 *   batches move between sandboxes and a sandbox serves several partitions;
 * - pinned: one sandbox per partition (and one for control events), for comparison only: it
 *   hides every bug of state a container keeps from one invocation to the next.
 */
export type Routing = 'lambda' | 'pinned';

export interface SandboxPoolOptions {
  /** @default 'lambda' */
  readonly routing?: Routing;
  /** Sandboxes at most (a function's reserved concurrency); lambda routing only. @default unlimited */
  readonly maxConcurrency?: number;
  /** Seed of the choice among idle sandboxes. @default 1 */
  readonly seed?: number;
}

/** An invocation's outcome and the sandbox (numbered 1, 2, ... in creation order) that ran it. */
export type PoolInvocation = { readonly sandbox: number } & ({ readonly ok: true; readonly result: unknown } | { readonly ok: false; readonly error: unknown });

interface Sandbox {
  readonly id: number;
  readonly invoker: FunctionInvoker;
  readonly pin: string;
  busy: boolean;
}

/**
 * The sandboxes of one function. A sandbox stays warm after a handled error (the function
 * threw), as in Lambda, so whatever state the error left in its clients meets the next
 * invocation, whichever batch that is; it is only replaced when its process died (crash,
 * SIGKILL, timeout) or failed to start.
 */
export class SandboxPool {
  private readonly sandboxes: Sandbox[] = [];
  private readonly waiting: Array<{ readonly pin: string; readonly take: (s: Sandbox) => void }> = [];
  private readonly rand: () => number;
  private created = 0;
  /** Cold-start times of every sandbox so far, in ms. */
  readonly initMs: number[] = [];

  constructor(
    private readonly create: () => FunctionInvoker,
    private readonly options: SandboxPoolOptions = {},
  ) {
    this.rand = prng(options.seed ?? 1);
  }

  /** Invokes `event` in a sandbox; `pin` names the partition (only pinned routing uses it). */
  async invoke(event: unknown, pin: string): Promise<PoolInvocation> {
    const s = this.tryAcquire(pin) ?? (await new Promise<Sandbox>((take) => this.waiting.push({ pin, take })));
    try {
      const result = await s.invoker.invoke(event);
      return { sandbox: s.id, ok: true, result };
    } catch (error) {
      if (!(error instanceof InvocationError && error.kind === 'function-error')) this.discard(s);
      return { sandbox: s.id, ok: false, error };
    } finally {
      s.busy = false;
      this.handOver();
    }
  }

  /** Kills every sandbox (the emulator stops). */
  stop(): void {
    for (const s of [...this.sandboxes]) this.discard(s);
  }

  private tryAcquire(pin: string): Sandbox | undefined {
    const s = this.options.routing === 'pinned' ? this.pinned(pin) : this.anyIdle();
    if (s) s.busy = true;
    return s;
  }

  private pinned(pin: string): Sandbox | undefined {
    const s = this.sandboxes.find((x) => x.pin === pin);
    if (s) return s.busy ? undefined : s;
    return this.add(pin);
  }

  private anyIdle(): Sandbox | undefined {
    const idle = this.sandboxes.filter((s) => !s.busy);
    if (idle.length) return idle[Math.floor(this.rand() * idle.length)];
    return this.sandboxes.length < (this.options.maxConcurrency ?? Number.POSITIVE_INFINITY) ? this.add('') : undefined;
  }

  private add(pin: string): Sandbox {
    const s: Sandbox = { id: ++this.created, invoker: this.create(), pin, busy: false };
    this.sandboxes.push(s);
    return s;
  }

  /** First come, first served: a waiter is never overtaken by one that came later. */
  private handOver(): void {
    for (let i = 0; i < this.waiting.length; ) {
      const w = this.waiting[i] as (typeof this.waiting)[number];
      const s = this.tryAcquire(w.pin);
      if (!s) {
        i++;
        continue;
      }
      this.waiting.splice(i, 1);
      w.take(s);
    }
  }

  private discard(s: Sandbox): void {
    const i = this.sandboxes.indexOf(s);
    if (i < 0) return;
    this.sandboxes.splice(i, 1);
    this.initMs.push(...s.invoker.initMs);
    s.invoker.kill();
  }
}
