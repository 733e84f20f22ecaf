import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Pipeline } from '../../shared/api/pipeline';
import { planPipeline } from '../../shared/plan/planner';
import { BundleInvoker } from '../../shared/local/esm/invoker';
import type { InvocationReport } from '../../shared/local/esm/emulator';
import { localStageEnv } from '../../shared/local/stage-env';
import { prng } from '../../shared/local/chaos';
import { runEmbedded } from '../../shared/local/embedded';
import { localBrokers, localDynamoEndpoint } from '../../shared/local/endpoints';
import type { InputRecord } from '../../shared/local/input-file';
import { loadPipeline } from '../../shared/local/load-pipeline';
import { runLocal, type LocalRunOptions, type LocalRunResult } from '../../shared/local/local-run';
import type { OutputRecord } from '../../shared/local/output-file';
import { createKafka } from '../../shared/adapters/kafka/kafka-config';
import { multiPartitionWithinBound } from '../reference/generators';
import { expectedFinalResults } from '../reference/oracle';
import type { ExampleName } from '../reference/types';
import { DynamoProxy, INTERNAL, THROTTLE, THROTTLING, type Decide, type ProxiedRequest, type ProxyAction } from '../support/dynamo-proxy';
import { canonical, example } from '../support/examples';
import { readTopic } from '../support/kafka-read';
import { dlqOfRun, recordValidation } from '../support/reliability';
import { describeValidation, validate, type Validation } from '../support/validator';

// The fault matrix of issue #6 on the real local stack: each stage is its esbuild bundle,
// invoked by the MSK trigger emulator against the local Kafka broker and DynamoDB Local, in
// the bounded run's lockstep schedule (so the embedded runtime's calm run on the same input
// is the exact expected output). Faults are injected from outside the stage code: an
// in-process proxy in front of DynamoDB Local answers errors, holds requests, or SIGKILLs the
// stage process that sent one (before or after DynamoDB applied it); the emulator's own
// options redeliver batches, time invocations out and exhaust retries. Each test writes its
// row of docs/RELIABILITY.md.
jest.setTimeout(300_000);

const ROOT = resolve(__dirname, '../..');
const FILE = 'test/integration/faults-matrix.test.ts';
const file = (name: string): string => resolve(ROOT, 'examples', `${name}.ts`);

/** The source stage and the keyed stage of these two-stage examples. */
const SOURCE = 's0';
const KEYED = 's1';

/** Whether a DynamoDB request body belongs to `stage` of `pipeline` (its keys and scopes name it). */
const ofStage = (r: ProxiedRequest, pipeline: string, stage: string): boolean => r.body.includes(`"${pipeline}#${stage}#`);

/** A pipeline of examples/ by name, or a test fixture. */
type Subject = ExampleName | { readonly p: Pipeline; readonly file: string };
const subject = (s: Subject): { p: Pipeline; file: string } => (typeof s === 'string' ? { p: example(s), file: file(s) } : s);

interface CaseResult {
  readonly local: LocalRunResult;
  readonly validation: Validation;
  readonly proxy: DynamoProxy | undefined;
  /** The keyed stage's metrics, summed over its invocations (as each invocation's result reports them). */
  readonly keyed: Readonly<Record<string, number>>;
}

/**
 * Runs `name` on `input` locally (with faults from `decide` and `local`, and, with `pool`,
 * Lambda's routing of batches to any sandbox) and embedded (calm), and validates the local
 * sinks against the embedded ones.
 */
async function runCase(
  name: Subject,
  input: readonly InputRecord[],
  o: {
    partitions: number;
    batchSize: number;
    decide?: (runId: string) => Decide;
    setup?: (proxy: DynamoProxy) => void;
    local?: Partial<LocalRunOptions>;
    expected?: OutputRecord[];
    pool?: { size: (stage: string) => number; pick: (stage: string, size: number) => number; ready?: (pool: SandboxPool) => void };
  },
): Promise<CaseResult> {
  const { p, file: pipelineFile } = subject(name);
  const expected = o.expected ?? (await runEmbedded(p, input, { partitions: o.partitions, batchSize: o.batchSize })).outputs;
  if (typeof name === 'string' && o.expected === undefined) expectReference(name, input, expected);
  const runId = randomBytes(4).toString('hex');
  const proxy = o.decide ? new DynamoProxy(localDynamoEndpoint(), o.decide(runId)) : undefined;
  if (proxy) o.setup?.(proxy);
  const endpoint = proxy ? await proxy.start() : undefined;
  const pool = o.pool ? new SandboxPool(p, { runId, partitions: o.partitions, dynamoEndpoint: endpoint ?? localDynamoEndpoint(), size: o.pool.size, pick: o.pool.pick }) : undefined;
  const lambda = pool ? await pool.start() : undefined;
  if (pool) o.pool?.ready?.(pool);
  const keyed: Record<string, number> = {};
  const observe = (report: InvocationReport): void => {
    const metrics = (report.result as { metrics?: Record<string, number> } | null | undefined)?.metrics;
    if (report.stage === KEYED) for (const [k, v] of Object.entries(metrics ?? {})) keyed[k] = (keyed[k] ?? 0) + v;
    o.local?.esm?.onInvocation?.(report);
  };
  try {
    const local = await runLocal(p, pipelineFile, input, {
      partitions: o.partitions,
      batchSize: o.batchSize,
      runId,
      timeoutMs: 240_000,
      ...(endpoint ? { dynamoEndpoint: endpoint } : {}),
      ...o.local,
      esm: { ...o.local?.esm, ...(lambda ? { lambdaEndpoint: { url: lambda, functionName: (stage: string) => stage } } : {}), onInvocation: observe },
    });
    const validation = validate(expected, local.outputs);
    process.stderr.write(
      `[faults-matrix] ${p.name}: ${local.invocations} invocations, ${local.failures} failed, ${local.redeliveries} redelivered; injected ${JSON.stringify(proxy?.injected ?? {})}; keyed stage ${JSON.stringify(keyed)}; ${describeValidation(validation)}\n`,
    );
    return { local, validation, proxy, keyed };
  } finally {
    await pool?.stop();
    await proxy?.stop();
  }
}

function expectClean(v: Validation): void {
  expect(v.lost).toEqual([]);
  expect(v.duplicated).toEqual([]);
  expect(v.unexpected).toEqual([]);
  expect(v.expected).toBeGreaterThan(0);
}

/**
 * The calm embedded run is the same operators as the bundles: its outputs are pinned to the
 * independent reference, so a bug both share cannot pass as "the local run equals the embedded one".
 */
function expectReference(name: ExampleName, input: readonly InputRecord[], outputs: readonly OutputRecord[]): void {
  const ignoreTimestamps = name === 'wordcount';
  const reference = expectedFinalResults(name, [...input]).outputs.map((x) => ({ ...x, partition: 0, key: null, headers: {} }));
  expect(canonical(name, outputs, { ignoreTimestamps })).toEqual(canonical(name, reference, { ignoreTimestamps }));
}

/** Acts on the `nth` (1-based) request matching `match`, forwards everything else. */
function onNth(match: (r: ProxiedRequest) => boolean, plan: ReadonlyMap<number, ProxyAction>): Decide {
  let n = 0;
  return (r) => (match(r) ? (plan.get(++n) ?? { kind: 'forward' }) : { kind: 'forward' });
}

/** Many distinct words per batch, so a keyed batch changes hundreds of keys (one large commit) and the state grows to snapshots. */
function manyKeys(seed: number, lines: number, vocabulary: number): InputRecord[] {
  const rand = prng(seed);
  const word = (i: number): string => {
    let s = '';
    for (let x = i + 26; x > 0; x = Math.floor(x / 26)) s = String.fromCharCode(97 + (x % 26)) + s;
    return s;
  };
  const t0 = 1_700_000_000_000;
  return Array.from({ length: lines }, (_, i) => ({ timestamp: t0 + i, value: Array.from({ length: 2 }, () => word(Math.floor(rand() * vocabulary))).join(' ') }));
}

/** The keyed stage's commit points: the conditional PutItem of a slot of its partition's log (`log#<slot>`). */
const appendsOf =
  (pipelineName: string) =>
  (r: ProxiedRequest): boolean =>
    r.op === 'PutItem' && ofStage(r, pipelineName, KEYED) && r.body.includes('"sk":{"S":"log#');

/**
 * Lambda's routing, locally. The emulator keeps one sandbox per partition; Lambda lets any idle
 * sandbox take a partition's next batch, so a sandbox can hold a partition's state from several
 * commits ago (DESIGN.md section 5.4). This serves the Invoke API that the emulator's
 * `lambdaEndpoint` option calls (as for LocalStack) from a pool of sandboxes per stage, each the
 * stage bundle in a child process as the emulator runs it; `pick` chooses each invocation's.
 */
class SandboxPool {
  private server: Server | undefined;
  private readonly sandboxes = new Map<string, BundleInvoker[]>();
  private readonly env: Record<string, string>;
  private readonly pipelineName: string;

  constructor(
    p: Pipeline,
    private readonly o: { runId: string; partitions: number; dynamoEndpoint: string; size: (stage: string) => number; pick: (stage: string, size: number) => number },
  ) {
    const plan = planPipeline(p, { defaultPartitions: o.partitions });
    const prefix = `weir-${o.runId}-`;
    this.pipelineName = plan.pipeline;
    // What runLocal gives its stage processes (its bundles are built into build/<pipeline>/<stage>).
    this.env = localStageEnv({ brokers: localBrokers(), prefix, tables: { state: prefix + plan.tables.state, progress: prefix + plan.tables.progress }, dynamoEndpoint: o.dynamoEndpoint, partitions: o.partitions });
  }

  async start(): Promise<string> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const stage = decodeURIComponent(/\/functions\/([^/]+)\/invocations$/.exec(req.url ?? '')?.[1] ?? '');
        const event: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        this.sandbox(stage)
          .invoke(event)
          .then(
            (result) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result ?? null)),
            (err: unknown) => {
              const e = err instanceof Error ? err : new Error(String(err));
              res.writeHead(200, { 'content-type': 'application/json', 'x-amz-function-error': 'Unhandled' }).end(JSON.stringify({ errorType: e.name, errorMessage: e.message }));
            },
          );
      });
    });
    this.server = server;
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** Invocations each sandbox of `stage` served. */
  used(stage: string): number[] {
    return (this.sandboxes.get(stage) ?? []).map((s) => s.invocations);
  }

  /** SIGKILLs every sandbox of `stage` between invocations: the next ones start cold, as after Lambda recycled them all. */
  killAll(stage: string): void {
    for (const s of this.sandboxes.get(stage) ?? []) s.kill();
  }

  async stop(): Promise<void> {
    for (const list of this.sandboxes.values()) for (const s of list) s.kill();
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((ok) => server.close(() => ok()));
  }

  private sandbox(stage: string): BundleInvoker {
    let list = this.sandboxes.get(stage);
    if (!list) {
      const bundle = resolve('build', this.pipelineName, stage, 'index.js');
      list = Array.from({ length: Math.max(1, this.o.size(stage)) }, (_, i) => new BundleInvoker(bundle, this.env, `weir-${stage}-${i}`));
      this.sandboxes.set(stage, list);
    }
    return list[this.o.pick(stage, list.length) % list.length] as BundleInvoker;
  }
}

/** Values of 1000 characters that deflate cannot shrink below ~75 %: a hot key's commits and snapshots then go over PART_BYTES. */
function hotKeyInput(seed: number): InputRecord[] {
  const rand = prng(seed);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const value = (i: number): string => {
    let v = `${i}:`;
    while (v.length < 1000) v += alphabet[Math.floor(rand() * alphabet.length)];
    return v;
  };
  // 600 values in the first window (about 610 KB of state at the end), 150 in the next.
  return Array.from({ length: 750 }, (_, i) => ({ partition: 0, timestamp: i < 600 ? 1000 + i : 1_000_000 + i, value: value(i) }));
}
const HOT_KEY_TOTALS = [
  { key: 'hot', n: 600, chars: 600_000, windowStart: 0 },
  { key: 'hot', n: 150, chars: 150_000, windowStart: 1_000_000 },
];

describe('fault matrix on the local stack (real bundles, Kafka, DynamoDB Local)', () => {
  it('row 1: a successful batch delivered again (offset commit lost)', async () => {
    const name: ExampleName = 'windowed-wordcount';
    const input = multiPartitionWithinBound(name, 61, 240, 3);
    const r = await runCase(name, input, { partitions: 3, batchSize: 5, local: { esm: { rand: prng(61), redeliverRate: 0.4 } } });
    expect(r.local.redeliveries).toBeGreaterThan(5);
    expectClean(r.validation);
    recordValidation(r.validation, {
      row: '1',
      injected: 'emulator redelivers a finished batch with probability 0.4 (seeded), every stage',
      recordsIn: input.length,
      dlq: dlqOfRun(r.local),
      outcome: `exact: ${r.validation.expected} window results and late records; redelivered batches skipped by the progress record`,
      test: `${FILE}: row 1`,
    });
  });

  it('row 2a: stage process SIGKILLed when its commit (log append) arrives: outputs produced, commit not made', async () => {
    const name: ExampleName = 'wordcount';
    const input = manyKeys(62, 1200, 1000);
    // The keyed stage's batches change ~200 keys, all in one commit: one conditional PutItem of
    // the partition's next log slot (about 10 of them in the run). Kill the process when the
    // 2nd, 5th and 8th arrive: its outputs are produced and acked, the commit is never made.
    const plan = new Map<number, ProxyAction>([2, 5, 8].map((n) => [n, { kind: 'kill-before' }]));
    const decide = (): Decide => onNth(appendsOf(example(name).name), plan);
    const r = await runCase(name, input, { partitions: 2, batchSize: 250, decide });
    expect(r.proxy?.injected['kill-before']).toBe(3);
    expect(r.local.failures).toBeGreaterThanOrEqual(3);
    // The killed batches' outputs were produced, and produced again by the retries: same weir-ids.
    expect(r.validation.delivered).toBeGreaterThan(r.validation.distinct);
    expectClean(r.validation);
    recordValidation(r.validation, {
      row: '2a',
      injected: "DynamoDB proxy SIGKILLs the keyed stage process when its log append (the batch's one conditional PutItem) arrives, 3 times (batches of 250 records, ~200 changed keys per commit)",
      recordsIn: input.length,
      dlq: dlqOfRun(r.local),
      outcome: `exact: ${r.validation.expected} running counts; the retry restores the partition from its log, produces the same outputs again (same weir-ids) and commits`,
      test: `${FILE}: row 2a`,
    });
  });

  it('row 2b: stage process SIGKILLed after its commit (log append) was applied, before it returned', async () => {
    const name: ExampleName = 'windowed-wordcount';
    const input = multiPartitionWithinBound(name, 63, 240, 3);
    const plan = new Map<number, ProxyAction>([3, 9, 15, 21].map((n) => [n, { kind: 'kill-after' }]));
    const r = await runCase(name, input, { partitions: 3, batchSize: 5, decide: () => onNth(appendsOf(example(name).name), plan) });
    expect(r.proxy?.injected['kill-after']).toBe(4);
    expect(r.local.failures).toBeGreaterThanOrEqual(4);
    // Each retry finds its batch committed (the offsets in the commit): it skips the batch.
    expect(r.keyed.batchesSkipped).toBeGreaterThanOrEqual(4);
    expectClean(r.validation);
    recordValidation(r.validation, {
      row: '2b',
      injected: 'DynamoDB proxy SIGKILLs the keyed stage process after DynamoDB applied its log append (state, offsets, watermarks and fences durable), 4 times',
      recordsIn: input.length,
      dlq: dlqOfRun(r.local),
      outcome: `exact: ${r.validation.expected} window results and late records; the redelivered batch is skipped by the committed offsets`,
      test: `${FILE}: row 2b`,
    });
  });

  it('row 3: function timeout mid-batch, then retry', async () => {
    const name: ExampleName = 'windowed-wordcount';
    const input = multiPartitionWithinBound(name, 64, 240, 3);
    const commits = appendsOf(example(name).name);
    // The commit (log append) stalls longer than the function timeout: the emulator kills the sandbox at the
    // timeout (as Lambda does) and retries; the stalled request is dropped, never applied.
    const stall = (): ProxyAction => ({ kind: 'hold', until: () => new Promise((ok) => setTimeout(ok, 7000)), drop: true });
    const plan = new Map<number, ProxyAction>([
      [4, stall()],
      [12, stall()],
    ]);
    const r = await runCase(name, input, { partitions: 3, batchSize: 5, decide: () => onNth(commits, plan), local: { esm: { invokeTimeoutMs: 4000 } } });
    expect(r.proxy?.injected.hold).toBe(2);
    expect(r.local.failures).toBeGreaterThanOrEqual(2);
    expectClean(r.validation);
    recordValidation(r.validation, {
      row: '3',
      injected: 'DynamoDB proxy stalls the keyed commit (log append) for 7 s, the function timeout is 4 s: the emulator kills the sandbox and retries (twice)',
      recordsIn: input.length,
      dlq: dlqOfRun(r.local),
      outcome: `exact: ${r.validation.expected} window results and late records; the retry starts from the last durable state`,
      test: `${FILE}: row 3`,
    });
  });

  it('row 4: a stalled invocation resumes after its retry has finished (zombie): its late write is fenced', async () => {
    const name: ExampleName = 'windowed-wordcount';
    const input = multiPartitionWithinBound(name, 65, 240, 3);
    const pl = example(name).name;
    // The 5th keyed commit (log append) is held in the network; the invocation times out and is
    // retried, the retry commits the same seq; only then does the held put reach DynamoDB: the
    // slot's condition must refuse it.
    let release: () => void = () => undefined;
    const released = new Promise<void>((ok) => (release = ok));
    let heldScope: string | undefined;
    let n = 0;
    const appends = appendsOf(pl);
    const scopeOf = (r: ProxiedRequest): string => new RegExp(`"(${pl}#${KEYED}#\\d+)"`).exec(r.body)?.[1] ?? '?';
    const decide = (): Decide => (r) => {
      if (!appends(r)) return { kind: 'forward' };
      if (++n === 5) {
        heldScope = scopeOf(r);
        return { kind: 'hold', until: () => released };
      }
      return { kind: 'forward' };
    };
    const setup = (proxy: DynamoProxy): void => {
      proxy.onResponse.push((req, res) => {
        if (heldScope !== undefined && appends(req) && res.status === 200 && scopeOf(req) === heldScope) release();
      });
    };
    const r = await runCase(name, input, { partitions: 3, batchSize: 5, decide, setup, local: { esm: { invokeTimeoutMs: 4000 } } });
    expect(heldScope).toBeDefined();
    expect(heldScope).not.toBe('?');
    expectClean(r.validation);
    const zombie = r.proxy?.heldResults[0];
    expect(zombie?.response.status).toBe(400);
    expect(zombie?.response.body).toContain('ConditionalCheckFailedException');
    recordValidation(r.validation, {
      row: '4',
      injected: 'DynamoDB proxy holds a keyed commit (log append) until the retry of the timed-out invocation committed, then forwards it',
      recordsIn: input.length,
      dlq: dlqOfRun(r.local),
      outcome: `exact: ${r.validation.expected} window results; the zombie's append was refused by the log slot's condition (ConditionalCheckFailedException)`,
      test: `${FILE}: row 4`,
    });
  });

  it('row 6: an upstream stage retried after it produced (duplicates at new offsets downstream)', async () => {
    const name: ExampleName = 'windowed-wordcount';
    const input = multiPartitionWithinBound(name, 66, 240, 3);
    const pl = example(name).name;
    // The source stage writes its progress record after producing: killing it when that write
    // arrives makes the retry produce the batch's records again, at new offsets of the
    // repartition topic.
    const progressPuts = (r: ProxiedRequest): boolean => r.op === 'PutItem' && ofStage(r, pl, SOURCE);
    const plan = new Map<number, ProxyAction>([3, 8, 13, 21, 34].map((n) => [n, { kind: 'kill-before' }]));
    const r = await runCase(name, input, { partitions: 3, batchSize: 5, decide: () => onNth(progressPuts, plan) });
    expect(r.proxy?.injected['kill-before']).toBe(5);
    expectClean(r.validation);
    recordValidation(r.validation, {
      row: '6',
      injected: 'DynamoDB proxy SIGKILLs the source stage process when its progress write arrives (after producing), 5 times',
      recordsIn: input.length,
      dlq: dlqOfRun(r.local),
      outcome: `exact: ${r.validation.expected} window results and late records; the keyed stage's per-key fences skip the re-produced copies`,
      test: `${FILE}: row 6`,
    });
  });

  it('row 8: DynamoDB throttling and transient errors are retried, never dropped', async () => {
    const name: ExampleName = 'windowed-wordcount';
    const input = multiPartitionWithinBound(name, 68, 240, 3);
    const rand = prng(68);
    const faults = [THROTTLE, THROTTLING, INTERNAL];
    const decide = (): Decide => () => (rand() < 0.12 ? (faults[Math.floor(rand() * faults.length)] as ProxyAction) : { kind: 'forward' });
    const r = await runCase(name, input, { partitions: 3, batchSize: 5, decide });
    const injected = r.proxy?.injected ?? {};
    expect(injected.ProvisionedThroughputExceededException).toBeGreaterThan(5);
    expect(injected.ThrottlingException).toBeGreaterThan(5);
    expect(injected.InternalServerError).toBeGreaterThan(5);
    expectClean(r.validation);
    recordValidation(r.validation, {
      row: '8',
      injected: 'DynamoDB proxy answers 12 % of requests (seeded) with ProvisionedThroughputExceededException / ThrottlingException (HTTP 400) or InternalServerError (HTTP 500)',
      recordsIn: input.length,
      dlq: dlqOfRun(r.local),
      outcome: `exact: ${r.validation.expected} window results and late records; the SDK, the adapter and the emulator retry, nothing is dropped`,
      test: `${FILE}: row 8`,
    });
  });

  it('row 10: undecodable, oversized, wrong-schema and keyless records go to the DLQ with headers, no payload in logs, the partition goes on', async () => {
    const fixture = resolve(ROOT, 'test/fixtures/bad-input.ts');
    const p = loadPipeline(fixture);
    const t0 = 1_700_000_000_000;
    const rand = prng(70);
    const input: InputRecord[] = [];
    const bad = new Set<number>();
    const totals = new Map<string, number>();
    for (let i = 0; i < 200; i++) {
      const partition = i % 2;
      const timestamp = t0 + i * 37;
      const kind = i % 10 === 3 ? Math.floor(rand() * 4) : -1;
      const secret = `SECRET-PAYLOAD-${i}`;
      if (kind === 0) input.push({ partition, timestamp, value: `{"user": "${secret}", "n": ` });
      else if (kind === 1) input.push({ partition, timestamp, value: { secret, count: 'many' } });
      else if (kind === 2) input.push({ partition, timestamp, value: { user: 'u1', n: 1, pad: secret + 'x'.repeat(3000) } });
      else if (kind === 3) input.push({ partition, timestamp, value: { n: 5, note: secret } });
      else {
        const user = `u${Math.floor(rand() * 5)}`;
        const n = 1 + Math.floor(rand() * 9);
        input.push({ partition, timestamp, value: { user, n } });
        const k = JSON.stringify([user, Math.floor(timestamp / 1000) * 1000]);
        totals.set(k, (totals.get(k) ?? 0) + n);
        continue;
      }
      bad.add(i);
    }
    const capture = mkdtempSync(join(tmpdir(), 'weir-capture-'));
    try {
      const local = await runLocal(p, fixture, input, {
        partitions: 2,
        batchSize: 10,
        timeoutMs: 240_000,
        stageEnv: { WEIR_METRICS_NAMESPACE: 'WeirTest', NODE_OPTIONS: `--require ${resolve(__dirname, '../support/capture-output.cjs')}`, WEIR_TEST_CAPTURE_DIR: capture },
      });
      // Expected, from the input itself: one total per user and window; the bad records in the DLQ.
      const expected: OutputRecord[] = [...totals].map(([k, total]) => {
        const [user, windowStart] = JSON.parse(k) as [string, number];
        return { topic: 'user-totals', partition: null, key: user, value: { user, total, windowStart }, timestamp: windowStart + 999, headers: {} };
      });
      const sink = local.outputs.filter((o) => o.topic === 'user-totals');
      const v = validate(
        expected,
        sink.map((o) => ({ ...o, key: o.key })),
        { topics: ['user-totals'] },
      );
      const dlq = local.outputs.filter((o) => o.topic === 'bad-input-dlq');
      const dlqOffsets = new Set(dlq.map((o) => `${o.headers['weir-dlq-partition']}/${o.headers['weir-dlq-offset']}`));
      expect(dlqOffsets.size).toBe(bad.size);
      // Exactly the bad records (record i is on partition i % 2 at offset floor(i / 2)), not just as many.
      expect([...dlqOffsets].sort()).toEqual([...bad].map((i) => `${i % 2}/${Math.floor(i / 2)}`).sort());
      for (const o of dlq) {
        expect(o.headers['weir-dlq-stage']).toBe('s0');
        expect(o.headers['weir-dlq-topic']).toBe('events');
        expect(o.headers['weir-dlq-error']).toMatch(/not valid JSON|wrong schema|size limit|every record needs a key/);
        expect(o.headers['weir-dlq-error']).not.toContain('SECRET-PAYLOAD');
      }
      const logs = readdirSync(capture).map((f) => readFileSync(join(capture, f), 'utf8')).join('');
      expect(logs).toContain('invocation done');
      expect(logs).not.toContain('SECRET-PAYLOAD');
      expect(logs).not.toContain('"user"');
      process.stderr.write(`[faults-matrix] bad-input: ${describeValidation(v)}; ${dlq.length} in the DLQ\n`);
      expectClean(v);
      recordValidation(v, {
        row: '10',
        injected: `${bad.size} bad records among ${input.length} on 2 partitions: invalid JSON, a value over the pipeline's 2 KB limit (its map rejects it), wrong schema, keyBy returning null`,
        recordsIn: input.length,
        dlq: dlqOfRun(local),
        outcome: `exact: ${v.expected} window totals of the good records; all ${bad.size} bad records in the DLQ with stage/topic/partition/offset/error headers, no payload in the error header or the stage logs`,
        test: `${FILE}: row 10`,
      });
    } finally {
      rmSync(capture, { recursive: true, force: true });
    }
  });

  it('row 12: retries exhausted: the batch lands on the on-failure topic, the error alarm metric fires, the partition moves on', async () => {
    const name: ExampleName = 'windowed-wordcount';
    const input = multiPartitionWithinBound(name, 72, 240, 3);
    const pl = example(name).name;
    const BATCH = 5;
    // The first batch of source partition 1 cannot read its progress record (DynamoDB answers
    // 500) until the emulator has given up on it; everything else goes through.
    let healed = false;
    const decide = (): Decide => (r) => (!healed && r.op === 'GetItem' && r.body.includes(`"${pl}#${SOURCE}#lines#1"`) ? INTERNAL : { kind: 'forward' });
    const failedBatch = input.filter((x) => x.partition === 1).slice(0, BATCH);
    const rest = input.filter((x) => !failedBatch.includes(x));
    const expected = (await runEmbedded(example(name), rest, { partitions: 3, batchSize: BATCH })).outputs;
    expectReference(name, rest, expected);
    const capture = mkdtempSync(join(tmpdir(), 'weir-capture-'));
    try {
      const r = await runCase(name, input, {
        partitions: 3,
        batchSize: BATCH,
        decide,
        expected,
        local: {
          esm: { maxRetries: 2 },
          // Lockstep: partition 0's first batch, then partition 1's (the one that fails).
          onInvocation: (_stage, count) => void (count >= 2 && (healed = true)),
          stageEnv: { WEIR_METRICS_NAMESPACE: 'WeirTest', NODE_OPTIONS: `--require ${resolve(__dirname, '../support/capture-output.cjs')}`, WEIR_TEST_CAPTURE_DIR: capture },
        },
      });
      const kafka = createKafka({ brokers: [localBrokers()], clientId: 'weir-test-on-failure' });
      const failed = await readTopic(kafka, `weir-${r.local.runId}-${pl}-${SOURCE}-failed`);
      expect(failed.map((f) => [f.headers['weir-failed-partition'], f.headers['weir-failed-offset'], f.value?.toString('utf8')])).toEqual(
        failedBatch.map((x, i) => ['1', String(i), typeof x.value === 'string' ? x.value : JSON.stringify(x.value)]),
      );
      for (const f of failed) expect(f.headers['weir-failed-error']).not.toContain(String(f.value));
      // The alarm: the CDK construct alarms on the stage function's Errors (>= 1 in 5 min); each
      // failed attempt is an invocation error, logged by Powertools with an EMF metric line.
      expect(r.local.failures).toBeGreaterThanOrEqual(3);
      const logs = readdirSync(capture).map((f) => readFileSync(join(capture, f), 'utf8')).join('');
      const errors = logs.split('\n').filter((l) => l.includes('"invocation failed"'));
      expect(errors.length).toBeGreaterThanOrEqual(3);
      expect(logs).toContain('"CloudWatchMetrics"');
      for (const l of errors) for (const x of failedBatch) expect(l).not.toContain(String(x.value));
      expectClean(r.validation);
      recordValidation(r.validation, {
        row: '12',
        injected: "DynamoDB proxy fails the progress read of source partition 1's first batch (HTTP 500) until the emulator gives up (2 retries)",
        recordsIn: input.length,
        dlq: dlqOfRun(r.local),
        outcome: `the ${failedBatch.length} records of that batch are on the on-failure topic with their offsets; ${r.local.failures} invocation errors (the Errors alarm's metric) logged without payload; the rest exact (${r.validation.expected} results)`,
        test: `${FILE}: row 12`,
      });
    } finally {
      rmSync(capture, { recursive: true, force: true });
    }
  });

  it('row 11: a hot key whose state grows past the 400 KB item limit: its commits spill into logpart items, with a metric, no crash loop', async () => {
    const fixture = { p: loadPipeline(resolve(ROOT, 'test/fixtures/hot-key.ts')), file: resolve(ROOT, 'test/fixtures/hot-key.ts') };
    const input = hotKeyInput(71);
    const spilled = { logparts: 0, snapParts: 0 };
    // Observe only: which items the keyed stage's commits and snapshots went into.
    const decide = (): Decide => (r) => {
      if (r.op === 'PutItem' && ofStage(r, fixture.p.name, KEYED)) {
        if (r.body.includes('"sk":{"S":"logpart#')) spilled.logparts++;
        if (/"sk":\{"S":"snap#[^"]*#00001"/.test(r.body)) spilled.snapParts++;
      }
      return { kind: 'forward' };
    };
    const capture = mkdtempSync(join(tmpdir(), 'weir-capture-'));
    try {
      const r = await runCase(fixture, input, {
        partitions: 1,
        batchSize: 50,
        decide,
        local: { stageEnv: { WEIR_METRICS_NAMESPACE: 'WeirTest', NODE_OPTIONS: `--require ${resolve(__dirname, '../support/capture-output.cjs')}`, WEIR_TEST_CAPTURE_DIR: capture } },
      });
      expect(r.local.outputs.filter((o) => o.topic === 'hot-totals').map((o) => o.value)).toEqual(HOT_KEY_TOTALS);
      // Never a failed invocation (no crash loop); commits over PART_BYTES went into logpart
      // items (each under 400 KB, or DynamoDB would have refused them), snapshots into several parts.
      expect(r.local.failures).toBe(0);
      expect(spilled.logparts).toBeGreaterThan(0);
      expect(spilled.snapParts).toBeGreaterThan(0);
      // The metric says a key's state is large: in the invocations' results and in the published EMF lines.
      expect(r.keyed.largeStateKeys).toBeGreaterThan(0);
      const logs = readdirSync(capture).map((f) => readFileSync(join(capture, f), 'utf8')).join('');
      expect(logs.split('\n').filter((l) => l.includes('"CloudWatchMetrics"') && /"largeStateKeys":[1-9]/.test(l)).length).toBeGreaterThan(0);
      expectClean(r.validation);
      recordValidation(r.validation, {
        row: '11',
        injected: 'one key, a window that keeps every 1000-character (random, barely compressible) value: 600 values (~610 KB of state, ~450 KB deflated) then 150 in the next window, batches of 50',
        recordsIn: input.length,
        dlq: dlqOfRun(r.local),
        outcome: `exact: ${r.validation.expected} window results (n and size of every value); ${spilled.logparts} logpart items for the commits over 350 KB and multi-part snapshots, the largeStateKeys metric emitted, no failed invocation`,
        test: `${FILE}: row 11`,
      });
    } finally {
      rmSync(capture, { recursive: true, force: true });
    }
  });

  it('row 14: stale caches: several sandboxes handle one partition in turn', async () => {
    const name: ExampleName = 'windowed-wordcount';
    const input = multiPartitionWithinBound(name, 74, 240, 3);
    const rand = prng(74);
    // Three sandboxes of the keyed stage; each batch goes to one of them at random, whatever its
    // partition, as Lambda routes them. A sandbox that served a partition before holds its state
    // as of that batch: it must read the commits it missed, never commit over them.
    const pool = { size: (stage: string): number => (stage === KEYED ? 3 : 1), pick: (stage: string, size: number): number => (stage === KEYED ? Math.floor(rand() * size) : 0) };
    let sandboxes: SandboxPool | undefined;
    const r = await runCase(name, input, { partitions: 3, batchSize: 5, pool: { ...pool, ready: (p) => void (sandboxes = p) } });
    const used = sandboxes?.used(KEYED) ?? [];
    expect(used).toHaveLength(3);
    for (const n of used) expect(n).toBeGreaterThan(5);
    // Batches that caught a held partition up from the log (a stale cache), besides cold restores
    // (at most one per sandbox and partition) and batches on an up-to-date cache.
    const stale = (r.keyed.cacheMisses ?? 0) - (r.keyed.restores ?? 0);
    expect(stale).toBeGreaterThan(5);
    expect(r.keyed.restores).toBeLessThanOrEqual(9);
    expect(r.local.failures).toBe(0);
    expectClean(r.validation);
    recordValidation(r.validation, {
      row: '14',
      injected: "Lambda's routing emulated behind the trigger's Invoke API: 3 sandboxes of the keyed stage, each batch to one at random (seeded), so a sandbox often holds a partition several commits behind",
      recordsIn: input.length,
      dlq: dlqOfRun(r.local),
      outcome: `exact: ${r.validation.expected} window results and late records; ${stale} batches caught a stale cache up from the log tail, ${r.keyed.restores ?? 0} cold restores, no conflict`,
      test: `${FILE}: row 14`,
    });
  });

  it('row 15: a cold restore mid-run: every sandbox of the keyed stage killed, the next batches restore from the snapshot and the log', async () => {
    const name: ExampleName = 'wordcount';
    const input = manyKeys(75, 6000, 2000);
    const pl = example(name).name;
    // Observe only: the keyed stage's snapshot heads (per partition) and snapshot reads (a restore
    // from a snapshot queries its parts).
    const heads = new Set<string>();
    let snapshotReads = 0;
    const decide = (): Decide => (r) => {
      if (r.op === 'PutItem' && ofStage(r, pl, KEYED) && r.body.includes('"sk":{"S":"head"}')) heads.add(new RegExp(`"(${pl}#${KEYED}#\\d+)"`).exec(r.body)?.[1] ?? '?');
      if (r.op === 'Query' && ofStage(r, pl, KEYED) && r.body.includes('"S":"snap#')) snapshotReads++;
      return { kind: 'forward' };
    };
    // Kill every sandbox of the keyed stage between two batches: first once both partitions have
    // a snapshot, then 8 and 16 keyed batches later (the lockstep schedule makes the points fixed).
    let sandboxes: SandboxPool | undefined;
    let keyedBatches = 0;
    const kills: number[] = [];
    const r = await runCase(name, input, {
      partitions: 2,
      batchSize: 200,
      decide,
      pool: { size: () => 1, pick: () => 0, ready: (p) => void (sandboxes = p) },
      local: {
        onInvocation: (stage) => {
          if (stage !== KEYED) return;
          keyedBatches++;
          const last = kills[kills.length - 1];
          const due = last === undefined ? heads.size === 2 : kills.length < 3 && keyedBatches >= last + 8;
          if (!due) return;
          kills.push(keyedBatches);
          sandboxes?.killAll(KEYED);
        },
      },
    });
    expect(kills).toHaveLength(3);
    expect(keyedBatches).toBeGreaterThan((kills[2] as number) + 2);
    // One restore per partition at the start and after each kill; those after a kill read a snapshot.
    expect(r.keyed.restores).toBe(2 * (1 + kills.length));
    expect(snapshotReads).toBe(2 * kills.length);
    expect(r.keyed.snapshots).toBeGreaterThanOrEqual(2);
    expect(r.local.failures).toBe(0);
    expectClean(r.validation);
    recordValidation(r.validation, {
      row: '15',
      injected: `SIGKILL of every sandbox of the keyed stage between batches, after its batches ${kills.join(', ')} (the first once both partitions had a snapshot); the next batch of each partition starts cold`,
      recordsIn: input.length,
      dlq: dlqOfRun(r.local),
      outcome: `exact: ${r.validation.expected} running counts; ${r.keyed.restores} restores, each from the latest snapshot plus the log after it`,
      test: `${FILE}: row 15`,
    });
  });

  it('row 16: stage process SIGKILLed between the parts of a snapshot (parts written, head not)', async () => {
    const fixture = { p: loadPipeline(resolve(ROOT, 'test/fixtures/hot-key.ts')), file: resolve(ROOT, 'test/fixtures/hot-key.ts') };
    const input = hotKeyInput(76);
    // Snapshots come at the executor's default thresholds; a multi-part one needs state over
    // PART_BYTES deflated, so the state is made large. The hot key's snapshots over ~470 values take
    // several parts; the process dies right after DynamoDB applied a second part (the head, which
    // makes a snapshot current, is written after every part), twice.
    let kills = 0;
    const decide = (): Decide => (r) => {
      if (r.op === 'PutItem' && ofStage(r, fixture.p.name, KEYED) && /"sk":\{"S":"snap#[^"]*#00001"/.test(r.body) && kills < 2) {
        kills++;
        return { kind: 'kill-after' };
      }
      return { kind: 'forward' };
    };
    const r = await runCase(fixture, input, { partitions: 1, batchSize: 50, decide });
    expect(r.proxy?.injected['kill-after']).toBe(2);
    expect(r.local.failures).toBeGreaterThanOrEqual(2);
    expect(r.local.outputs.filter((o) => o.topic === 'hot-totals').map((o) => o.value)).toEqual(HOT_KEY_TOTALS);
    expectClean(r.validation);
    recordValidation(r.validation, {
      row: '16',
      injected: 'DynamoDB proxy SIGKILLs the keyed stage process after DynamoDB applied part 2 of a multi-part snapshot (its head not written), twice; a hot key of ~450 KB deflated state, batches of 50',
      recordsIn: input.length,
      dlq: dlqOfRun(r.local),
      outcome: `exact: ${r.validation.expected} window results; the retry restores from the previous snapshot and the log, the orphaned parts are never read`,
      test: `${FILE}: row 16`,
    });
  });
});
