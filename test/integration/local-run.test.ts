import { resolve } from 'node:path';
import { runEmbedded } from '../../shared/local/embedded';
import { runLocal } from '../../shared/local/local-run';
import type { OutputRecord } from '../../shared/local/output-file';
import { multiPartitionWithinBound, singlePartitionWithLateness } from '../reference/generators';
import { dedupById, example, EXAMPLES } from '../support/examples';
import { loadPipeline } from '../../shared/local/load-pipeline';
import { sensorReadings } from '../support/sensor-input';

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

// Processing time and state TTL: the stage bundles must use the run's replay clock (the
// largest input timestamp delivered so far, as embedded), not the wall clock (issue 11 item 12).
describe('sensor-alerts (processing-time windows, state TTL) on Kafka + DynamoDB Local', () => {
  const p = loadPipeline(file('sensor-alerts'));

  it('gives the embedded runtime output, window starts and alert numbers included (several partitions)', async () => {
    const input = sensorReadings(3, 90, 3);
    const embedded = await runEmbedded(p, input, { partitions: 3, batchSize: 7 });
    const local = await runLocal(p, file('sensor-alerts'), input, { partitions: 3, batchSize: 7 });
    expect(norm(local.outputs)).toEqual(norm(embedded.outputs));
    expect(embedded.outputs.filter((o) => o.topic === 'sensor-alerts').map((o) => (o.value as { alertNo: number }).alertNo)).toContain(1);
    expect(embedded.outputs.filter((o) => o.topic === 'sensor-max-10s')).toHaveLength(15);
  });

  it('gives the embedded runtime output with sandboxes killed and batches redelivered', async () => {
    const input = sensorReadings(4, 60, 1);
    const embedded = await runEmbedded(p, input, { partitions: 1, batchSize: 5 });
    const local = await runLocal(p, file('sensor-alerts'), input, { partitions: 1, batchSize: 5, chaos: 9 });
    expect(local.failures + local.redeliveries).toBeGreaterThan(0);
    expect(norm(local.outputs)).toEqual(norm(embedded.outputs));
  });
});
