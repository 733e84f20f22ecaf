import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Pipeline } from '../api/pipeline';
import { ConfigError } from '../runtime/errors';

/**
 * Loads a pipeline module (TypeScript is compiled on the fly by the CLI's loader): its
 * default export, or an export named `pipeline`, must be a Pipeline.
 */
export function loadPipeline(file: string): Pipeline {
  const path = resolve(file);
  if (!existsSync(path)) throw new ConfigError(`pipeline file ${file} does not exist; pass a .ts file whose default export is pipeline('name')`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(path) as { default?: unknown; pipeline?: unknown };
  const candidate = mod.default ?? mod.pipeline;
  if (candidate instanceof Pipeline) return candidate;
  throw new ConfigError(`${file} must export a pipeline: add \`export default p;\` where p = pipeline('name')`);
}
