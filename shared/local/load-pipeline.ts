import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Pipeline } from '../api/pipeline';
import { ConfigError } from '../runtime/errors';
import { typecheckPipeline } from './typecheck';

/**
 * Loads a pipeline module (TypeScript is compiled on the fly by the CLI's loader): its
 * default export, or an export named `pipeline`, must be a Pipeline.
 */
export function loadPipeline(file: string): Pipeline {
  const path = resolve(file);
  if (!existsSync(path)) throw new ConfigError(`pipeline file ${file} does not exist; pass a .ts file whose default export is pipeline('name')`);
  let mod: { default?: unknown; pipeline?: unknown };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require(path) as typeof mod;
  } catch (err) {
    // The first lines name the error and where it is (esbuild: `file:line:col: ERROR: ...`).
    const lines = (err instanceof Error ? err.message : String(err)).split('\n').map((l) => l.trim()).filter(Boolean);
    throw new ConfigError(`pipeline file ${file} failed to load: ${lines.slice(0, 3).join(' ')}; fix the file (npm run typecheck shows type errors) and run again`);
  }
  const candidate = mod.default ?? mod.pipeline;
  if (candidate instanceof Pipeline) return candidate;
  throw new ConfigError(`${file} must export a pipeline: add \`export default p;\` where p = pipeline('name')`);
}

/**
 * What the CLI and cdk synth load: the file is type-checked first, so a pipeline with a type
 * error stops with the compiler's message instead of running (tsx and esbuild only strip types).
 */
export function loadCheckedPipeline(file: string): Pipeline {
  // A missing file gets loadPipeline's own message, not the compiler's.
  if (!existsSync(resolve(file))) return loadPipeline(file);
  typecheckPipeline(file);
  return loadPipeline(file);
}
