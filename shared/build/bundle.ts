import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build, type BuildOptions } from 'esbuild';
import type { Pipeline } from '../api/pipeline';
import { planPipeline } from '../plan/planner';
import { pruneKafkajsForProducers } from './prune-kafkajs';

export interface StageBundle {
  readonly stage: string;
  /** Folder holding index.js (+ source map): the Lambda asset. */
  readonly dir: string;
  readonly file: string;
  readonly bytes: number;
}

export interface BundleOptions {
  /** @default build/ under the current directory */
  readonly outDir?: string;
  readonly partitions?: number;
  /** @default true */
  readonly minify?: boolean;
}

const FUNCTIONS = resolve(__dirname, '../../functions/stage-handler.ts');

/**
 * Left to the Lambda Node.js 22 runtime, which ships the AWS SDK v3 with its @smithy/* and
 * @aws-crypto/* dependencies (on NODE_PATH, /var/runtime/node_modules). @smithy/* and
 * @aws-crypto/* reach the bundle only through the MSK IAM signer (loaded on first use, IAM
 * auth only): 32 KB of the 415 KB a stage bundle was (docs/PERFORMANCE.md).
 */
export const RUNTIME_PROVIDED: readonly string[] = ['@aws-sdk/*', '@smithy/*', '@aws-crypto/*'];

/**
 * The one esbuild configuration for stage functions: what `cdk deploy` uploads and what the
 * local MSK trigger emulator runs. The AWS SDK v3 is left to the Lambda Node.js runtime.
 */
export function stageBuildOptions(pipelineFile: string, stage: string, outfile: string, minify = true): BuildOptions {
  const entry = `import p from ${JSON.stringify(resolve(pipelineFile))};\nimport { stageHandler } from ${JSON.stringify(FUNCTIONS)};\nexport const handler = stageHandler(p, ${JSON.stringify(stage)});\n`;
  return {
    stdin: { contents: entry, resolveDir: process.cwd(), sourcefile: `weir-${stage}-entry.ts`, loader: 'ts' },
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    minify,
    // Error and class names appear in dead-letter headers and logs; keep them through minification.
    keepNames: true,
    sourcemap: 'linked',
    sourcesContent: false,
    legalComments: 'none',
    external: [...RUNTIME_PROVIDED],
    // Plugins need esbuild's asynchronous API: infra/helper-bundle.ts builds in a child process.
    plugins: [pruneKafkajsForProducers],
    outfile,
    logLevel: 'silent',
  };
}

/** Bundles one function per stage of the pipeline in `pipelineFile`. */
export async function bundlePipeline(p: Pipeline, pipelineFile: string, options: BundleOptions = {}): Promise<StageBundle[]> {
  const plan = planPipeline(p, { defaultPartitions: options.partitions ?? 4 });
  const outDir = resolve(options.outDir ?? 'build');
  return Promise.all(
    plan.stages.map(async (s) => {
      const dir = join(outDir, plan.pipeline, s.id);
      const file = join(dir, 'index.js');
      await build(stageBuildOptions(pipelineFile, s.id, file, options.minify ?? true));
      return { stage: s.id, dir, file, bytes: statSync(file).size };
    }),
  );
}
