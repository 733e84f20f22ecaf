import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runEmbedded } from '../../shared/local/embedded';
import { loadPipeline } from '../../shared/local/load-pipeline';
import { runLocal } from '../../shared/local/local-run';

// A functionSink must be called where the stage runs: in the bundled stage function (as on
// Lambda), not only in the embedded runtime.
jest.setTimeout(120_000);

const FILE = resolve(__dirname, '../fixtures/function-sink.ts');

/** The file's `id value` lines, one per id (the function is called at least once per record). */
function seen(file: string): string[] {
  const byId = new Map<string, string>();
  for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) byId.set(line.slice(0, line.indexOf(' ')), line.slice(line.indexOf(' ') + 1));
  return [...byId.values()].sort();
}

describe('functionSink', () => {
  const input = ['hello', 'weir', 'on lambda', 'again'].map((value, i) => ({ partition: i % 2, timestamp: 1_700_000_000_000 + i, value }));

  it('is called with every record by the stage bundle under the MSK trigger emulator, as embedded', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-fnsink-'));
    const p = loadPipeline(FILE);
    process.env.WEIR_TEST_SINK_FILE = join(dir, 'embedded.txt');
    try {
      await runEmbedded(p, input, { partitions: 2 });
    } finally {
      delete process.env.WEIR_TEST_SINK_FILE;
    }
    const local = await runLocal(p, FILE, input, { partitions: 2, batchSize: 2, stageEnv: { WEIR_TEST_SINK_FILE: join(dir, 'local.txt') } });
    // Local stages meter their DynamoDB use (each batch writes its progress record at least).
    expect(local.dynamo.writeRequests).toBeGreaterThanOrEqual(2);
    expect(seen(join(dir, 'embedded.txt'))).toEqual(['AGAIN', 'HELLO', 'ON LAMBDA', 'WEIR']);
    expect(seen(join(dir, 'local.txt'))).toEqual(['AGAIN', 'HELLO', 'ON LAMBDA', 'WEIR']);
  });
});
