/**
 * CPU profiles of a peak run (as bench/index.ts runs it, on a smaller input): every stage
 * process (a wrapper around the bundle starts V8's sampling profiler before loading it and
 * writes a .cpuprofile every few seconds: the emulator SIGKILLs sandboxes, so --cpu-prof's
 * write-at-exit never happens; stopping and writing takes a moment, so every 8 s only), the bench process (the emulator: kafkajs consumers, MSK
 * events, IPC), and the embedded runtime. Self time is attributed to original source files
 * through the bundles' source maps.
 *
 *   npx tsx bench/profile.ts            (BENCH_LINES, default 40000; profiles in build/profile/)
 */
import { localBrokers, localDynamoEndpoint } from '../shared/local/endpoints';
import './quiet';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { SourceMap } from 'node:module';
import { join, relative, resolve } from 'node:path';
import pipeline from '../examples/windowed-wordcount';
import { createKafka } from '../shared/adapters/kafka/kafka-config';
import { bundlePipeline } from '../shared/build/bundle';
import { runEmbedded } from '../shared/local/embedded';
import { planPipeline } from '../shared/plan/planner';
import { produceWorkload } from './kafka';
import { cleanup, runWeir, type WeirEnv } from './weir-run';
import { DEFAULT_SPEC, generate } from './workload';

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }; hitCount?: number }>;
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const ROOT = resolve(__dirname, '..');
const OUT = resolve(ROOT, 'build/profile');

function wrapper(stage: string, bundle: string): string {
  return `'use strict';
const inspector = require('node:inspector');
const fs = require('node:fs');
const session = new inspector.Session();
session.connect();
const post = (m, p) => new Promise((ok, fail) => session.post(m, p || {}, (e, r) => (e ? fail(e) : ok(r))));
session.post('Profiler.enable');
session.post('Profiler.setSamplingInterval', { interval: 1000 });
session.post('Profiler.start');
const real = require(${JSON.stringify(bundle)});
let n = 0;
let last = Date.now();
const dump = async () => {
  const { profile } = await post('Profiler.stop');
  fs.writeFileSync(${JSON.stringify(OUT)} + '/${stage}-' + process.pid + '-' + n++ + '.cpuprofile', JSON.stringify(profile));
  await post('Profiler.start');
};
exports.handler = async (event, context) => {
  try {
    return await real.handler(event, context);
  } finally {
    if (Date.now() - last > 8000) {
      last = Date.now();
      await dump();
    }
  }
};
`;
}

const maps = new Map<string, SourceMap | null>();
function sourceMapOf(url: string): SourceMap | null {
  if (!maps.has(url)) {
    let m: SourceMap | null = null;
    try {
      const file = url.startsWith('file://') ? new URL(url).pathname : url;
      if (file.endsWith('index.js')) m = new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')) as ConstructorParameters<typeof SourceMap>[0]);
    } catch {
      m = null;
    }
    maps.set(url, m);
  }
  return maps.get(url) ?? null;
}

/** Where a frame's code came from: a package, a source file of this repo, or V8/Node. */
function origin(frame: CpuProfile['nodes'][number]['callFrame']): { group: string; where: string } {
  const { url, functionName } = frame;
  if (!url) return { group: functionName.startsWith('(') ? functionName : '(native)', where: functionName || '(anonymous)' };
  let file = url.startsWith('file://') ? new URL(url).pathname : url;
  let line = frame.lineNumber + 1;
  const map = sourceMapOf(url);
  if (map) {
    const e = map.findEntry(frame.lineNumber, frame.columnNumber) as { originalSource?: string; originalLine?: number };
    if (e.originalSource) {
      file = resolve(join(new URL(url).pathname, '..'), e.originalSource.replace(/^file:\/\//, ''));
      line = (e.originalLine ?? 0) + 1;
    }
  }
  if (file.startsWith('node:')) return { group: 'node (built-in modules)', where: `${functionName || '(anonymous)'} ${file}` };
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(file);
  const rel = relative(ROOT, file);
  const group = pkg ? `${pkg[1]}` : rel.startsWith('..') ? file : rel.split('/').slice(0, 2).join('/');
  const where = `${functionName || '(anonymous)'} ${pkg ? `${pkg[1]}/${pkg[2]}` : rel}:${line}`;
  return { group, where };
}

interface Summary {
  readonly totalMs: number;
  readonly idleMs: number;
  readonly groups: Array<[string, number]>;
  readonly functions: Array<[string, number]>;
}

function summarize(profiles: readonly CpuProfile[]): Summary {
  const groups = new Map<string, number>();
  const functions = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const p of profiles) {
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const self = new Map<number, number>();
    p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000));
    for (const [id, ms] of self) {
      const n = byId.get(id);
      if (!n) continue;
      if (n.callFrame.functionName === '(idle)') {
        idle += ms;
        continue;
      }
      total += ms;
      const o = origin(n.callFrame);
      groups.set(o.group, (groups.get(o.group) ?? 0) + ms);
      functions.set(o.where, (functions.get(o.where) ?? 0) + ms);
    }
  }
  const top = (m: Map<string, number>, n: number): Array<[string, number]> => [...m].sort((a, b) => b[1] - a[1]).slice(0, n);
  return { totalMs: total, idleMs: idle, groups: top(groups, 14), functions: top(functions, 22) };
}

function report(title: string, s: Summary): string {
  const pct = (ms: number): string => `${((100 * ms) / s.totalMs).toFixed(1)}%`;
  return [
    `## ${title}: ${Math.round(s.totalMs)} ms on CPU (${Math.round(s.idleMs)} ms idle)`,
    '',
    'self time by origin:',
    ...s.groups.map(([g, ms]) => `  ${pct(ms).padStart(6)}  ${Math.round(ms).toString().padStart(7)} ms  ${g}`),
    '',
    'top functions (self time):',
    ...s.functions.map(([f, ms]) => `  ${pct(ms).padStart(6)}  ${Math.round(ms).toString().padStart(7)} ms  ${f}`),
    '',
  ].join('\n');
}

async function profileHere<T>(fn: () => Promise<T>): Promise<{ value: T; profile: CpuProfile }> {
  const session = new Session();
  session.connect();
  const post = <R>(m: string, p?: object): Promise<R> => new Promise((ok, fail) => session.post(m, p ?? {}, (e, r) => (e ? fail(e) : ok(r as R))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 1000 });
  await post('Profiler.start');
  try {
    const value = await fn();
    const { profile } = await post<{ profile: CpuProfile }>('Profiler.stop');
    return { value, profile };
  } finally {
    session.disconnect();
  }
}

async function main(): Promise<void> {
  const lines = Number(process.env.BENCH_LINES ?? 40_000);
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  const spec = { ...DEFAULT_SPEC, lines };
  const workload = generate(spec);
  const plan = planPipeline(pipeline, { defaultPartitions: spec.partitions });
  const kafka = createKafka({ brokers: [localBrokers()], clientId: 'weir-bench-profile' });
  const admin = kafka.admin();
  await admin.connect();
  const bundles = await bundlePipeline(pipeline, resolve(ROOT, 'examples/windowed-wordcount.ts'), { outDir: resolve(ROOT, 'build'), partitions: spec.partitions });
  for (const b of bundles) writeFileSync(join(OUT, `wrap-${b.stage}.cjs`), wrapper(b.stage, b.file));
  const env: WeirEnv = { kafka, admin, brokers: localBrokers(), dynamoEndpoint: localDynamoEndpoint(), pipeline, plan, bundles };
  const prefix = `weir-bench-profile-${Date.now().toString(36)}-`;
  const out: string[] = [`# CPU profile of a peak run: ${lines} lines, batch size 500 (${new Date().toISOString()})`, ''];
  try {
    const { value: run, profile: mainProfile } = await profileHere(() =>
      runWeir(env, {
        prefix,
        batchSize: 500,
        batchingWindowMs: 500,
        preload: async (topic) => void (await produceWorkload(kafka, topic, workload)),
        timeoutMs: 600_000,
        label: 'profile',
        expectedRecords: lines,
        expectedWords: workload.words,
        bundleFile: (stage) => join(OUT, `wrap-${stage}.cjs`),
      }),
    );
    const seconds = (run.results.reduce((m, r) => Math.max(m, r.timestamp), 0) - run.firstReadAt) / 1000;
    out.push(`peak: ${Math.round(lines / seconds)} events/s (${seconds.toFixed(1)} s); invocation ms p50: ${run.stages.map((s) => `${s.stage} ${Math.round([...s.invocationMs].sort((a, b) => a - b)[s.invocationMs.length >> 1] ?? 0)}`).join(', ')}`, '');
    for (const b of bundles) {
      const files = readdirSync(OUT).filter((f) => f.startsWith(`${b.stage}-`) && f.endsWith('.cpuprofile'));
      const profiles = files.map((f) => JSON.parse(readFileSync(join(OUT, f), 'utf8')) as CpuProfile);
      out.push(report(`stage ${b.stage} processes (${files.length} profiles)`, summarize(profiles)));
    }
    writeFileSync(join(OUT, 'bench-process.cpuprofile'), JSON.stringify(mainProfile));
    out.push(report('bench process (MSK trigger emulator, kafkajs consumers, IPC)', summarize([mainProfile])));
    const input = workload.text.map((t, i) => ({ partition: workload.partition[i] as number, timestamp: workload.timestamp[i] as number, value: t }));
    const { profile: embProfile } = await profileHere(() => runEmbedded(pipeline, input, { partitions: spec.partitions, batchSize: 500 }));
    writeFileSync(join(OUT, 'embedded.cpuprofile'), JSON.stringify(embProfile));
    out.push(report('embedded runtime (same workload, in memory)', summarize([embProfile])));
  } finally {
    await cleanup(env, prefix).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
  const text = out.join('\n');
  writeFileSync(join(OUT, 'summary.txt'), text);
  process.stdout.write(`${text}\nprofiles and summary in ${relative(process.cwd(), OUT)}/\n`);
}

main().then(
  () => setTimeout(() => process.exit(0), 300).unref(),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
