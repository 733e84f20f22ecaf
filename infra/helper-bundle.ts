import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { buildSync } from 'esbuild';
import { stageBuildOptions, type StageBundle } from '../shared/build/bundle';
import type { Pipeline } from '../shared/api/pipeline';
import { ConfigError } from '../shared/runtime/errors';
import { planPipeline } from '../shared/plan/planner';

const BUNDLE_CLI = resolve(__dirname, '../shared/build/bundle-cli.ts');

/**
 * Stage bundles for constructs, which cannot await: `bundlePipeline` itself (its esbuild
 * plugin needs the asynchronous API) run to completion in a child process, so the assets are
 * the same `<outDir>/<pipeline>/<stage>/index.js` the local emulator runs.
 */
export function bundlePipelineSync(p: Pipeline, pipelineFile: string, outDir: string): StageBundle[] {
  const plan = planPipeline(p);
  const r = spawnSync(process.execPath, [require.resolve('tsx/cli'), BUNDLE_CLI, resolve(pipelineFile), resolve(outDir)], { encoding: 'utf8', maxBuffer: 16 << 20 });
  if (r.status !== 0) {
    throw new ConfigError(`bundling the stage functions of ${pipelineFile} failed: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim()}; run \`npx weir plan ${pipelineFile}\` to check the pipeline`);
  }
  const bundles = JSON.parse(r.stdout) as StageBundle[];
  for (const s of plan.stages) {
    if (!bundles.some((b) => b.stage === s.id)) throw new ConfigError(`bundling ${pipelineFile} produced no bundle for stage ${s.id}`);
  }
  return bundles.map((b) => ({ ...b, bytes: statSync(b.file).size }));
}

/**
 * A helper function (the topics custom resource) bundled with the stage functions' esbuild
 * options, only the entry point differs: one configuration for every function Weir ships.
 */
export function bundleHelperFunction(entry: string, outDir: string, name: string): { dir: string; file: string; bytes: number } {
  const file = join(resolve(outDir), 'weir-infra', name, 'index.js');
  // The helper keeps all of kafkajs (it administers topics): no pruning plugin, so buildSync works.
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { stdin: _stdin, plugins: _plugins, ...options } = stageBuildOptions(entry, name, file);
  buildSync({ ...options, entryPoints: [resolve(entry)] });
  return { dir: dirname(file), file, bytes: statSync(file).size };
}
