#!/usr/bin/env node
// cdk.json runs this with tsx: `npx cdk synth -c pipeline=examples/windowed-wordcount.ts`.
import { App } from 'aws-cdk-lib';
import { bundlePipeline } from '../shared/build/bundle';
import { loadCheckedPipeline } from '../shared/local/load-pipeline';
import { planPipeline } from '../shared/plan/planner';
import { ConfigError } from '../shared/runtime/errors';
import { WeirStack, type WeirAppContext } from './weir-stack';

function context(app: App): WeirAppContext {
  const get = (k: string): string | undefined => {
    const v: unknown = app.node.tryGetContext(k);
    return v === undefined || v === null || v === '' ? undefined : String(v);
  };
  const pipeline = get('pipeline');
  if (!pipeline) throw new ConfigError('context "pipeline" is not set; run e.g. `npx cdk synth -c pipeline=examples/windowed-wordcount.ts`');
  const partitions = get('partitions');
  if (partitions !== undefined && !/^\d+$/.test(partitions)) throw new ConfigError(`context "partitions" must be a positive integer, got "${partitions}"`);
  const keys = ['clusterArn', 'vpcId', 'subnetIds', 'securityGroupIds', 'availabilityZones', 'bootstrapBrokers', 'auth', 'scramSecretArn'] as const;
  return {
    pipeline,
    ...(partitions !== undefined ? { partitions: Number(partitions) } : {}),
    ...Object.fromEntries(keys.flatMap((k) => (get(k) !== undefined ? [[k, get(k)]] : []))),
  };
}

async function main(): Promise<void> {
  const app = new App();
  const ctx = context(app);
  const p = loadCheckedPipeline(ctx.pipeline);
  // The bundles the local emulator runs, byte for byte; their sizes go to stderr (stdout may carry the template).
  const bundles = await bundlePipeline(p, ctx.pipeline, { outDir: 'build', ...(ctx.partitions !== undefined ? { partitions: ctx.partitions } : {}) });
  for (const b of bundles) process.stderr.write(`weir: bundle ${p.name}/${b.stage} ${(b.bytes / 1024).toFixed(1)} KiB (${b.file})\n`);
  const plan = planPipeline(p, ctx.partitions !== undefined ? { defaultPartitions: ctx.partitions } : {});
  const stackName = String(app.node.tryGetContext('stackName') ?? `Weir-${plan.pipeline}`);
  new WeirStack(app, stackName, { pipeline: p, pipelineFile: ctx.pipeline, context: ctx, bundles, description: `Weir pipeline ${plan.pipeline}: ${plan.stages.length} stage function(s) on MSK` });
  app.synth();
}

main().catch((err: unknown) => {
  process.stderr.write(`weir: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
