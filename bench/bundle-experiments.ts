/**
 * What makes a stage bundle big, and what its size costs at cold start: builds the
 * windowed word count's s1 stage with variants of the one esbuild configuration
 * (shared/build/bundle.ts) into build/bundle-experiments/, reports each one's bytes (with
 * the largest packages from esbuild's metafile) and its cold init (fresh processes,
 * bench/init-probe.cjs), and checks that each variant still loads and builds its clients.
 *
 *   npx tsx bench/bundle-experiments.ts   (needs the local stack for its last check)
 *
 * Variants:
 *   before        external @aws-sdk/* only (the configuration before issue #5)
 *   current       stageBuildOptions as it is (@aws-sdk/*, @smithy/*, @aws-crypto/* external)
 *   no-keep-names current without keepNames (NOT shippable: error and class names end up in
 *                 dead-letter headers and logs; shown for what keepNames costs)
 *   kafkajs-pruned current plus an esbuild plugin that replaces kafkajs's admin and consumer
 *                 clients and the protocol requests only they use with stubs that throw
 *                 (NOT shippable as is: infra/helper-bundle.ts builds with buildSync, which
 *                 takes no plugins, and its topics custom resource needs the admin client)
 */
import { localBrokers, localDynamoEndpoint } from '../shared/local/endpoints';
import './quiet';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build, type BuildOptions, type Metafile, type Plugin } from 'esbuild';
import pipeline from '../examples/windowed-wordcount';
import { createKafka } from '../shared/adapters/kafka/kafka-config';
import { bundlePipeline, stageBuildOptions } from '../shared/build/bundle';
import { planPipeline } from '../shared/plan/planner';
import { measureColdStarts } from './init';
import { produceWorkload } from './kafka';
import { compareResults, resultKey, TumblingWordCount, type WindowResult } from './window-count';
import { cleanup, runWeir } from './weir-run';
import { DEFAULT_SPEC, generate } from './workload';

const ROOT = resolve(__dirname, '..');
const OUT = resolve(ROOT, 'build/bundle-experiments');
const PIPELINE = resolve(ROOT, 'examples/windowed-wordcount.ts');
const STAGE = 's1';
const COLD_STARTS = 9;

/** Protocol requests a producer uses (kafkajs/src/broker): connect, metadata, produce, idempotence, SASL, transactions. */
const PRODUCER_REQUESTS = new Set(['apiKeys', 'produce', 'metadata', 'apiVersions', 'initProducerId', 'saslHandshake', 'saslAuthenticate', 'findCoordinator', 'addPartitionsToTxn', 'addOffsetsToTxn', 'endTxn', 'txnOffsetCommit']);

const pruneKafkajs: Plugin = {
  name: 'weir-prune-kafkajs',
  setup(b) {
    b.onResolve({ filter: /^\.\/(admin|consumer)$/ }, (a) => (a.importer.endsWith('kafkajs/src/index.js') ? { path: a.path, namespace: 'weir-stub-client' } : undefined));
    b.onResolve({ filter: /^\.\/[a-zA-Z]+$/ }, (a) =>
      a.importer.endsWith('kafkajs/src/protocol/requests/index.js') && !PRODUCER_REQUESTS.has(a.path.slice(2)) ? { path: a.path, namespace: 'weir-stub-request' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'weir-stub-client' }, (a) => ({ contents: `module.exports = () => { throw new Error('kafkajs ${a.path.slice(2)} is not part of a stage bundle') }` }));
    b.onLoad({ filter: /.*/, namespace: 'weir-stub-request' }, (a) => ({
      contents: `module.exports = { versions: [], protocol: () => { throw new Error('kafkajs request ${a.path.slice(2)} is not part of a stage bundle') } }`,
    }));
  },
};

function topPackages(meta: Metafile, n: number): string {
  const out = Object.values(meta.outputs).find((o) => o.entryPoint !== undefined || Object.keys(o.inputs).length > 0);
  const js = Object.entries(meta.outputs).find(([k]) => k.endsWith('.js'))?.[1] ?? out;
  const by = new Map<string, number>();
  for (const [file, i] of Object.entries(js?.inputs ?? {})) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
    const k = m ? (m[1] as string) : file.split('/').slice(0, 2).join('/');
    by.set(k, (by.get(k) ?? 0) + i.bytesInOutput);
  }
  return [...by]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, v]) => `${k} ${(v / 1024).toFixed(1)}`)
    .join(', ');
}

async function main(): Promise<void> {
  rmSync(OUT, { recursive: true, force: true });
  const base = (dir: string): BuildOptions => stageBuildOptions(PIPELINE, STAGE, join(OUT, dir, 'index.js'));
  const variants: Array<{ name: string; options: BuildOptions }> = [
    { name: 'before', options: { ...base('before'), external: ['@aws-sdk/*'] } },
    { name: 'current', options: base('current') },
    { name: 'no-keep-names', options: { ...base('no-keep-names'), keepNames: false } },
    { name: 'kafkajs-pruned', options: { ...base('kafkajs-pruned'), plugins: [pruneKafkajs] } },
  ];
  const env = { WEIR_BROKERS: localBrokers(), WEIR_PARTITIONS: '4', AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' };
  const rows: string[] = ['| variant | bytes | KiB | cold init ms (require + init event, median of 9) | require ms | largest parts (KiB) |', '| --- | --- | --- | --- | --- | --- |'];
  for (const v of variants) {
    mkdirSync(join(OUT, v.name), { recursive: true });
    const r = await build({ ...v.options, metafile: true });
    const file = join(OUT, v.name, 'index.js');
    const bytes = statSync(file).size;
    const cold = await measureColdStarts(file, env, COLD_STARTS);
    rows.push(`| ${v.name} | ${bytes.toLocaleString('en-US')} | ${(bytes / 1024).toFixed(1)} | ${cold.initMs.toFixed(1)} | ${cold.requireMs.toFixed(1)} | ${topPackages(r.metafile, 5)} |`);
    process.stdout.write(`${rows[rows.length - 1]}\n`);
  }
  process.stdout.write(`\n${rows.join('\n')}\n`);

  // Does the pruned producer still work? Both stages pruned, a small peak run, results checked.
  for (const stage of ['s0', 's1']) await build({ ...stageBuildOptions(PIPELINE, stage, join(OUT, 'kafkajs-pruned-run', stage, 'index.js')), plugins: [pruneKafkajs] });
  const spec = { ...DEFAULT_SPEC, lines: 5000 };
  const w = generate(spec);
  const expected = new TumblingWordCount(spec.partitions);
  for (let i = 0; i < w.text.length; i++) expected.add(w.partition[i] as number, w.timestamp[i] as number, w.text[i] as string);
  for (let p = 0; p < spec.partitions; p++) expected.finish(p);
  const kafka = createKafka({ brokers: [localBrokers()], clientId: 'weir-bundle-experiments' });
  const admin = kafka.admin();
  await admin.connect();
  const plan = planPipeline(pipeline, { defaultPartitions: spec.partitions });
  const bundles = await bundlePipeline(pipeline, PIPELINE, { outDir: resolve(ROOT, 'build'), partitions: spec.partitions });
  const env2 = { kafka, admin, brokers: localBrokers(), dynamoEndpoint: localDynamoEndpoint(), pipeline, plan, bundles };
  const prefix = `weir-bench-pruned-${Date.now().toString(36)}-`;
  try {
    const run = await runWeir(env2, {
      prefix,
      batchSize: 500,
      batchingWindowMs: 100,
      preload: async (topic) => void (await produceWorkload(kafka, topic, w)),
      timeoutMs: 180_000,
      label: 'pruned',
      expectedRecords: spec.lines,
      expectedWords: w.words,
      bundleFile: (stage) => join(OUT, 'kafkajs-pruned-run', stage, 'index.js'),
    });
    const got = run.results.map((r) => resultKey(JSON.parse(r.value ?? 'null') as WindowResult));
    const diff = compareResults(got, expected.advance().map(resultKey), ['kafkajs-pruned run', 'expected']);
    process.stdout.write(`\nkafkajs-pruned bundles through the emulator, ${spec.lines} lines: ${diff ?? `${got.length} window results, equal to the expected ones`}\n`);
    if (diff) process.exitCode = 1;
  } finally {
    await cleanup(env2, prefix).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
}

main().then(() => setTimeout(() => process.exit(), 300).unref(), (err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
