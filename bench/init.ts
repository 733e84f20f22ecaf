import { fork } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

export interface ColdStart {
  /** Node's own start-up before the probe's first line (process.uptime). */
  readonly bootMs: number;
  /** require() of the bundle: parsing and running its top-level code. */
  readonly requireMs: number;
  /** The first invocation, `{ weir: 'init' }`: building the clients. */
  readonly initEventMs: number;
  /** fork() to the probe's report, as the parent saw it. */
  readonly wallMs: number;
}

export interface ColdStartSummary {
  readonly samples: number;
  /** Median of require + init event: the function's own cold init (what the target is about). */
  readonly initMs: number;
  readonly requireMs: number;
  readonly initEventMs: number;
  readonly bootMs: number;
  readonly wallMs: number;
  readonly maxInitMs: number;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? ((s[(s.length - 1) >> 1] as number) + (s[s.length >> 1] as number)) / 2 : Number.NaN;
};

function probe(bundleFile: string, env: Readonly<Record<string, string>>): Promise<ColdStart> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = fork(join(__dirname, 'init-probe.cjs'), [bundleFile], { env: { ...process.env, ...env }, execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`init probe of ${bundleFile} timed out`));
    }, 30_000);
    child.once('message', (m: { bootMs: number; requireMs: number; initEventMs: number } | { error: string }) => {
      const wallMs = performance.now() - started;
      clearTimeout(timer);
      if ('error' in m) reject(new Error(`init probe of ${bundleFile}: ${m.error}`));
      else resolve({ ...m, wallMs });
    });
    child.once('exit', (code) => {
      if (code !== 0) {
        clearTimeout(timer);
        reject(new Error(`init probe of ${bundleFile} exited ${code}`));
      }
    });
  });
}

/** `n` cold starts of a bundle, one fresh process each, one after another. */
export async function measureColdStarts(bundleFile: string, env: Readonly<Record<string, string>>, n: number): Promise<ColdStartSummary> {
  const all: ColdStart[] = [];
  for (let i = 0; i < n; i++) all.push(await probe(bundleFile, env));
  const init = all.map((c) => c.requireMs + c.initEventMs);
  return {
    samples: n,
    initMs: median(init),
    requireMs: median(all.map((c) => c.requireMs)),
    initEventMs: median(all.map((c) => c.initEventMs)),
    bootMs: median(all.map((c) => c.bootMs)),
    wallMs: median(all.map((c) => c.wallMs)),
    maxInitMs: Math.max(...init),
  };
}
