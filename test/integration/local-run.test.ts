import { resolve } from 'node:path';
import { runEmbedded } from '../../shared/local/embedded';
import { runLocal } from '../../shared/local/local-run';
import type { OutputRecord } from '../../shared/local/output-file';
import { multiPartitionWithinBound, singlePartitionWithLateness } from '../reference/generators';
import { dedupById, example, EXAMPLES } from '../support/examples';

// Every example through the real thing: topics on the local Kafka broker, state in
// DynamoDB Local, each stage the esbuild bundle `cdk deploy` ships, invoked by the MSK
// trigger emulator. Results must equal the embedded runtime's on the same input.
jest.setTimeout(240_000);

const file = (name: string): string => resolve(__dirname, '../../examples', `${name}.ts`);
const norm = (outs: readonly OutputRecord[]): string[] => dedupById(outs).map((o) => JSON.stringify([o.topic, o.partition, o.key, o.value, o.timestamp, o.headers])).sort();

describe.each(EXAMPLES)('%s on Kafka + DynamoDB Local', (name) => {
  const p = example(name);

  it('gives the embedded runtime output (several partitions)', async () => {
    const input = multiPartitionWithinBound(name, 31, 150, 3);
    const embedded = await runEmbedded(p, input, { partitions: 3, batchSize: 20 });
    const local = await runLocal(p, file(name), input, { partitions: 3, batchSize: 20 });
    expect(norm(local.outputs)).toEqual(norm(embedded.outputs));
    expect(local.outputs.length).toBeGreaterThan(0);
  });

  it('gives the embedded runtime output with sandboxes killed at seeded points and batches redelivered', async () => {
    const input = singlePartitionWithLateness(name, 32, 120);
    const embedded = await runEmbedded(p, input, { partitions: 1, batchSize: 5 });
    const local = await runLocal(p, file(name), input, { partitions: 1, batchSize: 5, chaos: 9 });
    expect(local.failures + local.redeliveries).toBeGreaterThan(0);
    expect(norm(local.outputs)).toEqual(norm(embedded.outputs));
  });
});
