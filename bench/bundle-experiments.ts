/**
 * What makes a stage bundle big, and what its size costs at cold start: builds the
 * windowed word count's s1 stage with variants of the one esbuild configuration
 * (shared/build/bundle.ts) into build/bundle-experiments/, reports each one's bytes (with
 * the largest packages from esbuild's metafile) and its cold init (fresh processes,
 * bench/init-probe.cjs), and checks that each variant still loads and builds its clients.
 *
 *   npx tsx bench/bundle-experiments.ts
 *
 * Variants:
 *   before          external @aws-sdk/* only, no plugin (the configuration before issue #5)
 *   runtime-sdk     + @smithy/*, @aws-crypto/* external (left to the Lambda runtime)
 *   current         stageBuildOptions as it is: runtime-sdk + kafkajs pruned to a producer
 *                   (shared/build/prune-kafkajs.ts)
 *   no-keep-names   current without keepNames (NOT shippable: error and class names end up
 *                   in dead-letter headers and logs; shown for what keepNames costs)
 */
import './quiet';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { stageBuildOptions } from '../shared/build/bundle';
import { localBrokers } from '../shared/local/endpoints';
import { measureColdStarts } from './init';

const ROOT = resolve(__dirname, '..');
const OUT = resolve(ROOT, 'build/bundle-experiments');
const PIPELINE = resolve(ROOT, 'examples/windowed-wordcount.ts');
const STAGE = 's1';
const COLD_STARTS = 9;

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
    { name: 'before', options: { ...base('before'), external: ['@aws-sdk/*'], plugins: [] } },
    { name: 'runtime-sdk', options: { ...base('runtime-sdk'), plugins: [] } },
    { name: 'current', options: base('current') },
    { name: 'no-keep-names', options: { ...base('no-keep-names'), keepNames: false } },
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

  // The shipped bundles (pruned) run through the emulator in every `npm run bench` and in
  // test/integration/local-run.test.ts; this script only compares their sizes.
}

main().then(() => setTimeout(() => process.exit(), 300).unref(), (err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
