/**
 * One cold restore in a fresh process (bench/restore.ts): PartitionCache.load of a partition
 * this process has never held, through DynamoCommitLog against DynamoDB Local, timed.
 * Config: JSON in BENCH_RESTORE_CONFIG. Reports a RestoreWorkerReport over IPC.
 */
import './quiet';
import { performance } from 'node:perf_hooks';
import { DynamoCommitLog, meterClient } from '../shared/adapters/dynamodb';
import { itemBytes } from '../shared/adapters/dynamodb/dynamo-common';
import { localDynamoClient } from '../shared/local/endpoints';
import type { CommitLog } from '../shared/runtime/ports';
import { PartitionCache } from '../shared/runtime/state/partition-cache';
import pipeline from './large-state-pipeline';
import { keyedStage, type RestoreWorkerConfig, type RestoreWorkerReport } from './restore';

async function main(): Promise<void> {
  const cfg = JSON.parse(process.env.BENCH_RESTORE_CONFIG ?? '') as RestoreWorkerConfig;
  const { nextTimer } = keyedStage(pipeline, cfg.partitions);
  const client = localDynamoClient(cfg.endpoint);
  const meter = meterClient(client);
  let bytesRead = 0;
  client.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      const out = result.output as { Item?: Parameters<typeof itemBytes>[0]; Items?: Array<Parameters<typeof itemBytes>[0]> };
      if (out.Item) bytesRead += itemBytes(out.Item);
      for (const i of out.Items ?? []) bytesRead += itemBytes(i);
      return result;
    },
    { step: 'initialize', name: 'benchBytesRead' },
  );
  const log = new DynamoCommitLog({ client, table: cfg.table });
  let readMs = 0;
  let bodyBytes = 0;
  const timed: CommitLog = {
    read: async (scope, after) => {
      const t = performance.now();
      const r = await log.read(scope, after);
      readMs += performance.now() - t;
      bodyBytes += (r.snapshot?.body.length ?? 0) + r.entries.reduce((a, e) => a + e.body.length, 0);
      return r;
    },
    append: (scope, seq, body) => log.append(scope, seq, body),
    snapshot: (scope, seq, body) => log.snapshot(scope, seq, body),
  };
  const cache = new PartitionCache(timed, nextTimer, cfg.limitBytes, () => undefined);
  const processStartMs = performance.now();
  const t0 = performance.now();
  const ps = await cache.load(cfg.scope);
  const loadMs = performance.now() - t0;
  const mem = process.memoryUsage();
  const report: RestoreWorkerReport = {
    loadMs,
    readMs,
    decodeMs: loadMs - readMs,
    processStartMs,
    bytesRead,
    bodyBytes,
    stateBytes: ps.bytes,
    keys: ps.keys.size,
    dynamo: meter.usage(),
    heapUsedMb: Math.round(mem.heapUsed / 2 ** 20),
    rssMb: Math.round(mem.rss / 2 ** 20),
  };
  client.destroy();
  await new Promise<void>((r) => (process.send ? process.send(report, () => r()) : r()));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`restore worker: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
