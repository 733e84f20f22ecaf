import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Admin } from 'kafkajs';
import { ensureTables } from '../../shared/adapters/dynamodb';
import type { KafkaProducer } from '../../shared/adapters/kafka/kafka-producer';
import { placeInput, type InputRecord } from '../../shared/local/input-file';
import type { PipelinePlan } from '../../shared/plan/types';

/** Topic config that keeps every record for the run's life. */
const KEEP = [{ name: 'retention.ms', value: '-1' }];

/**
 * What a test that runs its own trigger emulators needs before they start, under `prefix`:
 * every topic of `plan` (records kept), the state and progress tables, and `input` placed on
 * the source topics as runLocal places it. Returns the prefixed table names.
 */
export async function provisionRun(o: {
  readonly admin: Admin;
  readonly dynamo: DynamoDBClient;
  readonly producer: KafkaProducer;
  readonly plan: PipelinePlan;
  readonly prefix: string;
  readonly input: readonly InputRecord[];
}): Promise<{ state: string; progress: string }> {
  const { plan, prefix } = o;
  await o.admin.createTopics({ waitForLeaders: true, topics: plan.topics.map((t) => ({ topic: prefix + t.name, numPartitions: t.partitions, replicationFactor: 1, configEntries: KEEP })) });
  const tables = { state: prefix + plan.tables.state, progress: prefix + plan.tables.progress };
  await ensureTables(o.dynamo, tables);
  const partitionsOf = (topic: string): number => {
    const t = plan.topics.find((x) => x.name === topic);
    if (!t) throw new Error(`topic ${topic} is not in the plan of ${plan.pipeline}`);
    return t.partitions;
  };
  const sources = plan.topics.filter((t) => t.role === 'source').map((t) => t.name);
  await o.producer.send(placeInput(plan.pipeline, o.input, sources, partitionsOf).map((r) => ({ ...r, headers: {} })));
  return tables;
}
