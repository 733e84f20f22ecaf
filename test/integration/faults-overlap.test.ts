import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createKafka } from '../../shared/adapters/kafka/kafka-config';
import { KafkaProducer } from '../../shared/adapters/kafka/kafka-producer';
import { bundlePipeline, type StageBundle } from '../../shared/build/bundle';
import { runEmbedded } from '../../shared/local/embedded';
import { localBrokers, localDynamoEndpoint } from '../../shared/local/endpoints';
import { EsmEmulator } from '../../shared/local/esm/emulator';
import { toOutputRecord, type OutputRecord } from '../../shared/local/output-file';
import { localStageEnv } from '../../shared/local/stage-env';
import { planPipeline } from '../../shared/plan/planner';
import { multiPartitionWithinBound } from '../reference/generators';
import { expectedFinalResults } from '../reference/oracle';
import type { ExampleName } from '../reference/types';
import { canonical, example } from '../support/examples';
import { readTopic } from '../support/kafka-read';
import { provisionRun } from '../support/provision';
import { dlqRecords, recordValidation } from '../support/reliability';
import { describeValidation, validate } from '../support/validator';

// Row 5 of the fault matrix: two invocations on the same partition at once, as during a
// rebalance of the MSK trigger's pollers. The keyed stage runs under TWO free-running trigger
// emulators (two consumer groups), so every partition of its input is consumed and invoked
// twice, concurrently, with batches cut independently, against the same state and progress
// tables. Per-key versions and fences must make the results those of one consumer.
jest.setTimeout(240_000);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('row 5: two invocations on the same partition at once (rebalance overlap)', () => {
  it('gives the calm embedded results with the keyed stage consumed twice concurrently', async () => {
    const name: ExampleName = 'windowed-wordcount';
    const PARTITIONS = 3;
    const BATCH = 5;
    const p = example(name);
    const input = multiPartitionWithinBound(name, 75, 240, PARTITIONS);
    const expected = (await runEmbedded(p, input, { partitions: PARTITIONS, batchSize: BATCH })).outputs;
    // The embedded run is the same operators as the bundles: pin it to the independent reference.
    expect(canonical(name, expected)).toEqual(canonical(name, expectedFinalResults(name, input).outputs.map((o) => ({ ...o, partition: 0, key: null, headers: {} }))));
    const plan = planPipeline(p, { defaultPartitions: PARTITIONS });
    const prefix = `weir-${randomBytes(4).toString('hex')}-`;
    const kafka = createKafka({ brokers: [localBrokers()], clientId: `${prefix}overlap` });
    const admin = kafka.admin();
    const dynamo = new DynamoDBClient({ region: 'us-east-1', endpoint: localDynamoEndpoint(), credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    const producer = new KafkaProducer(kafka, prefix);
    const emulators: EsmEmulator[] = [];
    const errors: unknown[] = [];
    try {
      await admin.connect();
      const tables = await provisionRun({ admin, dynamo, producer, plan, prefix, input });
      const source = plan.topics.find((t) => t.role === 'source')?.name as string;
      const bundles = await bundlePipeline(p, resolve(__dirname, '../../examples', `${name}.ts`), { outDir: resolve('build'), partitions: PARTITIONS });
      const env = localStageEnv({ brokers: localBrokers(), prefix, tables, dynamoEndpoint: localDynamoEndpoint(), partitions: PARTITIONS });
      const options = { batchSize: BATCH, batchingWindowMs: 20, topicPrefix: prefix, maxRetries: 60, onError: (err: unknown) => errors.push(err) };
      const [s0, s1] = plan.stages;
      if (!s0 || !s1) throw new Error('expected two stages');
      const file = (id: string): string => (bundles.find((b) => b.stage === id) as StageBundle).file;
      const src = new EsmEmulator(kafka, s0, `${prefix}${s0.id}`, file(s0.id), env, options);
      const keyedA = new EsmEmulator(kafka, s1, `${prefix}${s1.id}-a`, file(s1.id), env, options);
      const keyedB = new EsmEmulator(kafka, s1, `${prefix}${s1.id}-b`, file(s1.id), env, options);
      emulators.push(src, keyedA, keyedB);
      await Promise.all(emulators.map((e) => e.start('free')));

      const deadline = Date.now() + 180_000;
      const ends = async (topic: string): Promise<Map<number, number>> => new Map((await admin.fetchTopicOffsets(prefix + topic)).map((o) => [o.partition, Number(o.high)]));
      const waitCommitted = async (e: EsmEmulator, topic: string, end: Map<number, number>): Promise<void> => {
        while ([...end].some(([q, high]) => e.committed(topic, q) < high)) {
          if (Date.now() > deadline) throw new Error(`stage ${e.stage.id}: ${topic} not consumed in time`);
          await sleep(100);
        }
      };
      await waitCommitted(src, source, await ends(source));
      // End of the bounded input: the final watermark of every source partition.
      for (let q = 0; q < PARTITIONS; q++) await src.control({ weir: 'finish', topic: source, partition: q });
      const repartition = s1.inputTopics[0] as string;
      const repEnds = await ends(repartition);
      await Promise.all([waitCommitted(keyedA, repartition, repEnds), waitCommitted(keyedB, repartition, repEnds)]);

      const outputs: OutputRecord[] = [];
      for (const t of plan.topics.filter((x) => ['sink', 'late', 'dlq'].includes(x.role))) {
        for (const r of await readTopic(kafka, prefix + t.name)) outputs.push(toOutputRecord(plan, { ...r, topic: t.name }));
      }
      const v = validate(expected, outputs);
      const stats = [keyedA.stats, keyedB.stats];
      process.stderr.write(
        `[faults-overlap] keyed invocations ${stats.map((s) => s.invocations).join(' + ')}, failed ${stats.map((s) => s.failures).join(' + ')}; ${describeValidation(v)}\n`,
      );
      // Both consumers really invoked the keyed stage on every partition.
      expect(keyedA.stats.recordsIn + keyedB.stats.recordsIn).toBeGreaterThan(0);
      expect(keyedA.stats.invocations).toBeGreaterThan(PARTITIONS);
      expect(keyedB.stats.invocations).toBeGreaterThan(PARTITIONS);
      expect(keyedA.stats.toOnFailure + keyedB.stats.toOnFailure + src.stats.toOnFailure).toBe(0);
      recordValidation(v, {
        row: '5',
        injected: 'the keyed stage under two free-running trigger emulators (two consumer groups): every partition invoked twice, concurrently, batches cut independently',
        recordsIn: input.length,
        dlq: dlqRecords(plan, outputs),
        outcome: `exact: ${v.expected} window results; the slower writer's conditional commits fail and its batch is retried or skipped`,
        test: 'test/integration/faults-overlap.test.ts: row 5',
      });
      expect(v.lost).toEqual([]);
      expect(v.duplicated).toEqual([]);
      expect(v.unexpected).toEqual([]);
      expect(v.expected).toBeGreaterThan(0);
    } finally {
      await Promise.all(emulators.map((e) => e.stop()));
      await producer.disconnect().catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
      dynamo.destroy();
    }
  });
});
