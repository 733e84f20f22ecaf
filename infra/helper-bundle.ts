import { statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { buildSync } from 'esbuild';
import { stageBuildOptions, type StageBundle } from '../shared/build/bundle';
import type { Pipeline } from '../shared/api/pipeline';
import { planPipeline } from '../shared/plan/planner';

/**
 * Stage bundles built synchronously (constructs cannot await) with exactly the options of
 * `bundlePipeline`: the same `stageBuildOptions`, the same `<outDir>/<pipeline>/<stage>/index.js`.
 */
export function bundlePipelineSync(p: Pipeline, pipelineFile: string, outDir: string): StageBundle[] {
  const plan = planPipeline(p);
  return plan.stages.map((s) => {
    const dir = join(resolve(outDir), plan.pipeline, s.id);
    const file = join(dir, 'index.js');
    buildSync(stageBuildOptions(pipelineFile, s.id, file));
    return { stage: s.id, dir, file, bytes: statSync(file).size };
  });
}

/**
 * A helper function (the topics custom resource) bundled with the stage functions' esbuild
 * options, only the entry point differs: one configuration for every function Weir ships.
 */
export function bundleHelperFunction(entry: string, outDir: string, name: string): { dir: string; file: string; bytes: number } {
  const file = join(resolve(outDir), 'weir-infra', name, 'index.js');
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { stdin: _stdin, ...options } = stageBuildOptions(entry, name, file);
  buildSync({ ...options, entryPoints: [resolve(entry)] });
  return { dir: dirname(file), file, bytes: statSync(file).size };
}
