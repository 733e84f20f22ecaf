import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { WeirError } from '../../runtime/errors';

export class InvocationError extends WeirError {
  constructor(
    readonly kind: 'timeout' | 'crash' | 'function-error' | 'init-error',
    message: string,
  ) {
    super('USER_FUNCTION_FAILED', message, { retriable: true });
  }
}

type Reply = { type: 'ready'; initMs: number } | { type: 'init-error' | 'error'; id?: string; error: { name?: string; message?: string } } | { type: 'result'; id: string; result: unknown };

/**
 * Runs a stage bundle as Lambda would, in a child process kept warm between invocations.
 * A timeout or crash kills the sandbox (SIGKILL); the next invocation starts a new one.
 */
export class BundleInvoker {
  private child: ChildProcess | undefined;
  private ready: Promise<void> | undefined;
  /** Cold-start times seen, in ms (bundle load + client setup happen lazily at first call). */
  readonly initMs: number[] = [];
  invocations = 0;

  constructor(
    private readonly bundleFile: string,
    private readonly env: Readonly<Record<string, string>>,
    private readonly functionName: string,
    private readonly timeoutMs = 60_000,
  ) {}

  async invoke(event: unknown): Promise<unknown> {
    const child = await this.sandbox();
    this.invocations++;
    const id = randomUUID();
    return new Promise((resolveResult, reject) => {
      const done = (fn: () => void): void => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        fn();
      };
      const onMessage = (m: Reply): void => {
        if (m.type === 'result' && m.id === id) done(() => resolveResult(m.result));
        if (m.type === 'error' && m.id === id) done(() => reject(new InvocationError('function-error', `${this.functionName}: ${m.error.name}: ${m.error.message}`)));
      };
      const onExit = (code: number | null, signal: string | null): void => {
        this.child = undefined;
        this.ready = undefined;
        done(() => reject(new InvocationError('crash', `${this.functionName}: sandbox exited (${signal ?? code}) during the invocation`)));
      };
      const timer = setTimeout(() => {
        this.kill();
        done(() => reject(new InvocationError('timeout', `${this.functionName}: timed out after ${this.timeoutMs} ms`)));
      }, this.timeoutMs);
      child.on('message', onMessage);
      child.on('exit', onExit);
      child.send({ id, event, timeoutMs: this.timeoutMs, functionName: this.functionName });
    });
  }

  /** Kills the sandbox now, as a fault would. */
  kill(): void {
    const c = this.child;
    this.child = undefined;
    this.ready = undefined;
    c?.kill('SIGKILL');
  }

  private async sandbox(): Promise<ChildProcess> {
    if (!this.ready) {
      const child = fork(join(__dirname, 'runner.cjs'), [this.bundleFile], { env: { ...process.env, ...this.env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
      this.child = child;
      this.ready = new Promise<void>((ok, fail) => {
        const onMessage = (m: Reply): void => {
          if (m.type === 'ready') {
            this.initMs.push(m.initMs);
            child.off('message', onMessage);
            ok();
          } else if (m.type === 'init-error') fail(new InvocationError('init-error', `${this.functionName}: could not load ${this.bundleFile}: ${m.error.message}`));
        };
        child.on('message', onMessage);
        child.once('exit', (code) => fail(new InvocationError('init-error', `${this.functionName}: sandbox exited during init (${code})`)));
      });
      this.ready.catch(() => {
        this.ready = undefined;
        this.child = undefined;
      });
    }
    await this.ready;
    return this.child as ChildProcess;
  }
}
