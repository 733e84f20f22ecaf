import { localBrokers, localDynamoClient, localDynamoEndpoint } from './endpoints';
import { resolve } from 'node:path';
import type { Pipeline } from '../api/pipeline';
import type { StartingPosition } from '../api/sources';
import { ensureTables } from '../adapters/dynamodb';
import { createKafka } from '../adapters/kafka/kafka-config';
import { bundlePipeline, type StageBundle } from '../build/bundle';
import { planPipeline } from '../plan/planner';
import type { PipelinePlan } from '../plan/types';
import { ConfigError } from '../runtime/errors';
import { stageNeedsTicks } from '../runtime/executor';
import { EsmEmulator, type EsmOptions } from './esm/emulator';
import { startDevUi, type DevUi } from './ui';
import { assertPortFree } from './ui/server';
import { localStageEnv } from './stage-env';

export interface DevOptions {
  readonly partitions?: number;
  readonly batchSize?: number;
  readonly batchingWindowMs?: number;
  readonly brokers?: string;
  readonly dynamoEndpoint?: string;
  /** How often the ticker runs (idle partitions, processing time). @default 1000 */
  readonly tickMs?: number;
  readonly onStatus?: (line: string) => void;
  /** Invoke the stage functions deployed behind this Lambda API (LocalStack) instead of local bundles. */
  readonly lambdaEndpoint?: string;
  /** Function name per stage, with {pipeline} and {stage}. @default 'weir-{pipeline}-{stage}' (the names WeirPipeline gives) */
  readonly functionName?: string;
  /** Prefix of topic, table and group names (tests use one to stay apart). @default '' */
  readonly prefix?: string;
  /** Emulator settings over dev's own (tests: retries). */
  readonly esm?: Partial<EsmOptions>;
  /** Serve the live page (stage graph, rates, lag, watermarks, windows, results) on 127.0.0.1; port 0 or absent takes a free one. */
  readonly ui?: { readonly port?: number; readonly refreshMs?: number };
}

export interface DevSession {
  readonly plan: PipelinePlan;
  readonly bundles: StageBundle[];
  readonly emulators: readonly EsmEmulator[];
  /** With `ui`: where the page is served. */
  readonly ui?: { readonly url: string };
  stop(): Promise<void>;
}

/**
 * Runs every stage continuously against the local stack, as deployed: topics under their
 * own names (so a user's producers and consumers can join), each stage's bundle behind a
 * free-running MSK trigger emulator, and the ticker on a timer.
 */
export async function startDev(p: Pipeline, pipelineFile: string, options: DevOptions = {}): Promise<DevSession> {
  const say = options.onStatus ?? (() => undefined);
  const partitions = options.partitions ?? 4;
  const brokers = options.brokers ?? localBrokers();
  const dynamoEndpoint = options.dynamoEndpoint ?? localDynamoEndpoint();
  const plan = planPipeline(p, { defaultPartitions: partitions });
  const prefix = options.prefix ?? '';
  const tables = { state: prefix + plan.tables.state, progress: prefix + plan.tables.progress };
  // A taken UI port fails before anything is created.
  if (options.ui?.port) await assertPortFree(options.ui.port);
  const kafka = createKafka({ brokers: brokers.split(','), clientId: `weir-dev-${plan.pipeline}` });
  const admin = kafka.admin();
  try {
    await admin.connect();
  } catch (err) {
    throw new ConfigError(`cannot reach Kafka at ${brokers} (${(err as Error).message}); start the local services with \`npm run local:up\``);
  }
  const existing = new Set(await admin.listTopics());
  const missing = plan.topics.filter((t) => !existing.has(prefix + t.name));
  if (missing.length) {
    say(`creating topics ${missing.map((t) => `${prefix}${t.name} (${t.partitions})`).join(', ')}`);
    await admin.createTopics({ waitForLeaders: true, topics: missing.map((t) => ({ topic: prefix + t.name, numPartitions: t.partitions, replicationFactor: 1 })) });
  }
  const dynamo = localDynamoClient(dynamoEndpoint);
  try {
    await ensureTables(dynamo, tables);
  } catch (err) {
    await admin.disconnect().catch(() => undefined);
    throw new ConfigError(`cannot reach DynamoDB Local at ${dynamoEndpoint} (${(err as Error).message}); start the local services with \`npm run local:up\``);
  } finally {
    dynamo.destroy();
  }
  const groupOf = (stage: string): string => `${prefix}weir-${plan.pipeline}-${stage}`;
  let ui: DevUi | undefined;
  if (options.ui) {
    const uiDynamo = localDynamoClient(dynamoEndpoint);
    const started = await startDevUi(p, plan, {
      kafka,
      dynamo: uiDynamo,
      prefix,
      tables,
      groupOf,
      ...(options.ui.port !== undefined ? { port: options.ui.port } : {}),
      ...(options.ui.refreshMs !== undefined ? { refreshMs: options.ui.refreshMs } : {}),
    }).catch(async (err: unknown) => {
      uiDynamo.destroy();
      await admin.disconnect().catch(() => undefined);
      throw err;
    });
    ui = { ...started, close: () => started.close().finally(() => uiDynamo.destroy()) };
    say(`live page at ${ui.url}`);
  }
  say('bundling stage functions with esbuild');
  const bundles = await bundlePipeline(p, pipelineFile, { outDir: resolve('build'), partitions }).catch(async (err: unknown) => {
    await ui?.close();
    await admin.disconnect().catch(() => undefined);
    throw err;
  });
  const env = localStageEnv({ brokers, prefix, tables, dynamoEndpoint, partitions });
  const emulators = plan.stages.map(
    (s) =>
      new EsmEmulator(kafka, s, groupOf(s.id), (bundles.find((b) => b.stage === s.id) as StageBundle).file, env, {
        batchSize: options.batchSize ?? 100,
        batchingWindowMs: options.batchingWindowMs ?? 500,
        topicPrefix: prefix,
        startingPosition: startingPositionOf(p, s),
        ...(ui ? { onInvocation: ui.record } : {}),
        ...(options.lambdaEndpoint
          ? {
              lambdaEndpoint: {
                url: options.lambdaEndpoint,
                functionName: (stage: string) => (options.functionName ?? 'weir-{pipeline}-{stage}').replace('{pipeline}', plan.pipeline).replace('{stage}', stage),
              },
            }
          : {}),
        ...options.esm,
      }),
  );
  await Promise.all(emulators.map((e) => e.start('free')));
  say(`running ${emulators.length} stages; produce to ${plan.topics.filter((t) => t.role === 'source').map((t) => prefix + t.name).join(', ')}; Ctrl-C stops`);
  const ticking = emulators.filter((e) => stageNeedsTicks(e.stage, p.nodes()));
  let ticking_now = false;
  let lastStatus = '';
  const timer = setInterval(() => {
    if (ticking_now) return;
    ticking_now = true;
    void Promise.all(ticking.map((e) => e.control({ weir: 'tick' }).catch((err: unknown) => say(`ticker: ${(err as Error).message}`)))).finally(() => (ticking_now = false));
    // The status line when it changes, not every tick of an idle pipeline.
    const status = emulators.map((e) => `${e.stage.id}: ${e.stats.recordsIn} in, ${e.stats.invocations} invocations, ${e.stats.failures} failed`).join(' | ');
    if (status !== lastStatus) say(status);
    lastStatus = status;
  }, options.tickMs ?? 1000);
  return {
    plan,
    bundles,
    emulators,
    ...(ui ? { ui: { url: ui.url } } : {}),
    stop: async () => {
      clearInterval(timer);
      await Promise.all(emulators.map((e) => e.stop()));
      await ui?.close();
      await admin.disconnect().catch(() => undefined);
    },
  };
}

/** A source stage starts where its source says (TRIM_HORIZON, LATEST or AT_TIMESTAMP); internal topics from the start. */
function startingPositionOf(p: Pipeline, stage: PipelinePlan['stages'][number]): StartingPosition {
  for (const id of stage.nodeIds) {
    const n = p.nodes()[id];
    if (n?.kind === 'source') return n.source.startingPosition;
  }
  return 'TRIM_HORIZON';
}
