/**
 * `npm run bench` (issue #5): the windowed word count through the stage bundles and the MSK
 * trigger emulator against the local Kafka and DynamoDB Local, against a plain kafkajs
 * baseline and the embedded runtime, in one run. Writes bench/results.json and prints the
 * table docs/PERFORMANCE.md holds. Exits non-zero when the outputs differ.
 *
 *   BENCH_LINES     input lines (default 200000; the committed numbers come from the default)
 *   BENCH_PACED_S   seconds of the paced (latency) run (default 90)
 *   BENCH_WINDOW_MS batching window of the emulated MSK triggers (default 100)
 */
import './quiet';
import { fork, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import pipeline from '../examples/windowed-wordcount';
import { createKafka } from '../shared/adapters/kafka/kafka-config';
import { bundlePipeline } from '../shared/build/bundle';
import { localBrokers, localDynamoEndpoint } from '../shared/local/endpoints';
import { runEmbedded } from '../shared/local/embedded';
import type { InputRecord } from '../shared/local/input-file';
import { planPipeline } from '../shared/plan/planner';
import type { BaselineConfig, BaselineReport } from './baseline-worker';
import { costPerMillion, MEMORY_GB, PRICES } from './cost';
import { cpuBetween, cpuSnapshot, type CpuUse } from './cpu';
import { measureColdStarts, type ColdStartSummary } from './init';
import { brokerBytes, createTopics, endOffsets, produceWorkload, readTopic, type ReadRecord } from './kafka';
import { compareResults, resultKey, type WindowResult } from './window-count';
import { cleanup, pacedFeed, physicalTopics, runWeir, stageEnv, type WeirEnv, type WeirRunResult } from './weir-run';
import { DEFAULT_SPEC, generate, lineMaker, maxLag } from './workload';

const PIPELINE_FILE = resolve(__dirname, '../examples/windowed-wordcount.ts');
const BROKERS = localBrokers();
const DYNAMODB = localDynamoEndpoint();
const BATCH_SIZE = 500;
/**
 * The emulator's batching window (MSK MaximumBatchingWindowInSeconds): its default, 100 ms.
 * BENCH_WINDOW_MS overrides it (docs/PERFORMANCE.md compares 0, 100 and 500 ms).
 */
/** Trials write elsewhere (BENCH_OUT) so the published full run stays in bench/results.json. */
const RESULTS_FILE = resolve(process.env.BENCH_OUT ?? resolve(__dirname, 'results.json'));
const BATCHING_WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 100);
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

async function main(): Promise<number> {
  const benchStarted = Date.now();
  const lines = Number(process.env.BENCH_LINES ?? DEFAULT_SPEC.lines);
  const pacedSeconds = Number(process.env.BENCH_PACED_S ?? 90);
  if (!(Number.isInteger(lines) && lines >= 1000)) throw new Error(`BENCH_LINES must be an integer >= 1000, got ${process.env.BENCH_LINES}`);
  if (!(pacedSeconds >= 20)) throw new Error(`BENCH_PACED_S must be >= 20, got ${process.env.BENCH_PACED_S}`);
  ensureLocalStack();

  const spec = { ...DEFAULT_SPEC, lines };
  const workload = generate(spec);
  const lag = maxLag(workload);
  const eventSpanMs = maxOf(workload.timestamp) - minOf(workload.timestamp);
  say(`workload: ${lines} lines, ${workload.words} words (vocabulary ${spec.vocabulary}, Zipf s=${spec.zipfExponent}, ${spec.minWords}-${spec.maxWords} words a line), ${spec.partitions} partitions, ${round(eventSpanMs / 1000)} s of event time, max lag behind a partition's max ${lag} ms (bound ${BOUND_MS})`);

  const plan = planPipeline(pipeline, { defaultPartitions: spec.partitions });
  const runId = randomBytes(3).toString('hex');
  const kafka = createKafka({ brokers: [BROKERS], clientId: `weir-bench-${runId}` });
  const admin = kafka.admin();
  await admin.connect();
  say('bundling the stage functions (shared/build/bundle.ts, as cdk deploy)');
  const bundles = await bundlePipeline(pipeline, PIPELINE_FILE, { outDir: resolve('build'), partitions: spec.partitions });
  const env: WeirEnv = { kafka, admin, brokers: BROKERS, dynamoEndpoint: DYNAMODB, pipeline, plan, bundles };
  const peakPrefix = `weir-bench-${runId}-peak-`;
  const pacedPrefix = `weir-bench-${runId}-paced-`;
  const baselineTopic = `weir-bench-${runId}-baseline-results`;
  let failed = false;
  try {
    // 1 + 2. Peak: the input is in Kafka before the stages start; all partitions in parallel.
    say(`peak run: ${lines} lines, batch size ${BATCH_SIZE}, batching window ${BATCHING_WINDOW_MS} ms, free mode (prefix ${peakPrefix})`);
    let produceMs = 0;
    const peak = await runWeir(env, {
      prefix: peakPrefix,
      batchSize: BATCH_SIZE,
      batchingWindowMs: BATCHING_WINDOW_MS,
      preload: async (topic) => {
        produceMs = await produceWorkload(kafka, topic, workload);
      },
      timeoutMs: 900_000,
      label: 'peak',
      expectedRecords: lines,
      expectedWords: workload.words,
    });
    const peakResults = dedupeById(peak.results);
    const weirKeys = peakResults.unique.map((r) => resultKey(parseResult(r.value)));
    const peakLastWrite = maxOf(peakResults.unique.map((r) => r.timestamp));
    const weirSeconds = (peakLastWrite - peak.firstReadAt) / 1000;
    const weirEps = lines / weirSeconds;
    const peakDynamo = dynamoTotals(peak);
    say(`peak: ${peakResults.unique.length} window results (${peakResults.duplicates} duplicates by weir-id dropped) in ${round(weirSeconds, 2)} s from the first record read to the last result written: ${round(weirEps)} events/s`);

    // 3. Baseline: one plain kafkajs consumer in a child process, same input topic.
    const topics = physicalTopics(plan, peakPrefix);
    await createTopics(admin, [{ topic: baselineTopic, partitions: spec.partitions, logAppendTime: true }]);
    const inputEnds = await endOffsets(admin, topics.source);
    say('baseline: one kafkajs consumer process, windows in memory');
    const baseCpu0 = cpuSnapshot();
    const base = await runBaseline({
      brokers: [BROKERS],
      inputTopic: topics.source,
      outputTopic: baselineTopic,
      groupId: `weir-bench-${runId}-baseline`,
      ends: Object.fromEntries([...inputEnds].map(([p, e]) => [String(p), e])),
      timeoutMs: 180_000,
    });
    const baseCpu = cpuBetween(baseCpu0, cpuSnapshot(), cpus().length);
    const baseOut = await readTopic(kafka, baselineTopic, await endOffsets(admin, baselineTopic));
    const baseKeys = baseOut.map((r) => resultKey(parseResult(r.value)));
    const baseLastWrite = maxOf(baseOut.map((r) => r.timestamp));
    const baseSeconds = (baseLastWrite - base.firstReadAt) / 1000;
    const baseEps = base.lines / baseSeconds;
    say(`baseline: ${baseOut.length} window results in ${round(baseSeconds, 2)} s: ${round(baseEps)} events/s (late words ${base.late})`);
    const weirVsBase = compareResults(weirKeys, baseKeys, ['weir', 'baseline']);
    if (weirVsBase || peak.late !== base.late) {
      failed = true;
      say(`MISMATCH weir vs baseline: ${weirVsBase ?? ''} late: weir ${peak.late}, baseline ${base.late}`);
    } else say(`weir output equals the baseline's as multisets (${weirKeys.length} results, ${peak.late} late)`);

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

    // Was the machine ours? CPU of processes outside the bench, per phase, as a share of the machine.
    const phases = { peak: peak.cpu, baseline: baseCpu, embedded: embCpu, paced: paced.cpu, cold_starts: coldCpu };
    const contention = Object.fromEntries(Object.entries(phases).map(([k, c]) => [k, round(c.other_s / (c.wall_s * cpus().length), 3)]));
    const busy = Object.entries(contention).filter(([, share]) => share > 0.05);
    if (busy.length) say(`WARNING: other processes used ${busy.map(([k, v]) => `${Math.round(v * 100)}% of the machine during ${k}`).join(', ')}: these figures are not clean; run again on a quiet machine`);

    // Cost per million events, from the peak run.
    const bytes = brokerBytes(peakPrefix);
    const sourceBytes = bytes?.get(topics.source) ?? workload.bytes;
    const repartitionBytes = sum(topics.repartition.map((t) => bytes?.get(peakPrefix + t) ?? 0));
    const kafkaIn = bytes ? sum([...bytes.values()]) : workload.bytes;
    const invocations = sum(peak.stages.map((s) => s.invocationMs.length + s.controlMs.length));
    const invocationMs = sum(peak.stages.map((s) => sum(s.invocationMs) + sum(s.controlMs)));
    const cost = costPerMillion({
      events: lines,
      invocations,
      invocationMs,
      writeUnits: peakDynamo.writeUnits,
      readUnits: peakDynamo.readUnits,
      writeRequests: peakDynamo.writeRequests,
      kafkaBytesIn: kafkaIn,
      kafkaBytesOut: sourceBytes + repartitionBytes,
    });

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
      cost_per_million_events: { prices: PRICES, rows: cost.rows.map((r) => ({ ...r, usdPerMillion: round(r.usdPerMillion, 4) })), total_usd: round(cost.total, 3) },
      peak: {
        seconds: round(weirSeconds, 2),
        produce_ms: produceMs,
        results: peakResults.unique.length,
        duplicate_results_dropped: peakResults.duplicates,
        late: peak.late,
        dlq: peak.dlq,
        source_done_after_s: round((peak.sourceDoneAt - peak.firstReadAt) / 1000, 2),
        dynamodb: peakDynamo,
        dynamodb_writes_per_word: round(peakDynamo.writeRequests / workload.words, 5),
        cpu: peak.cpu,
        kafka_bytes: bytes ? Object.fromEntries([...bytes].map(([t, n]) => [t.slice(peakPrefix.length), n])) : undefined,
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
      baseline: { seconds: round(baseSeconds, 2), results: baseOut.length, late: base.late, lines: base.lines, cpu: baseCpu },
      embedded: { seconds: round(embSeconds, 2), results: embKeys.length, invocations: emb.invocations, write_requests_model: emb.writeRequests, cpu: embCpu },
      cold_starts: { cpu: coldCpu },
      checks: { weir_equals_baseline: !weirVsBase && peak.late === base.late, embedded_equals_baseline: !embVsBase },
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
    for (const prefix of [peakPrefix, pacedPrefix]) await cleanup(env, prefix).catch(() => undefined);
    await admin.deleteTopics({ topics: [baselineTopic], timeout: 30_000 }).catch(() => undefined);
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
};

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
  return [...lines, ...cost].join('\n');
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
