/**
 * `tsx shared/build/bundle-cli.ts <pipeline file> <out dir>`: bundles every stage with
 * `bundlePipeline` and prints the bundles as JSON. CDK constructs cannot await, and esbuild
 * runs plugins only in its asynchronous API, so infra/helper-bundle.ts calls this in a child
 * process: the deployed assets come from the very function the local emulator's bundles do.
 */
import { loadPipeline } from '../local/load-pipeline';
import { bundlePipeline } from './bundle';

async function main(): Promise<void> {
  const [file, outDir] = process.argv.slice(2);
  if (!file || !outDir) throw new Error('usage: bundle-cli.ts <pipeline file> <out dir>');
  const bundles = await bundlePipeline(loadPipeline(file), file, { outDir });
  process.stdout.write(JSON.stringify(bundles));
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
});
