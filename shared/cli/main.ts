import { writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { planToSvg } from '../plan/dot';
import { formatPlan } from '../plan/format';
import { planPipeline } from '../plan/planner';
import { describeError, WeirError } from '../runtime/errors';
import { runEmbedded } from '../local/embedded';
import { readInputFile, type InputRecord } from '../local/input-file';
import { runLocal } from '../local/local-run';
import { startDev } from '../local/dev';
import type { Pipeline } from '../api/pipeline';
import { localBrokers, localDynamoEndpoint } from '../local/endpoints';
import { loadCheckedPipeline } from '../local/load-pipeline';
import { formatOutput } from '../local/output-file';
import { formatTally, tallyOutputs } from '../local/run-summary';
import { checkLocalRunComplete, localRunSummary } from '../local/local-report';

function positiveInt(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${flag} needs a positive integer, got "${v}"`);
    return n;
  };
}

function portArg(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError(`${flag} needs a port number from 1 to 65535, got "${v}"; leave it out to take a free port`);
    return n;
  };
}

function version(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('../../package.json') as { version: string }).version;
}

function intArg(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n)) throw new InvalidArgumentError(`${flag} needs an integer seed, got "${v}"`);
    return n;
  };
}

interface RunOptions {
  input: string;
  output?: string;
  partitions: number;
  batchSize: number;
  chaos?: number;
  local?: boolean;
  brokers: string;
  dynamodbEndpoint: string;
}

async function runOnLocalStack(p: Pipeline, file: string, input: InputRecord[], opts: RunOptions): Promise<void> {
  const started = Date.now();
  const per = (n: number): string => (input.length ? (n / input.length).toFixed(3) : '0');
  const result = await runLocal(p, file, input, {
    partitions: opts.partitions,
    batchSize: opts.batchSize,
    brokers: opts.brokers,
    dynamoEndpoint: opts.dynamodbEndpoint,
    ...(opts.chaos !== undefined ? { chaos: opts.chaos } : {}),
    onProgress: (line) => process.stderr.write(`  ${line}\n`),
  });
  const text = formatOutput(result.outputs);
  if (opts.output) writeFileSync(opts.output, text);
  else process.stdout.write(text);
  process.stderr.write(
    [
      `weir run --local ${p.name} (run ${result.runId}): ${input.length} input records, ${result.plan.stages.length} stages, ${result.invocations} invocations in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      `  bundles: ${result.bundles.map((b) => `${b.stage} ${(b.bytes / 1024).toFixed(0)} KB`).join(', ')}`,
      ...localRunSummary(result, opts.brokers),
      `  redelivered batches: ${result.redeliveries}`,
      `  DynamoDB: ${result.dynamo.writeRequests} write requests (${per(result.dynamo.writeRequests)} per input record), ${result.dynamo.writeUnits.toFixed(0)} write units (${per(result.dynamo.writeUnits)} per input record), ${result.dynamo.readRequests} read requests; ${result.stateWrites} key writes`,
      ...(opts.output ? [`  output written to ${opts.output}`] : []),
    ].join('\n') + '\n',
  );
  checkLocalRunComplete(result);
}

export function buildCli(): Command {
  const program = new Command('weir')
    .description('Flink-style stream processing over Kafka, one AWS Lambda per stage')
    .version(version(), '-V, --version', 'print the version of weir')
    .showHelpAfterError('(run weir <command> --help for the options)')
    .addHelpText(
      'after',
      `
A pipeline is a .ts file whose default export is pipeline('name') (see examples/).

Examples:
  $ weir plan examples/windowed-wordcount.ts --svg plan.svg
  $ weir run examples/windowed-wordcount.ts --input examples/data/lines.jsonl
  $ npm run local:up && weir dev examples/windowed-wordcount.ts --ui

Environment:
  WEIR_KAFKA_PORT, WEIR_DYNAMODB_PORT   ports of the local stack (default 9092, 8000); npm run local:up
                                        and every command that talks to it read them

Exit status: 0 on success, 1 on an error (the message says what to do), 1 on a bad option.`,
    );

  program
    .command('plan')
    .description('print the stages (one Lambda each), their operators, input and output topics')
    .argument('<pipeline>', 'a .ts file whose default export is a pipeline')
    .option('--partitions <n>', 'partitions of topics that do not set their own', positiveInt('--partitions'), 4)
    .option('--svg <file>', 'also draw the plan (stages, topics, tables) as an SVG picture')
    .action(async (file: string, opts: { partitions: number; svg?: string }) => {
      const p = loadCheckedPipeline(file);
      const plan = planPipeline(p, { defaultPartitions: opts.partitions });
      process.stdout.write(formatPlan(p, plan) + '\n');
      if (opts.svg) {
        writeFileSync(opts.svg, await planToSvg(p, plan));
        process.stderr.write(`picture written to ${opts.svg}\n`);
      }
    })
    .addHelpText('after', '\nExample:\n  $ weir plan examples/windowed-wordcount.ts --svg plan.svg   # then open plan.svg in a browser');

  program
    .command('run')
    .description('run a pipeline on a bounded input, every stage in this process (embedded, no services)')
    .argument('<pipeline>', 'a .ts file whose default export is a pipeline')
    .requiredOption('--input <file>', 'JSON lines: {"topic"?, "partition"?, "timestamp", "key"?, "value"}')
    .option('--output <file>', 'write sink, late and dead-letter records here as JSON lines (default: stdout)')
    .option('--partitions <n>', 'partitions of source, repartition and sink topics', positiveInt('--partitions'), 4)
    .option('--batch-size <n>', 'records per partition per invocation (the ESM BatchSize)', positiveInt('--batch-size'), 100)
    .option('--chaos <seed>', 'inject crashes, redeliveries and duplicates, deterministically from the seed', intArg('--chaos'))
    .option('--local', 'run against the local Kafka broker and DynamoDB Local (npm run local:up) through the MSK trigger emulator and the built bundles')
    .option('--brokers <list>', 'with --local: Kafka bootstrap brokers', localBrokers())
    .option('--dynamodb-endpoint <url>', 'with --local: DynamoDB endpoint', localDynamoEndpoint())
    .addHelpText(
      'after',
      `
Output goes to stdout (or --output) as JSON lines; a summary goes to stderr, counting results
by distinct weir-id (and copies, when retries wrote some twice). The input is bounded: every
window fires at the end, and the command exits 0; with --local it exits 1 when records went
to an on-failure topic (the summary says which and how many).

Examples:
  $ weir run examples/windowed-wordcount.ts --input examples/data/lines.jsonl --batch-size 10
  $ weir run examples/wordcount.ts --input in.jsonl --chaos 7 --output out.jsonl
  $ weir run examples/windowed-wordcount.ts --input in.jsonl --local   # needs npm run local:up`,
    )
    .action(async (file: string, opts: RunOptions) => {
      const p = loadCheckedPipeline(file);
      const input = readInputFile(opts.input);
      if (opts.local) {
        await runOnLocalStack(p, file, input, opts);
        return;
      }
      const tty = process.stderr.isTTY;
      const result = await runEmbedded(p, input, {
        partitions: opts.partitions,
        batchSize: opts.batchSize,
        ...(opts.chaos !== undefined ? { chaos: opts.chaos } : {}),
        onProgress: ({ stage, done, total }) => {
          if (tty) process.stderr.write(`\r  stage ${stage}: ${done}/${total} records`);
          else if (done === total) process.stderr.write(`  stage ${stage}: ${done}/${total} records\n`);
        },
      });
      if (tty) process.stderr.write('\n');
      const text = formatOutput(result.outputs);
      if (opts.output) writeFileSync(opts.output, text);
      else process.stdout.write(text);
      const m = result.metrics;
      process.stderr.write(
        [
          `weir run ${p.name}: ${input.length} input records, ${result.plan.stages.length} stages, ${result.invocations} invocations`,
          ...formatTally(tallyOutputs(result.plan, result.outputs)),
          `  duplicate input records skipped: ${m.duplicatesSkipped ?? 0}`,
          `  state: ${result.stateWrites} key writes in ${result.writeRequests} DynamoDB write requests (${input.length ? (result.writeRequests / input.length).toFixed(3) : '0'} per input record)`,
          ...(result.chaos
            ? [`  chaos: crashes ${JSON.stringify(result.chaos.crashes)}, redeliveries ${result.chaos.redeliveries}, duplicated records ${result.chaos.duplicatedRecords}`]
            : []),
          ...(opts.output ? [`  output written to ${opts.output}`] : []),
        ].join('\n') + '\n',
      );
    });
  program
    .command('dev')
    .description('run every stage continuously against the local stack (npm run local:up) for your own producers')
    .argument('<pipeline>', 'a .ts file whose default export is a pipeline')
    .option('--partitions <n>', 'partitions of topics the pipeline creates', positiveInt('--partitions'), 4)
    .option('--batch-size <n>', 'records per invocation, of one partition or several (the ESM BatchSize)', positiveInt('--batch-size'), 100)
    .option('--brokers <list>', 'Kafka bootstrap brokers', localBrokers())
    .option('--dynamodb-endpoint <url>', 'DynamoDB endpoint', localDynamoEndpoint())
    .option('--lambda-endpoint <url>', 'invoke the stage functions deployed behind this Lambda API (e.g. LocalStack, http://127.0.0.1:4566) instead of local bundles')
    .option('--function-name <template>', 'with --lambda-endpoint: function name per stage', 'weir-{pipeline}-{stage}')
    .option('--batching-window <ms>', 'how long a partial batch waits to fill (MaximumBatchingWindowInSeconds, in ms)', positiveInt('--batching-window'), 500)
    .option('--ui', 'serve a live page on 127.0.0.1: stage graph, rates, lag, watermarks, open windows, DLQ/late counts, window results')
    .option('--ui-port <port>', 'port of the --ui page (implies --ui; default: a free port)', portArg('--ui-port'))
    .addHelpText(
      'after',
      `
Topics and tables keep their own names, so your producers and consumers can join: produce to
the pipeline's source topics and read its sink topics. Ctrl-C stops (committed offsets and
state stay; the next start goes on from them).

Examples:
  $ npm run local:up
  $ weir dev examples/windowed-wordcount.ts --ui              # prints the page's address
  $ weir dev examples/windowed-wordcount.ts --ui-port 8080    # http://127.0.0.1:8080/`,
    )
    .action(async (file: string, opts: { partitions: number; batchSize: number; brokers: string; dynamodbEndpoint: string; lambdaEndpoint?: string; functionName: string; batchingWindow: number; ui?: boolean; uiPort?: number }) => {
      const p = loadCheckedPipeline(file);
      const session = await startDev(p, file, {
        ...(opts.lambdaEndpoint ? { lambdaEndpoint: opts.lambdaEndpoint, functionName: opts.functionName } : {}),
        ...(opts.ui || opts.uiPort !== undefined ? { ui: opts.uiPort !== undefined ? { port: opts.uiPort } : {} } : {}),
        batchingWindowMs: opts.batchingWindow,
        partitions: opts.partitions,
        batchSize: opts.batchSize,
        brokers: opts.brokers,
        dynamoEndpoint: opts.dynamodbEndpoint,
        onStatus: (line) => process.stderr.write(`  ${line}\n`),
      });
      if (session.ui) process.stderr.write(`\n  weir dev ${p.name}: open ${session.ui.url} in a browser (Ctrl-C stops)\n\n`);
      await new Promise<void>((done) => {
        const stop = (): void => void session.stop().then(done);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildCli().parseAsync(argv);
    return 0;
  } catch (err) {
    const msg = err instanceof WeirError ? `weir: ${err.message}` : `weir: unexpected error: ${describeError(err)}`;
    process.stderr.write(msg + '\n');
    if (!(err instanceof WeirError) && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
    return 1;
  }
}
