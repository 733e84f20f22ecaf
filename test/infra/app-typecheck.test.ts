import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { typecheckPipeline, PipelineTypeError } from '../../shared/local/typecheck';
import { thrown } from '../support/thrown';

// Issue 11 item 14: cdk synth (infra/app.ts) must not bundle and deploy a pipeline that does
// not type-check; it stops with the compiler's message, as the CLI does.
jest.setTimeout(120_000);

const root = resolve(__dirname, '../..');
// Under test-output/: outside tsconfig's include (npm run typecheck stays clean), under its options.
const dir = join(root, 'test-output', 'typecheck');
const file = join(dir, 'synth-type-error.ts');

beforeAll(() => {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    file,
    [
      "import { kafkaSink, kafkaSource, pipeline } from '../../shared/api';",
      "const p = pipeline('synth-type-error');",
      "const n: number = 'five';",
      "p.source(kafkaSource({ topic: 'lines' })).map((line) => line.length + n).sinkTo(kafkaSink({ topic: 'out' }));",
      'export default p;',
      '',
    ].join('\n'),
  );
});

it('infra/app.ts (cdk synth) stops on a pipeline type error with the compiler message, before bundling', () => {
  const r = spawnSync(process.execPath, [join(root, 'node_modules/tsx/dist/cli.mjs'), 'infra/app.ts'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify({ pipeline: 'test-output/typecheck/synth-type-error.ts' }), CDK_OUTDIR: join(dir, 'cdk.out') },
  });
  expect(r.status).toBe(1);
  expect(r.stderr).toBe(
    "weir: pipeline file test-output/typecheck/synth-type-error.ts does not type-check:\ntest-output/typecheck/synth-type-error.ts(3,7): error TS2322: Type 'string' is not assignable to type 'number'.\nfix the file and run again\n",
  );
});

it('passes every example, and names the file and the compiler diagnostics in a typed error', () => {
  for (const name of ['sensor-alerts', 'windowed-wordcount']) expect(() => typecheckPipeline(join(root, 'examples', `${name}.ts`))).not.toThrow();
  const err = thrown(() => typecheckPipeline(file));
  expect(err).toBeInstanceOf(PipelineTypeError);
  expect((err as PipelineTypeError).file).toBe(file);
  expect((err as PipelineTypeError).diagnostics).toContain("error TS2322: Type 'string' is not assignable to type 'number'.");
});
