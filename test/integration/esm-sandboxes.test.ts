import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import type { Kafka } from 'kafkajs';
import type { Pipeline } from '../../shared/api';
import { createKafka } from '../../shared/adapters/kafka/kafka-config';
import { KafkaProducer } from '../../shared/adapters/kafka/kafka-producer';
import { bundlePipeline, type StageBundle } from '../../shared/build/bundle';
import { runEmbedded } from '../../shared/local/embedded';
import { localBrokers, localDynamoClient, localDynamoEndpoint } from '../../shared/local/endpoints';
import { EsmEmulator, type EsmOptions, type InvocationReport } from '../../shared/local/esm/emulator';
import type { InputRecord } from '../../shared/local/input-file';
import { toOutputRecord, type OutputRecord } from '../../shared/local/output-file';
import { localStageEnv } from '../../shared/local/stage-env';
import { planPipeline } from '../../shared/plan/planner';
import type { PipelinePlan } from '../../shared/plan/types';
import { multiPartitionWithinBound } from '../reference/generators';
import { expectedFinalResults } from '../reference/oracle';
import { canonical, dedupById, example } from '../support/examples';
import { KafkaProxy, dropProduceResponses } from '../support/kafka-proxy';
import { readTopic } from '../support/kafka-read';
import { provisionRun } from '../support/provision';
import { recordValidation } from '../support/reliability';
import { describeValidation, validate } from '../support/validator';

// The trigger emulator as Lambda behaves: a sandbox stays warm after its function threw, and
// any idle sandbox takes the next batch, of whichever partition.
jest.setTimeout(240_000);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Run {
  readonly plan: PipelinePlan;
  readonly outputs: OutputRecord[];
  readonly reports: InvocationReport[];
  readonly emulators: EsmEmulator[];
}

/**
 * Runs a pipeline over `input` under free-running emulators (every stage, default routing
 * unless `esm` says otherwise), until each stage has committed all its input; returns the
 * sink, late and DLQ records and every invocation report.
 */
async function runFree(p: Pipeline, file: string, input: readonly InputRecord[], o: { partitions: number; batchSize: number; esm?: Partial<EsmOptions>; stageEnv?: Record<string, string>; onInvocation?: (r: InvocationReport) => void }): Promise<Run> {
  const plan = planPipeline(p, { defaultPartitions: o.partitions });
  const prefix = `weir-${randomBytes(4).toString('hex')}-`;
  const kafka: Kafka = createKafka({ brokers: [localBrokers()], clientId: `${prefix}sandboxes` });
  const admin = kafka.admin();
  const dynamo = localDynamoClient();
  const producer = new KafkaProducer(kafka, prefix);
  const emulators: EsmEmulator[] = [];
  const reports: InvocationReport[] = [];
  const errors: unknown[] = [];
  try {
    await admin.connect();
    const tables = await provisionRun({ admin, dynamo, producer, plan, prefix, input });
    const bundles = await bundlePipeline(p, file, { outDir: resolve('build'), partitions: o.partitions });
    const env = { ...localStageEnv({ brokers: localBrokers(), prefix, tables, dynamoEndpoint: localDynamoEndpoint(), partitions: o.partitions }), ...o.stageEnv };
    for (const s of plan.stages) {
      const bundle = bundles.find((b) => b.stage === s.id) as StageBundle;
      emulators.push(
        new EsmEmulator(kafka, s, `${prefix}${s.id}`, bundle.file, env, {
          batchSize: o.batchSize,
          batchingWindowMs: 20,
          topicPrefix: prefix,
          onError: (err) => errors.push(err),
          ...o.esm,
          onInvocation: (r) => {
            reports.push(r);
            o.onInvocation?.(r);
          },
        }),
      );
    }
    await Promise.all(emulators.map((e) => e.start('free')));
    const deadline = Date.now() + 180_000;
    const ends = async (topic: string): Promise<Map<number, number>> => new Map((await admin.fetchTopicOffsets(prefix + topic)).map((x) => [x.partition, Number(x.high)]));
    // Stage by stage: a stage's input is complete once every stage before it is done.
    for (const e of emulators) {
      for (const t of e.stage.inputTopics) {
        const end = await ends(t);
        while ([...end].some(([q, high]) => e.committed(t, q) < high)) {
          if (errors.length) throw errors[0];
          if (Date.now() > deadline) throw new Error(`stage ${e.stage.id}: ${t} not consumed in time`);
          await sleep(50);
        }
        // End of the bounded input: the final watermark of every source partition.
        if (e.stage.isSource) for (const [q] of end) await e.control({ weir: 'finish', topic: t, partition: q });
      }
    }
    const outputs: OutputRecord[] = [];
    for (const t of plan.topics.filter((x) => ['sink', 'late', 'dlq'].includes(x.role))) {
      for (const r of await readTopic(kafka, prefix + t.name)) outputs.push(toOutputRecord(plan, { ...r, topic: t.name }));
    }
    return { plan, outputs, reports, emulators };
  } finally {
    await Promise.all(emulators.map((e) => e.stop()));
    await producer.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    dynamo.destroy();
  }
}

describe('trigger emulator sandboxes (as Lambda)', () => {
  it('loses no record when a produce response is lost and the warm sandbox takes another batch', async () => {
    const file = resolve(__dirname, '../fixtures/warm-retry.ts');
    const p = (await import(file)).default as Pipeline;
    const BATCH = 10;
    // One full batch per source partition: both send BATCH records to the one output partition.
    const input: InputRecord[] = [0, 1].flatMap((q) => Array.from({ length: BATCH }, (_, i) => ({ partition: q, timestamp: 1_700_000_000_000 + i, value: `line ${q}-${i}` })));
    const expected = (await runEmbedded(p, input, { partitions: 2, batchSize: BATCH })).outputs;
    const [host, port] = localBrokers().split(':') as [string, string];
    // The first produce response never reaches the stage, and Kafka stays out of its reach
    // until that invocation has failed (kafkajs gives up after its retries, ~15 s).
    const proxy = new KafkaProxy({ host, port: Number(port) }, dropProduceResponses(1, { downForMs: Number.POSITIVE_INFINITY }));
    const brokers = await proxy.start();
    try {
      // One sandbox (reserved concurrency 1): the batch of the other partition waits for it
      // and gets it as soon as the failed invocation returns, before that batch's retry.
      const run = await runFree(p, file, input, {
        partitions: 2,
        batchSize: BATCH,
        stageEnv: { WEIR_BROKERS: brokers },
        esm: { maxConcurrency: 1 },
        onInvocation: (r) => {
          if (r.error !== undefined) proxy.up();
        },
      });
      const batches = run.reports.filter((r) => r.kind === 'batch');
      const v = validate(expected, run.outputs);
      process.stderr.write(`[esm-sandboxes] lost produce response: ${describeValidation(v)}; invocations ${batches.map((r) => `p${r.partition}@${r.sandbox}${r.error ? ' failed' : ''}`).join(', ')}\n`);
      expect(proxy.dropped).toHaveLength(1);
      // The failure happened, and the sandbox that failed stayed warm for the next batch.
      const failed = batches.filter((r) => r.error !== undefined);
      expect(failed).toHaveLength(1);
      expect(new Set(batches.map((r) => r.sandbox))).toEqual(new Set([1]));
      expect(v.lost).toEqual([]);
      expect(v.duplicated).toEqual([]);
      expect(v.unexpected).toEqual([]);
      expect(v.expected).toBe(2 * BATCH);
      recordValidation(v, {
        row: '17',
        injected: 'TCP proxy between the stage bundle and the broker swallows one produce response and keeps Kafka unreachable until kafkajs gives up; one sandbox (concurrency 1), which takes the other partition\'s batch right after the failed invocation',
        recordsIn: input.length,
        dlq: 0,
        outcome: `exact: ${v.expected} records, each once after dedup by weir-id: the failed producer was dropped, so the next send had a new producer id`,
        test: 'test/integration/esm-sandboxes.test.ts: lost produce response',
      });
    } finally {
      await proxy.stop();
    }
  });

  it('puts the partial batches of several partitions into one event', async () => {
    const file = resolve(__dirname, '../fixtures/warm-retry.ts');
    const p = (await import(file)).default as Pipeline;
    const input: InputRecord[] = [0, 1].flatMap((q) => Array.from({ length: 3 }, (_, i) => ({ partition: q, timestamp: 1_700_000_000_000 + i, value: `line ${q}-${i}` })));
    const expected = (await runEmbedded(p, input, { partitions: 2, batchSize: 10 })).outputs;
    // A long batching window: both partitions' records are fetched before either worker invokes.
    const run = await runFree(p, file, input, { partitions: 2, batchSize: 10, esm: { batchingWindowMs: 500 } });
    const v = validate(expected, run.outputs);
    const batches = run.reports.filter((r) => r.kind === 'batch');
    process.stderr.write(`[esm-sandboxes] several partitions: ${describeValidation(v)}; events ${batches.map((r) => JSON.stringify(r.partitions?.map((q) => [q.partition, q.records]))).join(' ')}\n`);
    expect(batches.map((r) => r.partitions?.map((q) => [q.partition, q.records]).sort())).toEqual([
      [
        [0, 3],
        [1, 3],
      ],
    ]);
    expect(v.lost).toEqual([]);
    expect(v.duplicated).toEqual([]);
    expect(v.unexpected).toEqual([]);
    expect(v.expected).toBe(6);
  });

  it('routes each batch to any idle sandbox: a partition moves between sandboxes, results exact', async () => {
    const name = 'windowed-wordcount' as const;
    const PARTITIONS = 3;
    const BATCH = 5;
    const p = example(name);
    const input = multiPartitionWithinBound(name, 91, 300, PARTITIONS);
    const expected = (await runEmbedded(p, input, { partitions: PARTITIONS, batchSize: BATCH })).outputs;
    // The embedded run is the same operators as the bundles: pin what both must give to the
    // independent reference, so a bug they share cannot pass as "equal".
    const reference = canonical(name, expectedFinalResults(name, input).outputs.map((o) => ({ ...o, partition: 0, key: null, headers: {} })));
    expect(canonical(name, expected)).toEqual(reference);
    const run = await runFree(p, resolve(__dirname, '../../examples', `${name}.ts`), input, { partitions: PARTITIONS, batchSize: BATCH });
    const v = validate(expected, run.outputs);
    const byPartition = new Map<string, Set<number>>();
    const bySandbox = new Map<string, Set<string>>();
    const batches = run.reports.filter((x) => x.kind === 'batch');
    for (const r of batches) {
      for (const q of r.partitions ?? []) {
        const tp = `${r.stage} ${q.topic.slice(q.topic.indexOf('-', 5) + 1)}/${q.partition}`;
        byPartition.set(tp, (byPartition.get(tp) ?? new Set()).add(r.sandbox as number));
        const sb = `${r.stage} #${r.sandbox}`;
        bySandbox.set(sb, (bySandbox.get(sb) ?? new Set()).add(tp));
      }
    }
    const shared = batches.filter((r) => (r.partitions?.length ?? 0) > 1).length;
    process.stderr.write(
      `[esm-sandboxes] routing: ${describeValidation(v)}; ${batches.length} batch events, ${shared} of several partitions; sandboxes per partition: ${[...byPartition].map(([tp, s]) => `${tp}: ${[...s].join(',')}`).join('; ')}\n`,
    );
    expect(batches.length).toBeGreaterThan(20);
    // No partition affinity: some partition was handled by several sandboxes, and some
    // sandbox handled several partitions.
    expect(Math.max(...[...byPartition.values()].map((s) => s.size))).toBeGreaterThan(1);
    expect(Math.max(...[...bySandbox.values()].map((s) => s.size))).toBeGreaterThan(1);
    expect(v.lost).toEqual([]);
    expect(v.duplicated).toEqual([]);
    expect(v.unexpected).toEqual([]);
    expect(v.expected).toBe(reference.length);
    expect(canonical(name, dedupById(run.outputs))).toEqual(reference);
  });
});
