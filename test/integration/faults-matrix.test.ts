import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { prng } from '../../shared/local/chaos';
import { runEmbedded } from '../../shared/local/embedded';
import { localBrokers, localDynamoEndpoint } from '../../shared/local/endpoints';
import type { InputRecord } from '../../shared/local/input-file';
import { loadPipeline } from '../../shared/local/load-pipeline';
import { runLocal, type LocalRunOptions, type LocalRunResult } from '../../shared/local/local-run';
import type { OutputRecord } from '../../shared/local/output-file';
import { createKafka } from '../../shared/adapters/kafka/kafka-config';
import { multiPartitionWithinBound } from '../reference/generators';
import type { ExampleName } from '../reference/types';
import { DynamoProxy, INTERNAL, THROTTLE, THROTTLING, type Decide, type ProxiedRequest, type ProxyAction } from '../support/dynamo-proxy';
import { example } from '../support/examples';
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

interface CaseResult {
  readonly local: LocalRunResult;
  readonly validation: Validation;
  readonly proxy: DynamoProxy | undefined;
}

/** The source stage and the keyed stage of these two-stage examples. */
const SOURCE = 's0';
const KEYED = 's1';

/** Whether a DynamoDB request body belongs to `stage` of `pipeline` (its keys and scopes name it). */
const ofStage = (r: ProxiedRequest, pipeline: string, stage: string): boolean => r.body.includes(`"${pipeline}#${stage}#`);

/**
 * Runs `name` on `input` locally (with faults from `decide` and `local`) and embedded
 * (calm), and validates the local sinks against the embedded ones.
 */
async function runCase(
  name: ExampleName,
  input: readonly InputRecord[],
  o: { partitions: number; batchSize: number; decide?: (runId: string) => Decide; setup?: (proxy: DynamoProxy) => void; local?: Partial<LocalRunOptions>; expected?: OutputRecord[] },
): Promise<CaseResult> {
  const p = example(name);
  const expected = o.expected ?? (await runEmbedded(p, input, { partitions: o.partitions, batchSize: o.batchSize })).outputs;
  const runId = randomBytes(4).toString('hex');
  const proxy = o.decide ? new DynamoProxy(localDynamoEndpoint(), o.decide(runId)) : undefined;
  if (proxy) o.setup?.(proxy);
  const endpoint = proxy ? await proxy.start() : undefined;
  try {
    const local = await runLocal(p, file(name), input, {
      partitions: o.partitions,
      batchSize: o.batchSize,
      runId,
      timeoutMs: 240_000,
      ...(endpoint ? { dynamoEndpoint: endpoint } : {}),
      ...o.local,
    });
    const validation = validate(expected, local.outputs);
    process.stderr.write(
      `[faults-matrix] ${name}: ${local.invocations} invocations, ${local.failures} failed, ${local.redeliveries} redelivered; injected ${JSON.stringify(proxy?.injected ?? {})}; ${describeValidation(validation)}\n`,
    );
    return { local, validation, proxy };
  } finally {
    await proxy?.stop();
  }
}

function expectClean(v: Validation): void {
  expect(v.lost).toEqual([]);
  expect(v.duplicated).toEqual([]);
  expect(v.unexpected).toEqual([]);
  expect(v.expected).toBeGreaterThan(0);
}

/** Acts on the `nth` (1-based) request matching `match`, forwards everything else. */
function onNth(match: (r: ProxiedRequest) => boolean, plan: ReadonlyMap<number, ProxyAction>): Decide {
  let n = 0;
  return (r) => (match(r) ? (plan.get(++n) ?? { kind: 'forward' }) : { kind: 'forward' });
}

/** Many distinct words per batch, so a keyed batch changes more than 99 keys (several transactions). */
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

  it('row 2a: stage process SIGKILLed after k of n state transactions of a batch', async () => {
    const name: ExampleName = 'wordcount';
    const input = manyKeys(62, 1200, 1000);
    const pl = example(name).name;
    let kills = 0;
    // The keyed stage's batches change ~200 keys: 2-3 transactions each, the progress record
    // in the last. Kill the process right after DynamoDB applied a transaction without the
    // progress record (k of n, k < n), three times.
    const decide = (runId: string): Decide => {
      const progressTable = `weir-${runId}-${pl}-progress`;
      return (r) => {
        if (r.op === 'TransactWriteItems' && ofStage(r, pl, KEYED) && !r.body.includes(progressTable) && kills < 3 && r.seq % 2 === 0) {
          kills++;
          return { kind: 'kill-after' };
        }
        return { kind: 'forward' };
      };
    };
    const r = await runCase(name, input, { partitions: 2, batchSize: 250, decide });
    expect(r.proxy?.injected['kill-after']).toBe(3);
    expect(r.local.failures).toBeGreaterThanOrEqual(3);
    expectClean(r.validation);
    recordValidation(r.validation, {
      row: '2a',
      injected: 'DynamoDB proxy SIGKILLs the keyed stage process after a non-final commit transaction was applied, 3 times (batches of 250 records, ~200 changed keys, 2-3 transactions)',
      recordsIn: input.length,
      dlq: dlqOfRun(r.local),
      outcome: `exact: ${r.validation.expected} running counts; the retry skips keys whose fences passed, applies the rest`,
      test: `${FILE}: row 2a`,
    });
  });

  it('row 2b: stage process SIGKILLed after producing, before its state write, and after the commit before returning', async () => {
    const name: ExampleName = 'windowed-wordcount';
    const input = multiPartitionWithinBound(name, 63, 240, 3);
    const pl = example(name).name;
    const commits = (r: ProxiedRequest): boolean => r.op === 'TransactWriteItems' && ofStage(r, pl, KEYED);
    const plan = new Map<number, ProxyAction>([
      [3, { kind: 'kill-before' }],
      [9, { kind: 'kill-after' }],
      [15, { kind: 'kill-before' }],
      [21, { kind: 'kill-after' }],
    ]);
    const r = await runCase(name, input, { partitions: 3, batchSize: 5, decide: () => onNth(commits, plan) });
    expect(r.proxy?.injected['kill-before']).toBe(2);
    expect(r.proxy?.injected['kill-after']).toBe(2);
    expectClean(r.validation);
    recordValidation(r.validation, {
      row: '2b',
      injected: 'DynamoDB proxy SIGKILLs the keyed stage process when its commit arrives (outputs already produced) twice, and after the commit (state + progress durable) twice',
      recordsIn: input.length,
      dlq: dlqOfRun(r.local),
      outcome: `exact: ${r.validation.expected} window results and late records; re-produced outputs carry the same weir-id`,
      test: `${FILE}: row 2b`,
    });
  });

  it('row 3: function timeout mid-batch, then retry', async () => {
    const name: ExampleName = 'windowed-wordcount';
    const input = multiPartitionWithinBound(name, 64, 240, 3);
    const pl = example(name).name;
    const commits = (r: ProxiedRequest): boolean => r.op === 'TransactWriteItems' && ofStage(r, pl, KEYED);
    // The commit stalls longer than the function timeout: the emulator kills the sandbox at the
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
      injected: 'DynamoDB proxy stalls the keyed commit for 7 s, the function timeout is 4 s: the emulator kills the sandbox and retries (twice)',
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
    // The 5th keyed commit is held in the network; the invocation times out and is retried,
    // the retry commits; only then does the held write reach DynamoDB: it must be refused.
    let release: () => void = () => undefined;
    const released = new Promise<void>((ok) => (release = ok));
    let heldScope: string | undefined;
    let n = 0;
    const scopeOf = (r: ProxiedRequest): string => new RegExp(`"(${pl}#${KEYED}#[^"]*-repartition#\\d+)"`).exec(r.body)?.[1] ?? '?';
    const decide = (): Decide => (r) => {
      if (r.op !== 'TransactWriteItems' || !ofStage(r, pl, KEYED)) return { kind: 'forward' };
      if (++n === 5) {
        heldScope = scopeOf(r);
        return { kind: 'hold', until: () => released };
      }
      return { kind: 'forward' };
    };
    const setup = (proxy: DynamoProxy): void => {
      proxy.onResponse.push((req, res) => {
        if (heldScope !== undefined && req.op === 'TransactWriteItems' && res.status === 200 && scopeOf(req) === heldScope) release();
      });
    };
    const r = await runCase(name, input, { partitions: 3, batchSize: 5, decide, setup, local: { esm: { invokeTimeoutMs: 4000 } } });
    expect(heldScope).toBeDefined();
    expect(heldScope).not.toBe('?');
    expectClean(r.validation);
    const zombie = r.proxy?.heldResults[0];
    expect(zombie?.response.status).toBe(400);
    expect(zombie?.response.body).toContain('TransactionCanceledException');
    expect(zombie?.response.body).toContain('ConditionalCheckFailed');
    recordValidation(r.validation, {
      row: '4',
      injected: "DynamoDB proxy holds a keyed commit until the retry of the timed-out invocation committed, then forwards it",
      recordsIn: input.length,
      dlq: dlqOfRun(r.local),
      outcome: `exact: ${r.validation.expected} window results; the zombie's transaction was cancelled by the version condition (ConditionalCheckFailed)`,
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

  it('row 11: a hot key whose state grows past the 400 KB item limit spills, with a metric, no crash loop', async () => {
    const fixture = resolve(ROOT, 'test/fixtures/hot-key.ts');
    const p = loadPipeline(fixture);
    const rand = prng(71);
    const value = (i: number): string => `${i}:`.padEnd(1000, String.fromCharCode(97 + Math.floor(rand() * 26)));
    // 600 values of 1000 characters in the first window (about 610 KB of state at the end), 150 in the next.
    const input: InputRecord[] = Array.from({ length: 750 }, (_, i) => ({ partition: 0, timestamp: i < 600 ? 1000 + i : 1_000_000 + i, value: value(i) }));
    const expected = (await runEmbedded(p, input, { partitions: 1, batchSize: 50 })).outputs;
    const capture = mkdtempSync(join(tmpdir(), 'weir-capture-'));
    try {
      const local = await runLocal(p, fixture, input, {
        partitions: 1,
        batchSize: 50,
        timeoutMs: 240_000,
        stageEnv: { WEIR_METRICS_NAMESPACE: 'WeirTest', NODE_OPTIONS: `--require ${resolve(__dirname, '../support/capture-output.cjs')}`, WEIR_TEST_CAPTURE_DIR: capture },
      });
      const v = validate(expected, local.outputs);
      process.stderr.write(`[faults-matrix] hot-key: ${local.invocations} invocations, ${local.failures} failed; ${describeValidation(v)}\n`);
      expect(local.outputs.filter((o) => o.topic === 'hot-totals').map((o) => o.value)).toEqual([
        { key: 'hot', n: 600, chars: 600_000, windowStart: 0 },
        { key: 'hot', n: 150, chars: 150_000, windowStart: 1_000_000 },
      ]);
      // Never a failed invocation (no crash loop), and the metric says a key's state is large.
      expect(local.failures).toBe(0);
      const logs = readdirSync(capture).map((f) => readFileSync(join(capture, f), 'utf8')).join('');
      const large = logs.split('\n').filter((l) => l.includes('"CloudWatchMetrics"') && /"largeStateKeys":[1-9]/.test(l));
      expect(large.length).toBeGreaterThan(0);
      expectClean(v);
      recordValidation(v, {
        row: '11',
        injected: 'one key, a window that keeps every 1000-character value: 600 values (~610 KB of state, spilled over 3 items) then 150 in the next window, batches of 50',
        recordsIn: input.length,
        dlq: dlqOfRun(local),
        outcome: `exact: ${v.expected} window results (n and size of every value); state spilled over several items, the largeStateKeys metric emitted, no failed invocation`,
        test: `${FILE}: row 11`,
      });
    } finally {
      rmSync(capture, { recursive: true, force: true });
    }
  });
});
