import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { OutputRecord } from '../shared/local/output-file';
import { singlePartitionWithLateness } from './reference/generators';
import { expectedOutput } from './reference/oracle';
import { canonical, dedupById } from './support/examples';

const root = resolve(__dirname, '..');
const weir = (...args: string[]) => spawnSync(process.execPath, [join(root, 'bin/weir.js'), ...args], { cwd: root, encoding: 'utf8' });
// Tests write only under test-output/ (gitignored).
mkdirSync(join(root, 'test-output'), { recursive: true });
const tmp = mkdtempSync(join(root, 'test-output', 'cli-'));
/** Writes `records` as a JSON lines input file `name` under tmp; returns its path. */
const inputFile = (name: string, records: readonly unknown[]): string => {
  const path = join(tmp, name);
  writeFileSync(path, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return path;
};
const readOutput = (file: string): OutputRecord[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as OutputRecord);

describe('weir CLI', () => {
  it('plan shows the windowed word count as two stages and one repartition topic', () => {
    const r = weir('plan', 'examples/windowed-wordcount.ts');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('pipeline windowed-wordcount: 2 stages, 1 repartition topic');
    expect(r.stdout).toContain('output:    windowed-wordcount-s1-repartition');
    expect(r.stdout).toContain('sink:      topic word-counts-5s');
    expect(r.stdout).toContain('late:      topic late-words');
  });

  it('run writes the reference output, and the same output again (deterministic)', () => {
    const input = singlePartitionWithLateness('windowed-wordcount', 99, 150);
    const inFile = inputFile('in.jsonl', input);
    const args = ['run', 'examples/windowed-wordcount.ts', '--input', inFile, '--partitions', '1', '--batch-size', '1'];
    const a = weir(...args, '--output', join(tmp, 'a.jsonl'));
    expect(a.stderr).toContain('weir run windowed-wordcount: 150 input records');
    expect(a.status).toBe(0);
    const out = readOutput(join(tmp, 'a.jsonl'));
    const expected = expectedOutput('windowed-wordcount', input, { batchSize: 1 });
    expect(canonical('windowed-wordcount', out)).toEqual(canonical('windowed-wordcount', expected.outputs.map((o) => ({ ...o, partition: 0, key: null, headers: {} }))));
    expect(out.filter((o) => o.topic === 'late-words').length).toBeGreaterThan(0);
    for (const o of out) expect(o.headers['weir-id']).toEqual(expect.any(String));
    const b = weir(...args);
    expect(b.stdout).toBe(readFileSync(join(tmp, 'a.jsonl'), 'utf8'));
  });

  it('run --chaos gives the same records as a calm run once deduplicated by weir-id', () => {
    const input = singlePartitionWithLateness('wordcount', 5, 120).map((r, i) => ({ ...r, partition: i % 4 }));
    const inFile = inputFile('wc.jsonl', input);
    const calm = weir('run', 'examples/wordcount.ts', '--input', inFile, '--batch-size', '3', '--output', join(tmp, 'calm.jsonl'));
    const wild = weir('run', 'examples/wordcount.ts', '--input', inFile, '--batch-size', '3', '--chaos', '7', '--output', join(tmp, 'wild.jsonl'));
    expect([calm.status, wild.status]).toEqual([0, 0]);
    expect(wild.stderr).toMatch(/chaos: crashes \{.+\}, redeliveries [1-9]/);
    const norm = (f: string) => dedupById(readOutput(join(tmp, f))).map((o) => JSON.stringify(o)).sort();
    expect(norm('wild.jsonl')).toEqual(norm('calm.jsonl'));
  });

  it('run --chaos counts results by distinct weir-id and says how many copies the outputs hold', () => {
    // A chaos run writes some late records more than once (redelivered batches), under the
    // same weir-id: the summary must count the 12 distinct results and say how many copies.
    const input = singlePartitionWithLateness('windowed-wordcount', 48, 40);
    const inFile = inputFile('late.jsonl', input);
    const args = ['run', 'examples/windowed-wordcount.ts', '--input', inFile, '--partitions', '1', '--batch-size', '2'];
    const calm = weir(...args, '--output', join(tmp, 'late-calm.jsonl'));
    const wild = weir(...args, '--chaos', '2', '--output', join(tmp, 'late-wild.jsonl'));
    expect([calm.status, wild.status]).toEqual([0, 0]);
    const late = (f: string) => readOutput(join(tmp, f)).filter((o) => o.topic === 'late-words');
    expect(late('late-calm.jsonl')).toHaveLength(12);
    const copies = late('late-wild.jsonl').length;
    // The seed gives copies: this checks the counting, not a calm run.
    expect(copies).toBeGreaterThan(12);
    expect(new Set(late('late-wild.jsonl').map((o) => o.headers['weir-id'])).size).toBe(12);
    expect(calm.stderr).toContain('\n  late-words: 12 records\n');
    expect(calm.stderr).toContain('\n  late: 12 records, dead letters: 0 records (distinct weir-ids)\n');
    expect(wild.stderr).toContain(`\n  late-words: 12 records (${copies} copies)\n`);
    expect(wild.stderr).toContain(`\n  late: 12 records (${copies} copies), dead letters: 0 records (distinct weir-ids)\n`);
  });

  it('errors a user can cause say what to do', () => {
    const missing = weir('run', 'examples/nope.ts', '--input', 'x.jsonl');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('weir: pipeline file examples/nope.ts does not exist');
    const badLine = join(tmp, 'bad.jsonl');
    writeFileSync(badLine, '{"timestamp": 1, "value": "ok"}\n{"value": "no time"}\n');
    const bad = weir('run', 'examples/uppercase.ts', '--input', badLine);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain(`${badLine}:2: "timestamp" must be an integer`);
    const badFlag = weir('run', 'examples/uppercase.ts', '--input', badLine, '--batch-size', '0');
    expect(badFlag.status).not.toBe(0);
    expect(badFlag.stderr).toContain('--batch-size needs a positive integer, got "0"');
  });

  it('help is complete: every command, its options and examples', () => {
    const top = weir('--help');
    expect(top.status).toBe(0);
    for (const c of ['plan [options] <pipeline>', 'run [options] <pipeline>', 'dev [options] <pipeline>', 'Examples:', 'WEIR_KAFKA_PORT', '--version']) expect(top.stdout).toContain(c);
    const dev = weir('dev', '--help');
    for (const o of ['--ui ', '--ui-port <port>', '--batching-window <ms>', '--lambda-endpoint <url>', 'Ctrl-C stops', 'Examples:']) expect(dev.stdout).toContain(o);
    expect(weir('run', '--help').stdout).toContain('Examples:');
    expect(weir('plan', '--help').stdout).toContain('--svg <file>');
  });

  it('dev errors a user can cause say what to do', async () => {
    const { createServer } = await import('node:http');
    const { localBrokers } = await import('../shared/local/endpoints');
    const missing = weir('dev', 'examples/nope.ts', '--ui');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('weir: pipeline file examples/nope.ts does not exist; pass a .ts file');
    const badPort = weir('dev', 'examples/uppercase.ts', '--ui-port', '70000');
    expect(badPort.status).toBe(1);
    expect(badPort.stderr).toContain('--ui-port needs a port number from 1 to 65535, got "70000"; leave it out to take a free port');
    // A taken port fails at once, before anything is created.
    const server = createServer();
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    try {
      const port = (server.address() as { port: number }).port;
      const taken = weir('dev', 'examples/uppercase.ts', '--ui-port', String(port));
      expect(taken.status).toBe(1);
      expect(taken.stderr).toContain(`weir: port ${port} on 127.0.0.1 is in use; pick another with --ui-port <port>, or leave --ui-port out to take a free one`);
    } finally {
      server.close();
    }
    // DynamoDB Local not running (nothing listens on port 1).
    const down = weir('dev', 'examples/uppercase.ts', '--brokers', localBrokers(), '--dynamodb-endpoint', 'http://127.0.0.1:1');
    expect(down.status).toBe(1);
    expect(down.stderr).toContain('weir: cannot reach DynamoDB Local at http://127.0.0.1:1');
    expect(down.stderr).toContain('start the local services with `npm run local:up`');
  });

  it('plan, run and dev type-check the pipeline file and stop with the compiler message on a type error', () => {
    // Under test-output/ (not in tsconfig's include, so npm run typecheck stays clean), next
    // to the repo's tsconfig, whose options the check uses.
    const dir = join(root, 'test-output', 'typecheck');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'type-error.ts');
    writeFileSync(
      file,
      [
        "import { kafkaSink, kafkaSource, pipeline } from '../../shared/api';",
        "const p = pipeline('type-error');",
        "p.source(kafkaSource({ topic: 'lines' })).map((line) => line.length).map((n) => n.toUpperCase()).sinkTo(kafkaSink({ topic: 'out' }));",
        'export default p;',
        '',
      ].join('\n'),
    );
    const rel = relative(root, file);
    const expected = `weir: pipeline file ${file} does not type-check:\n${rel}(3,83): error TS2339: Property 'toUpperCase' does not exist on type 'number'.\nfix the file and run again\n`;
    const inFile = join(tmp, 'tc.jsonl');
    writeFileSync(inFile, '{"timestamp": 1, "value": "a"}\n');
    for (const r of [weir('plan', file), weir('run', file, '--input', inFile), weir('dev', file, '--dynamodb-endpoint', 'http://127.0.0.1:1')]) {
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(expected);
      expect(r.stdout).toBe('');
    }
  });

  it('a pipeline file that does not compile, and a missing input file, say what to do', () => {
    const broken = join(tmp, 'broken.ts');
    writeFileSync(broken, 'export default 1 +;\n');
    const r = weir('plan', broken);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`weir: pipeline file ${broken} does not type-check:\n${relative(root, broken)}(1,19): error TS1109: Expression expected.\nfix the file and run again\n`);
    const noInput = weir('run', 'examples/uppercase.ts', '--input', join(tmp, 'none.jsonl'));
    expect(noInput.status).toBe(1);
    expect(noInput.stderr).toContain('it does not exist; pass a JSON lines file ({"timestamp", "value"} per line) with --input');
  });
});
