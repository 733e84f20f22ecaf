/**
 * `npm run bench` (issue #5): the windowed word count through the stage bundles and the MSK
 * trigger emulator against the local Kafka and DynamoDB Local, against a plain kafkajs
 * baseline and the embedded runtime, in one run. Writes bench/results.json and prints the
 * table docs/PERFORMANCE.md holds. Exits non-zero when the outputs differ.
 *
 *   BENCH_LINES     input lines (default 200000; the committed numbers come from the default)
 *   BENCH_PACED_S   seconds of the paced (latency) run (default 90)
 *   BENCH_WINDOW_MS batching window of the emulated MSK triggers (default 100)
 *   BENCH_OUT       results file (default bench/results.json, the published run: trials write elsewhere)
 *
 * Issue 12 adds a second workload and a restore measurement (0 skips either):
 *   BENCH_LARGE_LINES       lines of the large-state workload (default 250000; bench/large-state-pipeline.ts)
 *   BENCH_LARGE_KEYS        its distinct keys, used uniformly (default 500000)
 *   BENCH_LARGE_PARTITIONS  its partitions (default 16)
 *   BENCH_RESTORE_MB        state JSON of the partition restored cold in a fresh process (default 100)
 *   BENCH_RESTORE_TRIALS    fresh processes per restore size (default 3; the median is reported)
 * The restore is measured at BENCH_RESTORE_MB and at the large-state run's largest partition.
 * results.json: `workloads.{small,large_state}` and `restore.sizes` hold these figures; the
 * printed tables end with them.
 */
import './quiet';
import { fork, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import pipeline from '../examples/windowed-wordcount';
import largePipeline, { LARGE_STATE_WINDOW_MS } from './large-state-pipeline';
import { createKafka } from '../shared/adapters/kafka/kafka-config';
import { bundlePipeline } from '../shared/build/bundle';
import { localBrokers, localDynamoEndpoint } from '../shared/local/endpoints';
import { runEmbedded } from '../shared/local/embedded';
import type { InputRecord } from '../shared/local/input-file';
import type { Pipeline } from '../shared/api/pipeline';
import { planPipeline } from '../shared/plan/planner';
import type { BaselineConfig, BaselineReport } from './baseline-worker';
import { costPerMillion, MEMORY_GB, PRICES, type CostRow } from './cost';
import { cpuBetween, cpuSnapshot, type CpuUse } from './cpu';
import { measureColdStarts, type ColdStartSummary } from './init';
import { brokerBytes, createTopics, endOffsets, produceWorkload, readTopic, type ReadRecord } from './kafka';
import { compareResults, resultKey, type WindowResult } from './window-count';
import { cleanup, pacedFeed, physicalTopics, runWeir, stageEnv, type WeirEnv, type WeirRunResult } from './weir-run';
import { measureRestore, type RestoreSummary } from './restore';
import { DEFAULT_SPEC, generate, LARGE_STATE_SPEC, lineMaker, maxLag, type Workload, type WorkloadSpec } from './workload';

const PIPELINE_FILE = resolve(__dirname, '../examples/windowed-wordcount.ts');
const LARGE_PIPELINE_FILE = resolve(__dirname, 'large-state-pipeline.ts');
const BROKERS = localBrokers();
const DYNAMODB = localDynamoEndpoint();
const BATCH_SIZE = 500;
/** Trials write elsewhere (BENCH_OUT) so the published full run stays in bench/results.json. */
const RESULTS_FILE = resolve(process.env.BENCH_OUT ?? resolve(__dirname, 'results.json'));
/**
 * The emulator's batching window (MSK MaximumBatchingWindowInSeconds): its default, 100 ms.
 * BENCH_WINDOW_MS overrides it (docs/PERFORMANCE.md compares 0, 100 and 500 ms).
 */
const BATCHING_WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 100);
/** examples/windowed-wordcount.ts's tumbling window (the small workload's baseline counts with the same). */
const SMALL_WINDOW_MS = 5000;
const BOUND_MS = 2000;
/** Paced run: windows ending in its first seconds are left out (the sandboxes' cold starts). */
const WARMUP_MS = 10_000;
const COLD_STARTS = 7;

const say = (s: string): void => void process.stdout.write(`[bench] ${s}\n`);
const round = (n: number, d = 0): number => Math.round(n * 10 ** d) / 10 ** d;
const pct = (xs: readonly number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return Number.NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] as number;
};
const sum = (xs: ArrayLike<number>): number => {
  let t = 0;
  for (let i = 0; i < xs.length; i++) t += xs[i] as number;
  return t;
};
/** Max / min of large arrays (spreading 200,000 arguments overflows the stack). */
const maxOf = (xs: ArrayLike<number>): number => {
  let m = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < xs.length; i++) if ((xs[i] as number) > m) m = xs[i] as number;
  return m;
};
const minOf = (xs: ArrayLike<number>): number => -maxOf(Array.from(xs, (x) => -x));

function parseResult(value: string | null): WindowResult {
  const v = JSON.parse(value ?? 'null') as WindowResult;
  return { word: v.word, count: v.count, windowStart: v.windowStart, windowEnd: v.windowEnd };
}

/**
 * A Kafka sink is at least once with a deterministic `weir-id` per record (README): a retried
 * batch may write a result again. Keeps the first copy of each id (the earliest written).
 */
function dedupeById(records: readonly ReadRecord[]): { unique: ReadRecord[]; duplicates: number } {
  const seen = new Set<string>();
  const unique: ReadRecord[] = [];
  for (const r of [...records].sort((a, b) => a.timestamp - b.timestamp)) {
    const id = r.headers['weir-id'];
    if (id !== undefined && seen.has(id)) continue;
    if (id !== undefined) seen.add(id);
    unique.push(r);
  }
  return { unique, duplicates: records.length - unique.length };
}

function ensureLocalStack(): void {
  say('local stack: scripts/local/up.sh (starts Kafka and DynamoDB Local unless they already answer)');
  const r = spawnSync('bash', [resolve(__dirname, '../scripts/local/up.sh')], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`scripts/local/up.sh exited ${r.status}`);
}

function runBaseline(cfg: BaselineConfig): Promise<BaselineReport> {
  return new Promise((done, fail) => {
    const child = fork(join(__dirname, 'baseline-worker.ts'), [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, BENCH_BASELINE_CONFIG: JSON.stringify(cfg) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let report: BaselineReport | undefined;
    child.on('message', (m) => (report = m as BaselineReport));
    child.on('exit', (code) => (code === 0 && report ? done(report) : fail(new Error(`baseline process exited ${code}`))));
  });
}

function stageSummary(r: WeirRunResult): Record<string, unknown> {
  return Object.fromEntries(
    r.stages.map((s) => [
      s.stage,
      {
        batch_invocations: s.invocationMs.length,
        control_invocations: s.controlMs.length,
        failures: s.stats.failures,
        redeliveries: s.stats.redeliveries,
        records_in: s.stats.recordsIn,
        mean_records_per_batch: round(sum(s.batchRecords) / Math.max(1, s.batchRecords.length), 1),
        invocation_ms: { p50: round(pct(s.invocationMs, 0.5), 1), p99: round(pct(s.invocationMs, 0.99), 1), total: round(sum(s.invocationMs)) },
        dynamodb: s.stats.dynamo,
        sandbox_loads_ms: s.initMs.map((x) => round(x, 1)),
      },
    ]),
  );
}

function dynamoTotals(r: WeirRunResult): { writeRequests: number; readRequests: number; writeUnits: number; readUnits: number } {
  const t = { writeRequests: 0, readRequests: 0, writeUnits: 0, readUnits: 0 };
  for (const s of r.stages) for (const k of Object.keys(t) as Array<keyof typeof t>) t[k] += s.stats.dynamo[k];
  return t;
}

/** The handlers' metrics (cacheHits, restores, ...) summed over a run's stages and invocations. */
function metricTotals(r: WeirRunResult): Record<string, number> {
  const t: Record<string, number> = {};
  for (const s of r.stages) for (const [k, v] of Object.entries(s.stats.metrics)) t[k] = (t[k] ?? 0) + v;
  return t;
}

/** Cost per million events of a peak run, from its counts and the broker's bytes of its topics. */
function costOf(run: WeirRunResult, events: number, topics: { source: string; repartition: string[] }, inputBytes: number): { cost: ReturnType<typeof costPerMillion>; kafkaBytes: Map<string, number> | undefined } {
  const bytes = brokerBytes(run.prefix);
  const sourceBytes = bytes?.get(topics.source) ?? inputBytes;
  const repartitionBytes = sum(topics.repartition.map((t) => bytes?.get(run.prefix + t) ?? 0));
  const dyn = dynamoTotals(run);
  const cost = costPerMillion({
    events,
    invocations: sum(run.stages.map((s) => s.invocationMs.length + s.controlMs.length)),
    invocationMs: sum(run.stages.map((s) => sum(s.invocationMs) + sum(s.controlMs))),
    writeUnits: dyn.writeUnits,
    readUnits: dyn.readUnits,
    writeRequests: dyn.writeRequests,
    kafkaBytesIn: bytes ? sum([...bytes.values()]) : inputBytes,
    kafkaBytesOut: sourceBytes + repartitionBytes,
  });
  return { cost, kafkaBytes: bytes };
}

/** One workload's figures (issue 12): throughput against the baseline of the same run, DynamoDB billed units, cost, cache, CPU per event. */
interface WorkloadFigures {
  readonly description: string;
  readonly events: number;
  readonly words: number;
  readonly distinct_keys: number;
  readonly partitions: number;
  readonly weir_seconds: number;
  readonly weir_events_per_s: number;
  readonly baseline_events_per_s: number;
  readonly ratio: number;
  readonly outputs_equal_baseline: boolean;
  readonly results: number;
  readonly dynamodb: { write_units_per_event: number; read_units_per_event: number; write_requests_per_event: number; read_requests_per_event: number; totals: ReturnType<typeof dynamoTotals> };
  readonly cost_per_million_events: { rows: CostRow[]; total_usd: number };
  readonly cache: { hits: number; misses: number; hit_rate: number; restores: number; snapshots: number };
  /** Largest partition state (JSON bytes) an invocation reported (stateBytes / partitions of its event: see StageRunStats.maxStateBytes). */
  readonly max_partition_state_bytes: number;
  /** CPU microseconds per input event, per process (from /proc over the phase). */
  readonly cpu_us_per_event: { weir: { dynamodb_local: number; kafka: number; stage_processes: number; emulator: number; all: number }; baseline: { baseline_process: number; kafka: number; all: number } };
  readonly metrics: Record<string, number>;
}

function workloadFigures(o: {
  description: string;
  workload: Workload;
  /** Records in the source topic (the workload's lines, unless a produce was duplicated). */
  events: number;
  run: WeirRunResult;
  weirSeconds: number;
  baseSeconds: number;
  baseCpu: CpuUse;
  equal: boolean;
  results: number;
  cost: ReturnType<typeof costPerMillion>;
}): WorkloadFigures {
  const n = o.events;
  const dyn = dynamoTotals(o.run);
  const m = metricTotals(o.run);
  const hits = m.cacheHits ?? 0;
  const misses = m.cacheMisses ?? 0;
  const us = (s: number): number => round((s * 1e6) / n, 1);
  const c = o.run.cpu;
  const b = o.baseCpu;
  return {
    description: o.description,
    events: n,
    words: o.workload.words,
    distinct_keys: o.workload.distinctWords,
    partitions: o.workload.spec.partitions,
    weir_seconds: round(o.weirSeconds, 2),
    weir_events_per_s: round(n / o.weirSeconds),
    baseline_events_per_s: round(n / o.baseSeconds),
    ratio: round(o.baseSeconds / o.weirSeconds, 4),
    outputs_equal_baseline: o.equal,
    results: o.results,
    dynamodb: {
      write_units_per_event: round(dyn.writeUnits / n, 4),
      read_units_per_event: round(dyn.readUnits / n, 4),
      write_requests_per_event: round(dyn.writeRequests / n, 5),
      read_requests_per_event: round(dyn.readRequests / n, 5),
      totals: dyn,
    },
    cost_per_million_events: { rows: o.cost.rows.map((r) => ({ ...r, usdPerMillion: round(r.usdPerMillion, 4) })), total_usd: round(o.cost.total, 3) },
    cache: { hits, misses, hit_rate: round(hits / Math.max(1, hits + misses), 4), restores: m.restores ?? 0, snapshots: m.snapshots ?? 0 },
    max_partition_state_bytes: Math.round(Math.max(0, ...o.run.stages.map((s) => s.maxStateBytes))),
    cpu_us_per_event: {
      weir: { dynamodb_local: us(c.dynamodb_s), kafka: us(c.kafka_s), stage_processes: us(c.children_s), emulator: us(c.bench_process_s), all: us(c.dynamodb_s + c.kafka_s + c.children_s + c.bench_process_s) },
      baseline: { baseline_process: us(b.children_s), kafka: us(b.kafka_s), all: us(b.children_s + b.kafka_s + b.bench_process_s) },
    },
    metrics: m,
  };
}

function readIntEnv(name: string, fallback: number, min: number): number {
  const v = Number(process.env[name] ?? fallback);
  if (!(Number.isInteger(v) && (v === 0 || v >= min))) throw new Error(`${name} must be 0 or an integer >= ${min}, got ${process.env[name]}`);
  return v;
}

/** A pipeline planned and bundled (shared/build/bundle.ts, as cdk deploy), ready for runWeir. */
async function weirEnv(base: Pick<WeirEnv, 'kafka' | 'admin' | 'brokers' | 'dynamoEndpoint'>, p: Pipeline, file: string, partitions: number): Promise<WeirEnv> {
  const plan = planPipeline(p, { defaultPartitions: partitions });
  const bundles = await bundlePipeline(p, file, { outDir: resolve('build'), partitions });
  return { ...base, pipeline: p, plan, bundles };
}

/** One workload's peak run and the baseline over the same input topic, compared. */
interface WorkloadRun {
  readonly peak: WeirRunResult;
  readonly produceMs: number;
  /** The peak run's window results, deduplicated by weir-id. */
  readonly results: { unique: ReadRecord[]; duplicates: number };
  readonly weirSeconds: number;
  readonly base: BaselineReport;
  readonly baseOut: ReadRecord[];
  readonly baseKeys: string[];
  readonly baseSeconds: number;
  readonly baseCpu: CpuUse;
  /** Weir's output equals the baseline's (as multisets) and both saw as many late words. */
  readonly ok: boolean;
  readonly cost: ReturnType<typeof costPerMillion>;
  readonly kafkaBytes: Map<string, number> | undefined;
  readonly figures: WorkloadFigures;
}

/**
 * A workload's peak run (the input is in Kafka before the stages start; all partitions in
 * parallel), then the baseline (one plain kafkajs consumer in a child process, same input
 * topic, same window), compared; with the workload's figures. The deletion of the run's topics
 * and tables and of the baseline's topic is registered with `atEnd` before anything is created
 * (done at the end of the bench: deleting topics while the next run creates its own made the
 * broker refuse the new ones' metadata once; the cold starts also use the small run's tables).
 */
async function runWorkload(
  env: WeirEnv,
  o: {
    /** Prefix of the log lines and the progress label. */
    readonly label: string;
    readonly description: string;
    readonly workload: Workload;
    /** The pipeline's tumbling window, ms (the baseline counts with the same). */
    readonly windowMs: number;
    readonly prefix: string;
    /** Outside the run's prefix: the cost's broker bytes are the run's topics only. */
    readonly baselineTopic: string;
    readonly baselineGroup: string;
    readonly peakTimeoutMs: number;
    readonly baselineTimeoutMs: number;
    readonly atEnd: (cleanup: () => Promise<void>) => void;
  },
): Promise<WorkloadRun> {
  const { label, workload } = o;
  const { lines, partitions } = workload.spec;
  o.atEnd(async () => {
    await cleanup(env, o.prefix).catch(() => undefined);
    await env.admin.deleteTopics({ topics: [o.baselineTopic], timeout: 30_000 }).catch(() => undefined);
  });
  say(`${label} peak run: ${lines} lines, batch size ${BATCH_SIZE}, batching window ${BATCHING_WINDOW_MS} ms, free mode (prefix ${o.prefix})`);
  let produceMs = 0;
  const peak = await runWeir(env, {
    prefix: o.prefix,
    batchSize: BATCH_SIZE,
    batchingWindowMs: BATCHING_WINDOW_MS,
    preload: async (topic) => {
      produceMs = await produceWorkload(env.kafka, topic, workload);
    },
    timeoutMs: o.peakTimeoutMs,
    label,
    expectedRecords: lines,
    expectedWords: workload.words,
  });
  const results = dedupeById(peak.results);
  const weirKeys = results.unique.map((r) => resultKey(parseResult(r.value)));
  const weirSeconds = (maxOf(results.unique.map((r) => r.timestamp)) - peak.firstReadAt) / 1000;
  say(`${label} peak: ${results.unique.length} window results (${results.duplicates} duplicates by weir-id dropped) in ${round(weirSeconds, 2)} s from the first record read to the last result written: ${round(lines / weirSeconds)} events/s`);

  const topics = physicalTopics(env.plan, o.prefix);
  await createTopics(env.admin, [{ topic: o.baselineTopic, partitions, logAppendTime: true }]);
  const inputEnds = await endOffsets(env.admin, topics.source);
  const events = sum([...inputEnds.values()]);
  if (events !== lines) say(`WARNING: ${label}: the source topic holds ${events} records, the workload ${lines} lines (a duplicated produce): the per-workload figures use ${events}`);
  say(`${label} baseline: one kafkajs consumer process, ${o.windowMs / 1000} s windows in memory`);
  const cpu0 = cpuSnapshot();
  const base = await runBaseline({
    brokers: [env.brokers],
    inputTopic: topics.source,
    outputTopic: o.baselineTopic,
    groupId: o.baselineGroup,
    ends: Object.fromEntries([...inputEnds].map(([p, e]) => [String(p), e])),
    timeoutMs: o.baselineTimeoutMs,
    windowMs: o.windowMs,
  });
  const baseCpu = cpuBetween(cpu0, cpuSnapshot(), cpus().length);
  const baseOut = await readTopic(env.kafka, o.baselineTopic, await endOffsets(env.admin, o.baselineTopic));
  const baseKeys = baseOut.map((r) => resultKey(parseResult(r.value)));
  const baseSeconds = (maxOf(baseOut.map((r) => r.timestamp)) - base.firstReadAt) / 1000;
  say(`${label} baseline: ${baseOut.length} window results in ${round(baseSeconds, 2)} s: ${round(base.lines / baseSeconds)} events/s (late words ${base.late})`);
  const diff = compareResults(weirKeys, baseKeys, ['weir', 'baseline']);
  const ok = !diff && peak.late === base.late;
  if (!ok) say(`MISMATCH ${label} weir vs baseline: ${diff ?? ''} late: weir ${peak.late}, baseline ${base.late}`);
  else say(`${label}: weir output equals the baseline's as multisets (${weirKeys.length} results, ${peak.late} late)`);
  const { cost, kafkaBytes } = costOf(peak, events, topics, workload.bytes);
  const figures = workloadFigures({ description: o.description, workload, events, run: peak, weirSeconds, baseSeconds, baseCpu, equal: ok, results: results.unique.length, cost });
  return { peak, produceMs, results, weirSeconds, base, baseOut, baseKeys, baseSeconds, baseCpu, ok, cost, kafkaBytes, figures };
}

/** The broker's bytes per topic of a run, named without the run's prefix. */
const unprefixed = (bytes: Map<string, number> | undefined, prefix: string): Record<string, number> | undefined => (bytes ? Object.fromEntries([...bytes].map(([t, n]) => [t.slice(prefix.length), n])) : undefined);

async function main(): Promise<number> {
  const benchStarted = Date.now();
  const lines = Number(process.env.BENCH_LINES ?? DEFAULT_SPEC.lines);
  const pacedSeconds = Number(process.env.BENCH_PACED_S ?? 90);
  if (!(Number.isInteger(lines) && lines >= 1000)) throw new Error(`BENCH_LINES must be an integer >= 1000, got ${process.env.BENCH_LINES}`);
  if (!(pacedSeconds >= 20)) throw new Error(`BENCH_PACED_S must be >= 20, got ${process.env.BENCH_PACED_S}`);
  const largeSpec: WorkloadSpec = {
    ...LARGE_STATE_SPEC,
    lines: readIntEnv('BENCH_LARGE_LINES', LARGE_STATE_SPEC.lines, 1000),
    vocabulary: readIntEnv('BENCH_LARGE_KEYS', LARGE_STATE_SPEC.vocabulary, 1) || LARGE_STATE_SPEC.vocabulary,
    partitions: readIntEnv('BENCH_LARGE_PARTITIONS', LARGE_STATE_SPEC.partitions, 1) || LARGE_STATE_SPEC.partitions,
  };
  const restoreMb = Number(process.env.BENCH_RESTORE_MB ?? 100);
  if (!(restoreMb >= 0)) throw new Error(`BENCH_RESTORE_MB must be a number >= 0, got ${process.env.BENCH_RESTORE_MB}`);
  const restoreTrials = readIntEnv('BENCH_RESTORE_TRIALS', 3, 1) || 1;
  ensureLocalStack();

  const spec = { ...DEFAULT_SPEC, lines };
  const workload = generate(spec);
  const lag = maxLag(workload);
  const eventSpanMs = maxOf(workload.timestamp) - minOf(workload.timestamp);
  say(`workload: ${lines} lines, ${workload.words} words (vocabulary ${spec.vocabulary}, Zipf s=${spec.zipfExponent}, ${spec.minWords}-${spec.maxWords} words a line), ${spec.partitions} partitions, ${round(eventSpanMs / 1000)} s of event time, max lag behind a partition's max ${lag} ms (bound ${BOUND_MS})`);

  const runId = randomBytes(3).toString('hex');
  const kafka = createKafka({ brokers: [BROKERS], clientId: `weir-bench-${runId}` });
  const admin = kafka.admin();
  await admin.connect();
  const stack = { kafka, admin, brokers: BROKERS, dynamoEndpoint: DYNAMODB };
  say('bundling the stage functions (shared/build/bundle.ts, as cdk deploy)');
  const env = await weirEnv(stack, pipeline, PIPELINE_FILE, spec.partitions);
  const { plan, bundles } = env;
  const peakPrefix = `weir-bench-${runId}-peak-`;
  const pacedPrefix = `weir-bench-${runId}-paced-`;
  let failed = false;
  const atEnd: Array<() => Promise<void>> = [];
  try {
    // 1-3. Peak run and baseline: the cost per million events comes from this peak run.
    const small = await runWorkload(env, {
      label: 'small',
      description: `small: ${spec.partitions} partitions, ${spec.vocabulary.toLocaleString('en-US')}-word Zipf vocabulary, ${SMALL_WINDOW_MS / 1000} s tumbling windows (examples/windowed-wordcount.ts)`,
      workload,
      windowMs: SMALL_WINDOW_MS,
      prefix: peakPrefix,
      baselineTopic: `weir-bench-${runId}-baseline-results`,
      baselineGroup: `weir-bench-${runId}-baseline`,
      peakTimeoutMs: 900_000,
      baselineTimeoutMs: 180_000,
      atEnd: (c) => atEnd.push(c),
    });
    if (!small.ok) failed = true;
    const { peak, base, baseKeys, weirSeconds, baseSeconds, baseCpu } = small;
    const weirEps = lines / weirSeconds;
    const baseEps = base.lines / baseSeconds;
    const peakDynamo = dynamoTotals(peak);

    // 4. Embedded runtime, same workload, this process.
    const input: InputRecord[] = workload.text.map((t, i) => ({ partition: workload.partition[i] as number, timestamp: workload.timestamp[i] as number, value: t }));
    say('embedded runtime: same workload, in memory, this process');
    const embCpu0 = cpuSnapshot();
    const embStarted = performance.now();
    const emb = await runEmbedded(pipeline, input, { partitions: spec.partitions, batchSize: BATCH_SIZE });
    const embSeconds = (performance.now() - embStarted) / 1000;
    const embCpu = cpuBetween(embCpu0, cpuSnapshot(), cpus().length);
    const embEps = lines / embSeconds;
    const sinkName = plan.topics.find((t) => t.role === 'sink')?.name;
    const embKeys = emb.outputs.filter((o) => o.topic === sinkName).map((o) => resultKey(o.value as WindowResult));
    const embVsBase = compareResults(embKeys, baseKeys, ['embedded', 'baseline']);
    if (embVsBase) {
      failed = true;
      say(`MISMATCH embedded vs baseline: ${embVsBase}`);
    }
    say(`embedded: ${round(embSeconds, 2)} s: ${round(embEps)} events/s`);

    // Issue 12: the large-state workload (megabytes of state per partition): bench/large-state-pipeline.ts
    // (1 h tumbling windows, so every key stays open to the end) over uniformly used keys, peak + its own baseline.
    let large: WorkloadRun | undefined;
    const largePrefix = `weir-bench-${runId}-large-`;
    if (largeSpec.lines > 0) {
      const lw = generate(largeSpec);
      const first = minOf(lw.timestamp);
      const last = maxOf(lw.timestamp);
      say(`large-state workload: ${largeSpec.lines} lines, ${lw.words} words, ${lw.distinctWords} distinct keys (of ${largeSpec.vocabulary}, used uniformly), ${largeSpec.partitions} partitions, ${round((last - first) / 1000)} s of event time in one ${LARGE_STATE_WINDOW_MS / 60_000}-minute window`);
      if (lw.timestamp.length && Math.floor(last / LARGE_STATE_WINDOW_MS) !== Math.floor(first / LARGE_STATE_WINDOW_MS)) {
        say('large-state: the workload spans more than one window: keys do not all stay open to the end');
      }
      large = await runWorkload(await weirEnv(stack, largePipeline, LARGE_PIPELINE_FILE, largeSpec.partitions), {
        label: 'large-state',
        description: `large state: ${largeSpec.partitions} partitions, ${lw.distinctWords.toLocaleString('en-US')} distinct keys (uniform), ${LARGE_STATE_WINDOW_MS / 60_000}-minute tumbling windows`,
        workload: lw,
        windowMs: LARGE_STATE_WINDOW_MS,
        prefix: largePrefix,
        baselineTopic: `weir-bench-${runId}-baseline-large-results`,
        baselineGroup: `weir-bench-${runId}-baseline-large`,
        peakTimeoutMs: 1_800_000,
        baselineTimeoutMs: 600_000,
        atEnd: (c) => atEnd.push(c),
      });
      if (!large.ok) failed = true;
    } else say('large-state workload skipped (BENCH_LARGE_LINES=0)');

    // Latency: paced at half the measured peak, event time = wall clock.
    const rate = Math.max(10, Math.round(weirEps / 2));
    let pacedStart = 0;
    let pacedEnd = 0;
    let pacedLines = 0;
    say(`paced run: ${rate} lines/s (half the peak) for ${pacedSeconds} s, event time = wall clock (prefix ${pacedPrefix})`);
    const paced = await runWeir(env, {
      prefix: pacedPrefix,
      batchSize: BATCH_SIZE,
      batchingWindowMs: BATCHING_WINDOW_MS,
      feed: pacedFeed(
        kafka,
        spec.partitions,
        rate,
        pacedSeconds,
        lineMaker(spec, spec.seed + 3),
        (at) => (pacedStart = at),
        (at, n) => {
          pacedEnd = at;
          pacedLines = n;
        },
      ),
      timeoutMs: (pacedSeconds + 600) * 1000,
      label: 'paced',
      expectedRecords: rate * pacedSeconds,
      expectedWords: Math.round(rate * pacedSeconds * (workload.words / lines)),
    });
    const pacedResults = dedupeById(paced.results);
    const measured = pacedResults.unique
      .map((r) => ({ r, w: parseResult(r.value) }))
      .filter(({ w }) => w.windowEnd >= pacedStart + WARMUP_MS && w.windowEnd + BOUND_MS <= pacedEnd);
    const latencies = measured.map(({ r, w }) => r.timestamp - (w.windowEnd + BOUND_MS));
    const perWindow = new Map<number, number>();
    for (const { r, w } of measured) perWindow.set(w.windowEnd, Math.max(perWindow.get(w.windowEnd) ?? Number.NEGATIVE_INFINITY, r.timestamp - (w.windowEnd + BOUND_MS)));
    const pacedDynamo = dynamoTotals(paced);
    say(`paced: ${pacedLines} lines, ${measured.length} results of ${perWindow.size} windows measured: latency p50 ${round(pct(latencies, 0.5))} ms, p99 ${round(pct(latencies, 0.99))} ms`);

    // 5. Bundles and cold starts.
    const coldEnv = stageEnv(env, peakPrefix, { state: peakPrefix + plan.tables.state, progress: peakPrefix + plan.tables.progress });
    const coldCpu0 = cpuSnapshot();
    const cold: Record<string, ColdStartSummary> = {};
    for (const b of bundles) {
      cold[b.stage] = await measureColdStarts(b.file, coldEnv, COLD_STARTS);
      say(`stage ${b.stage}: bundle ${b.bytes} bytes, cold init ${round(cold[b.stage]?.initMs ?? 0, 1)} ms (median of ${COLD_STARTS} fresh processes)`);
    }

    const coldCpu = cpuBetween(coldCpu0, cpuSnapshot(), cpus().length);

    // Issue 12: restoring a cold partition in a fresh process, at RESTORE_MB of state and at
    // the large-state workload's largest partition.
    const restore: Record<string, RestoreSummary> = {};
    const restoreCpu0 = cpuSnapshot();
    const restoreSizes: Array<[string, number]> = [];
    if (large && large.figures.max_partition_state_bytes > 0) restoreSizes.push(['large_state_partition', large.figures.max_partition_state_bytes]);
    if (restoreMb > 0) restoreSizes.push([`mb_${restoreMb}`, Math.round(restoreMb * 1_000_000)]);
    for (const [name, bytes] of restoreSizes) {
      say(`restore (${name}): a snapshot of ~${bytes.toLocaleString('en-US')} bytes of state JSON through DynamoCommitLog.snapshot, then PartitionCache.load in ${restoreTrials} fresh processes`);
      restore[name] = await measureRestore({ endpoint: DYNAMODB, tablePrefix: `weir-bench-${runId}-restore-${name.replace(/_/g, '-')}-`, partitions: largeSpec.partitions, targetBytes: bytes, trials: restoreTrials, say });
    }
    const restoreCpu = cpuBetween(restoreCpu0, cpuSnapshot(), cpus().length);

    // Was the machine ours? CPU of processes outside the bench, per phase, as a share of the machine.
    const phases: Record<string, CpuUse> = { peak: peak.cpu, baseline: baseCpu, embedded: embCpu, paced: paced.cpu, cold_starts: coldCpu };
    if (large) Object.assign(phases, { large_state_peak: large.peak.cpu, large_state_baseline: large.baseCpu });
    if (restoreSizes.length) phases.restore = restoreCpu;
    const contention = Object.fromEntries(Object.entries(phases).map(([k, c]) => [k, round(c.other_s / (c.wall_s * cpus().length), 3)]));
    const busy = Object.entries(contention).filter(([, share]) => share > 0.05);
    if (busy.length) say(`WARNING: other processes used ${busy.map(([k, v]) => `${Math.round(v * 100)}% of the machine during ${k}`).join(', ')}: these figures are not clean; run again on a quiet machine`);

    const latencyTarget = BATCHING_WINDOW_MS + 1000;
    const writesPerEvent = peakDynamo.writeRequests / lines;
    const results = {
      generated_at: new Date().toISOString(),
      machine: {
        cpus: cpus().length,
        memory_gib: round(totalmem() / 2 ** 30, 1),
        node: process.version,
        kafka: /KAFKA_VERSION="([^"]+)"/.exec(readFileSync(resolve(__dirname, '../scripts/local/lib.sh'), 'utf8'))?.[1] ?? '?',
        dynamodb_local: /DYNAMODB_LOCAL_VERSION="([^"]+)"/.exec(readFileSync(resolve(__dirname, '../scripts/local/lib.sh'), 'utf8'))?.[1] ?? '?',
      },
      workload: { ...spec, words: workload.words, bytes: workload.bytes, event_time_span_s: round(eventSpanMs / 1000, 1), max_lag_ms: lag },
      settings: { batch_size: BATCH_SIZE, batching_window_ms: BATCHING_WINDOW_MS, paced_seconds: pacedSeconds, paced_rate_lines_per_s: rate, warmup_ms: WARMUP_MS, memory_gb_for_cost: MEMORY_GB },
      weir_events_per_s: round(weirEps),
      baseline_events_per_s: round(baseEps),
      ratio: round(weirEps / baseEps, 4),
      embedded_events_per_s: round(embEps),
      dynamodb_writes_per_event: round(writesPerEvent, 5),
      dynamodb_write_units_per_event: round(peakDynamo.writeUnits / lines, 4),
      dynamodb_reads_per_event: round(peakDynamo.readRequests / lines, 5),
      dynamodb_read_units_per_event: round(peakDynamo.readUnits / lines, 4),
      latency_ms: { p50: round(pct(latencies, 0.5)), p99: round(pct(latencies, 0.99)), max: round(maxOf(latencies)), results: latencies.length, windows: perWindow.size, window_max_ms: Object.fromEntries([...perWindow].map(([e, l]) => [String(e), l])) },
      bundle_bytes: Object.fromEntries(bundles.map((b) => [b.stage, b.bytes])),
      init_ms: Object.fromEntries(Object.entries(cold).map(([s, c]) => [s, round(c.initMs, 1)])),
      init_detail: Object.fromEntries(Object.entries(cold).map(([s, c]) => [s, { ...c, initMs: round(c.initMs, 1), requireMs: round(c.requireMs, 1), initEventMs: round(c.initEventMs, 1), bootMs: round(c.bootMs, 1), wallMs: round(c.wallMs, 1), maxInitMs: round(c.maxInitMs, 1) }])),
      cost_per_million_events: { prices: PRICES, rows: small.cost.rows.map((r) => ({ ...r, usdPerMillion: round(r.usdPerMillion, 4) })), total_usd: round(small.cost.total, 3) },
      peak: {
        seconds: round(weirSeconds, 2),
        produce_ms: small.produceMs,
        results: small.results.unique.length,
        duplicate_results_dropped: small.results.duplicates,
        late: peak.late,
        dlq: peak.dlq,
        source_done_after_s: round((peak.sourceDoneAt - peak.firstReadAt) / 1000, 2),
        dynamodb: peakDynamo,
        dynamodb_writes_per_word: round(peakDynamo.writeRequests / workload.words, 5),
        cpu: peak.cpu,
        kafka_bytes: unprefixed(small.kafkaBytes, peakPrefix),
        stages: stageSummary(peak),
      },
      paced: {
        lines: pacedLines,
        seconds: round((pacedEnd - pacedStart) / 1000, 1),
        results: pacedResults.unique.length,
        duplicate_results_dropped: pacedResults.duplicates,
        late: paced.late,
        dynamodb: pacedDynamo,
        dynamodb_writes_per_event: round(pacedDynamo.writeRequests / Math.max(1, pacedLines), 5),
        cpu: paced.cpu,
        stages: stageSummary(paced),
      },
      baseline: { seconds: round(baseSeconds, 2), results: small.baseOut.length, late: base.late, lines: base.lines, cpu: baseCpu },
      embedded: { seconds: round(embSeconds, 2), results: embKeys.length, invocations: emb.invocations, write_requests_model: emb.writeRequests, cpu: embCpu },
      cold_starts: { cpu: coldCpu },
      /** Issue 12: per workload, the same figures (the small one repeats the peak run's above). */
      workloads: {
        small: { ...small.figures, latency_ms: { p50: round(pct(latencies, 0.5)), p99: round(pct(latencies, 0.99)) } },
        ...(large ? { large_state: { ...large.figures, spec: largeSpec, late: { weir: large.peak.late, baseline: large.base.late }, stages: { ...stageSummary(large.peak), kafka_bytes: unprefixed(large.kafkaBytes, largePrefix) }, cpu: { peak: large.peak.cpu, baseline: large.baseCpu } } } : {}),
      },
      /** Issue 12: a cold partition restored in a fresh process (PartitionCache.load through DynamoCommitLog). */
      restore: { sizes: restore, cpu: restoreSizes.length ? restoreCpu : undefined },
      checks: { weir_equals_baseline: small.ok, embedded_equals_baseline: !embVsBase, ...(large ? { large_state_weir_equals_baseline: large.ok } : {}) },
      /** Share of the machine used by processes outside the bench in each phase (/proc accounting; a few % either way is noise). */
      other_load_share: contention,
      clean: busy.length === 0,
      targets: {
        ratio: { target: '>= 0.5', met: weirEps / baseEps >= 0.5 },
        dynamodb_writes_per_event: { target: '<= 0.05', met: writesPerEvent <= 0.05 },
        latency_p99_ms: { target: `<= ${latencyTarget} (batching window ${BATCHING_WINDOW_MS} ms + 1 s)`, met: pct(latencies, 0.99) <= latencyTarget },
        bundle_bytes: { target: '<= 300 KB (307,200 bytes)', met: bundles.every((b) => b.bytes <= 300 * 1024) },
        init_ms: { target: '<= 150', met: Object.values(cold).every((c) => c.initMs <= 150) },
      },
      bench_seconds: 0,
    };
    results.bench_seconds = round((Date.now() - benchStarted) / 1000);
    writeFileSync(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
    process.stdout.write(`\n${table(results)}\n`);
    say(`wrote ${RESULTS_FILE} (${results.bench_seconds} s in all)`);
  } finally {
    await cleanup(env, pacedPrefix).catch(() => undefined);
    for (const c of atEnd) await c();
    await admin.disconnect().catch(() => undefined);
  }
  return failed ? 1 : 0;
}

type Results = {
  weir_events_per_s: number;
  baseline_events_per_s: number;
  ratio: number;
  embedded_events_per_s: number;
  dynamodb_writes_per_event: number;
  dynamodb_write_units_per_event: number;
  dynamodb_reads_per_event: number;
  dynamodb_read_units_per_event: number;
  latency_ms: { p50: number; p99: number; max: number; results: number; windows: number };
  bundle_bytes: Record<string, number>;
  init_ms: Record<string, number>;
  cost_per_million_events: { rows: Array<{ item: string; arithmetic: string; usdPerMillion: number }>; total_usd: number };
  targets: Record<string, { target: string; met: boolean }>;
  checks: { weir_equals_baseline: boolean; embedded_equals_baseline: boolean };
  settings: { paced_rate_lines_per_s: number; batching_window_ms: number };
  peak: { cpu: CpuUse };
  other_load_share: Record<string, number>;
  clean: boolean;
  machine: { cpus: number };
  workloads: Record<string, WorkloadFigures & { latency_ms?: { p50: number; p99: number } }>;
  restore: { sizes: Record<string, RestoreSummary> };
};

const num = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d });
/** Bytes in MB (10^6), or kB below 1 MB. */
const mb = (b: number): string => (b >= 1e6 ? `${(b / 1e6).toLocaleString('en-US', { maximumFractionDigits: 1 })} MB` : `${(b / 1e3).toLocaleString('en-US', { maximumFractionDigits: 1 })} kB`);

/** Issue 12: the workloads side by side, their cost arithmetic, and the cold restores. */
function workloadTables(r: Results): string {
  const ws = Object.values(r.workloads);
  if (!ws.length) return '';
  const row = (label: string, f: (w: (typeof ws)[number]) => string): string => `| ${label} | ${ws.map(f).join(' | ')} |`;
  const out = [
    '',
    `| per workload | ${ws.map((w) => w.description).join(' | ')} |`,
    `| --- | ${ws.map(() => '---').join(' | ')} |`,
    row('input events (lines) / words / distinct keys', (w) => `${num(w.events)} / ${num(w.words)} / ${num(w.distinct_keys)}`),
    row('Weir peak', (w) => `${num(w.weir_events_per_s)} events/s`),
    row('baseline, same run', (w) => `${num(w.baseline_events_per_s)} events/s`),
    row('ratio Weir / baseline', (w) => String(w.ratio)),
    row('DynamoDB write units (WRU) per event, billed', (w) => String(w.dynamodb.write_units_per_event)),
    row('DynamoDB read units (RRU) per event, billed', (w) => String(w.dynamodb.read_units_per_event)),
    row('DynamoDB write / read requests per event', (w) => `${w.dynamodb.write_requests_per_event} / ${w.dynamodb.read_requests_per_event}`),
    row('AWS cost per million events (variable)', (w) => `$${w.cost_per_million_events.total_usd}`),
    row('state cache hit rate, hits / (hits + misses)', (w) => `${w.cache.hit_rate} (${num(w.cache.hits)} / ${num(w.cache.hits + w.cache.misses)})`),
    row('restores / snapshots written', (w) => `${num(w.cache.restores)} / ${num(w.cache.snapshots)}`),
    row('largest partition state (JSON)', (w) => mb(w.max_partition_state_bytes)),
    row('latency p50 / p99 (paced run)', (w) => (w.latency_ms ? `${w.latency_ms.p50} / ${w.latency_ms.p99} ms` : 'not measured')),
    row('CPU µs per event, Weir: DynamoDB Local / stage processes / emulator / Kafka (all)', (w) => {
      const c = w.cpu_us_per_event.weir;
      return `${c.dynamodb_local} / ${c.stage_processes} / ${c.emulator} / ${c.kafka} (${c.all})`;
    }),
    row('CPU µs per event, baseline: its process / Kafka (all)', (w) => `${w.cpu_us_per_event.baseline.baseline_process} / ${w.cpu_us_per_event.baseline.kafka} (${w.cpu_us_per_event.baseline.all})`),
    row('outputs: Weir = baseline (multiset)', (w) => String(w.outputs_equal_baseline)),
  ];
  for (const w of ws.slice(1)) {
    out.push('', `Cost per million events, ${w.description}:`, '', '| cost item | arithmetic (per million events) | $ |', '| --- | --- | --- |');
    for (const c of w.cost_per_million_events.rows) out.push(`| ${c.item} | ${c.arithmetic} | ${c.usdPerMillion} |`);
    out.push(`| **total** | | **${w.cost_per_million_events.total_usd}** |`);
  }
  const rs = Object.entries(r.restore.sizes);
  if (rs.length) {
    out.push(
      '',
      '| cold partition restore (PartitionCache.load in a fresh process, median) | state JSON / keys | bytes read from DynamoDB (RRU, requests) | load = log read + decode |',
      '| --- | --- | --- | --- |',
    );
    for (const [name, x] of rs) {
      const t = x.trials[0];
      out.push(`| ${name} (${x.trials.length} processes) | ${mb(x.state_json_bytes)} / ${num(x.keys)} | ${mb(x.bytes_read)} (${num(x.read_units)} RRU, ${t ? t.dynamo.readRequests : '?'} requests) | ${num(x.load_ms)} ms = ${num(x.read_ms)} + ${num(x.decode_ms)} ms |`);
    }
  }
  return `\n${out.join('\n')}`;
}

/** The results as the Markdown table docs/PERFORMANCE.md holds. */
function table(r: Results): string {
  const met = (k: string): string => (r.targets[k] ? (r.targets[k]?.met ? 'met' : 'MISSED') : '');
  const rows: string[][] = [
    ['Weir (bundles + MSK trigger emulator), peak', `${r.weir_events_per_s.toLocaleString('en-US')} events/s`, '', ''],
    ['baseline (one kafkajs consumer process)', `${r.baseline_events_per_s.toLocaleString('en-US')} events/s`, '', ''],
    ['ratio Weir / baseline', String(r.ratio), r.targets.ratio?.target ?? '', met('ratio')],
    ['embedded runtime (in memory)', `${r.embedded_events_per_s.toLocaleString('en-US')} events/s`, '', ''],
    ['DynamoDB write requests per event', String(r.dynamodb_writes_per_event), r.targets.dynamodb_writes_per_event?.target ?? '', met('dynamodb_writes_per_event')],
    ['DynamoDB write units (WRU) per event', String(r.dynamodb_write_units_per_event), '', ''],
    ['DynamoDB read requests per event', String(r.dynamodb_reads_per_event), '', ''],
    ['DynamoDB read units (RRU) per event', String(r.dynamodb_read_units_per_event), '', ''],
    [`latency p50 (paced, ${r.settings.paced_rate_lines_per_s} lines/s)`, `${r.latency_ms.p50} ms`, '', ''],
    [`latency p99 (${r.latency_ms.results} results, ${r.latency_ms.windows} windows)`, `${r.latency_ms.p99} ms`, r.targets.latency_p99_ms?.target ?? '', met('latency_p99_ms')],
    ...Object.entries(r.bundle_bytes).map(([s, b]) => [`bundle ${s} (minified)`, `${b.toLocaleString('en-US')} bytes (${(b / 1024).toFixed(1)} KiB)`, r.targets.bundle_bytes?.target ?? '', b <= 300 * 1024 ? 'met' : 'MISSED']),
    ...Object.entries(r.init_ms).map(([s, ms]) => [`cold init ${s} (require + init event)`, `${ms} ms`, r.targets.init_ms?.target ?? '', ms <= 150 ? 'met' : 'MISSED']),
    ['AWS cost per million events (variable)', `$${r.cost_per_million_events.total_usd}`, '', ''],
    [
      'CPU during the peak run (core-s)',
      `DynamoDB Local ${r.peak.cpu.dynamodb_s}, stage processes ${r.peak.cpu.children_s}, emulator ${r.peak.cpu.bench_process_s}, Kafka ${r.peak.cpu.kafka_s}, other ${r.peak.cpu.other_s}; of ${round(r.peak.cpu.wall_s * r.machine.cpus, 1)}`,
      '',
      '',
    ],
    ['other processes on the machine (share of its CPU, worst phase)', `${Math.max(...Object.values(r.other_load_share)).toFixed(3)}`, '<= 0.05 (else not clean)', r.clean ? 'clean' : 'NOT CLEAN'],
    ['outputs: Weir = baseline (multiset)', String(r.checks.weir_equals_baseline), 'true', r.checks.weir_equals_baseline ? 'met' : 'MISSED'],
    ['outputs: embedded = baseline (multiset)', String(r.checks.embedded_equals_baseline), 'true', r.checks.embedded_equals_baseline ? 'met' : 'MISSED'],
  ];
  const head = ['metric', 'measured', 'target', ''];
  const lines = [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((x) => `| ${x.join(' | ')} |`)];
  const cost = ['', '| cost item | arithmetic (per million events) | $ |', '| --- | --- | --- |', ...r.cost_per_million_events.rows.map((c) => `| ${c.item} | ${c.arithmetic} | ${c.usdPerMillion} |`), `| **total** | | **${r.cost_per_million_events.total_usd}** |`];
  return [...lines, ...cost].join('\n') + workloadTables(r);
}

main().then(
  (code) => {
    process.exitCode = code;
    // kafkajs and the AWS SDK may keep sockets a moment; the bench is over.
    setTimeout(() => process.exit(code), 500).unref();
  },
  (err: unknown) => {
    process.stderr.write(`[bench] failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
