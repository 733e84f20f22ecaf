import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runEmbedded } from '../../shared/local/embedded';
import { runLocal, type LocalRunResult } from '../../shared/local/local-run';
import type { OutputRecord } from '../../shared/local/output-file';
import { planPipeline } from '../../shared/plan/planner';
import type { ExampleName } from '../reference/types';
import { multiPartitionWithinBound } from '../reference/generators';
import { dedupById, example } from '../support/examples';
import { dlqOfRun, recordValidation, type ReliabilityRow } from '../support/reliability';
import { validate } from '../support/validator';

// A service of the local stack dies mid-run and comes back: the bounded local run (MSK
// trigger emulator, stage bundles, real Kafka and DynamoDB Local) must ride it out and give
// exactly the embedded runtime's output, as local-run.test.ts checks for a calm run.
jest.setTimeout(300_000);

const ROOT = resolve(__dirname, '../..');
const PARTITIONS = 3;
const BATCH_SIZE = 5;
const file = (name: string): string => resolve(ROOT, 'examples', `${name}.ts`);
const norm = (outs: readonly OutputRecord[]): string[] => dedupById(outs).map((o) => JSON.stringify([o.topic, o.partition, o.key, o.value, o.timestamp, o.headers])).sort();

interface Script {
  /** Resolves once the script has printed a line matching `until` (rejects if it exits first). */
  readonly reached: Promise<void>;
  /** Resolves with the output when the script exits with 0, rejects otherwise. */
  readonly exited: Promise<string>;
}

/** Runs `bash scripts/local/<args>` from the repository, killed after `timeoutMs`. */
function localScript(args: readonly string[], env: Readonly<Record<string, string>>, timeoutMs: number, until?: RegExp): Script {
  const child = spawn('bash', [join(ROOT, 'scripts/local', ...args.slice(0, 1)), ...args.slice(1)], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let reach: () => void = () => undefined;
  let unreachable: (err: Error) => void = () => undefined;
  const reached = new Promise<void>((ok, fail) => {
    reach = ok;
    unreachable = fail;
  });
  const onData = (d: Buffer): void => {
    out += d.toString('utf8');
    if (until?.test(out)) reach();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const exited = new Promise<string>((ok, fail) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const err = new Error(`scripts/local/${args.join(' ')} exited with ${signal ?? code}:\n${out}`);
      if (!until || until.test(out)) reach();
      else unreachable(err);
      if (code === 0) ok(out);
      else fail(err);
    });
  });
  if (!until) reach();
  // Whoever awaits these sees the failure; unawaited ones must not crash the test process.
  reached.catch(() => undefined);
  exited.catch(() => undefined);
  return { reached, exited };
}

/**
 * Breaks a service once, through runLocal's onInvocation hook, after `nth` batches of
 * `stage`: starts the restart script and lets the run go on only once the service is down,
 * so the next invocations meet the outage. Records where in the schedule it happened.
 */
class MidRunRestart {
  /** Batches delivered (all stages) when the service went down / was back; total at the end. */
  downAt = 0;
  backAt = 0;
  total = 0;
  private stageBatches = 0;
  private script: Script | undefined;

  constructor(
    private readonly stage: string,
    private readonly nth: number,
    private readonly args: readonly string[],
    private readonly env: Readonly<Record<string, string>> = {},
  ) {}

  readonly hook = async (stage: string, count: number): Promise<void> => {
    this.total = count;
    if (stage !== this.stage || ++this.stageBatches !== this.nth) return;
    const script = localScript(this.args, this.env, 120_000, /: stopped\n/);
    this.script = script;
    void script.exited.then(
      () => (this.backAt = this.total),
      () => undefined,
    );
    await script.reached;
    this.downAt = count;
  };

  /** The restart script's output, once it has finished (it must have started). */
  async finished(): Promise<string> {
    if (!this.script) throw new Error(`the fault was never injected: stage ${this.stage} delivered ${this.stageBatches} batches, fewer than ${this.nth}`);
    return this.script.exited;
  }

  /** Waits for the restart script, if any, whatever its outcome: the service is back (or the script timed out). */
  async settled(): Promise<void> {
    await this.script?.exited.catch(() => undefined);
  }
}

/** The last stage of a pipeline: the keyed one of these examples (state, timers, fences). */
function keyedStage(name: ExampleName): string {
  const stages = planPipeline(example(name), { defaultPartitions: PARTITIONS }).stages;
  return (stages[stages.length - 1] as (typeof stages)[number]).id;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((ok) => server.close(() => ok()));
  return port;
}

async function faultRun(name: ExampleName, seed: number, fault: MidRunRestart, row: Pick<ReliabilityRow, 'row' | 'injected' | 'test'>, dynamoEndpoint?: string): Promise<void> {
  const p = example(name);
  const input = multiPartitionWithinBound(name, seed, 300, PARTITIONS);
  const embedded = await runEmbedded(p, input, { partitions: PARTITIONS, batchSize: BATCH_SIZE });
  const started = Date.now();
  let local: LocalRunResult;
  try {
    local = await runLocal(p, file(name), input, {
      partitions: PARTITIONS,
      batchSize: BATCH_SIZE,
      onInvocation: fault.hook,
      // Fail with the run's own error well before jest's time-out would hide it.
      timeoutMs: 200_000,
      ...(dynamoEndpoint ? { dynamoEndpoint } : {}),
    });
  } finally {
    // Even when the run failed: the next test must not start while the service restarts.
    await fault.settled();
  }
  await fault.finished();
  process.stderr.write(
    `[faults-local] ${name}: ${fault.total} batches, service down after batch ${fault.downAt}, back after batch ${fault.backAt}; ` +
      `${local.invocations} invocations, ${local.failures} failed, ${local.outputs.length} outputs; ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
  // The fault really hit the run in the middle: batches were delivered before the service
  // went down and after it was back, and invocations failed meanwhile and were retried.
  expect(fault.downAt).toBeGreaterThan(0);
  expect(fault.backAt).toBeGreaterThanOrEqual(fault.downAt);
  expect(fault.backAt).toBeLessThan(fault.total);
  expect(local.failures).toBeGreaterThan(0);
  expect(local.outputs.length).toBeGreaterThan(0);
  const v = validate(embedded.outputs, local.outputs);
  recordValidation(v, { ...row, recordsIn: input.length, dlq: dlqOfRun(local), outcome: `exact: ${v.expected} results equal the calm embedded run; ${fault.total} batches, the service was down after batch ${fault.downAt} of them` });
  expect(v.lost).toEqual([]);
  expect(v.duplicated).toEqual([]);
  expect(v.unexpected).toEqual([]);
  expect(norm(local.outputs)).toEqual(norm(embedded.outputs));
}

describe('local run under service faults', () => {
  it('gives the embedded runtime output when the Kafka broker is killed (SIGKILL) and restarted mid-run', async () => {
    // Same data dir: topics, records and committed offsets survive, as on a real broker.
    // The pause makes the outage outlast kafkajs' own retries inside the stage function
    // (about 16 s), so invocations fail and the emulator's retries are what carries the run.
    const name: ExampleName = 'windowed-wordcount';
    await faultRun(name, 51, new MidRunRestart(keyedStage(name), 40, ['restart-one.sh', 'kafka', '--hard', '--pause', '8']), {
      row: '7a',
      injected: 'SIGKILL of the broker after the keyed stage\'s 40th batch (bounded local run), restarted 8 s later on the same data dir',
      test: 'test/integration/faults-local.test.ts: Kafka broker',
    });
  });

  describe('with its own DynamoDB Local, persisted on disk', () => {
    // The shared DynamoDB Local (port 8000) runs in memory: a restart loses every table, so
    // this test starts a second one with -dbPath in a scratch dir (its own pid file and log)
    // and restarts only that one.
    let dir = '';
    let env: Record<string, string> = {};

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'weir-faults-dynamodb-'));
      env = { WEIR_LOCAL_DIR: dir, WEIR_DYNAMODB_DB_PATH: join(dir, 'db'), WEIR_DYNAMODB_PORT: String(await freePort()) };
      await localScript(['restart-one.sh', 'dynamodb'], env, 120_000).exited;
    });

    afterAll(async () => {
      if (!dir) return;
      try {
        await localScript(['down.sh', 'dynamodb'], env, 60_000).exited;
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('gives the embedded runtime output when DynamoDB Local is killed (SIGKILL) and restarted mid-run', async () => {
      // The pause makes the outage outlast the DynamoDB adapter's own retries (8-16 s).
      const name: ExampleName = 'wordcount';
      await faultRun(name, 52, new MidRunRestart(keyedStage(name), 40, ['restart-one.sh', 'dynamodb', '--hard', '--pause', '15'], env), {
        row: '7b',
        injected: 'SIGKILL of DynamoDB Local (persisted on disk) after the keyed stage\'s 40th batch, restarted 15 s later',
        test: 'test/integration/faults-local.test.ts: DynamoDB Local',
      }, `http://127.0.0.1:${env.WEIR_DYNAMODB_PORT}`);
    });
  });
});
