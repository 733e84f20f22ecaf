/**
 * Cold restore of a keyed partition (issue 12): a snapshot of about `bytes` of state JSON,
 * in the shape the large-state pipeline's window operator keeps (one open 1 h window per key),
 * written through DynamoCommitLog.snapshot to DynamoDB Local; then, in fresh child processes
 * (bench/restore-worker.ts), PartitionCache.load of that partition timed: the log read
 * (DynamoDB queries, inflate) and the decode into a PartitionState.
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoCommitLog, ensureTables, meterClient, type DynamoUsage } from '../shared/adapters/dynamodb';
import type { Pipeline } from '../shared/api/pipeline';
import { localDynamoClient } from '../shared/local/endpoints';
import { planPipeline } from '../shared/plan/planner';
import type { StagePlan } from '../shared/plan/types';
import type { KeyedOperator, TimeDomain } from '../shared/runtime/operators/keyed-operator';
import { windowOperator } from '../shared/runtime/operators/window-operator';
import { toJson } from '../shared/runtime/progress';
import { stateScope } from '../shared/runtime/scopes';
import { PartitionState, type KeyOps, type NextTimer } from '../shared/runtime/state/partition-state';
import largePipeline, { LARGE_STATE_WINDOW_MS } from './large-state-pipeline';
import { DEFAULT_SPEC, uniformKey } from './workload';

/** The keyed stage of a pipeline, its window operators and the executor's nextTimer over them. */
export function keyedStage(p: Pipeline, partitions: number): { stage: StagePlan; windowIds: number[]; nextTimer: NextTimer } {
  const plan = planPipeline(p, { defaultPartitions: partitions });
  const stage = plan.stages.find((s) => s.keyed);
  if (!stage) throw new Error(`pipeline ${plan.pipeline} has no keyed stage`);
  const nodes = p.nodes();
  const ops = new Map<number, KeyedOperator>();
  for (const id of stage.nodeIds) {
    const n = nodes[id];
    if (n?.kind === 'window') ops.set(id, windowOperator(n, stage.id));
  }
  if (!ops.size) throw new Error(`pipeline ${plan.pipeline}: the restore bench expects a window operator in stage ${stage.id}`);
  const nextTimer: NextTimer = (keyOps: KeyOps, domain: TimeDomain) => {
    let next: number | undefined;
    for (const [id, op] of ops) {
      const t = op.nextTimer(keyOps[id], domain);
      if (t !== undefined && (next === undefined || t < next)) next = t;
    }
    return next;
  };
  return { stage, windowIds: [...ops.keys()], nextTimer };
}

export interface RestoreWorkerConfig {
  readonly endpoint: string;
  readonly table: string;
  readonly scope: string;
  /** PartitionCache limit: above the state's size, so the load is not refused. */
  readonly limitBytes: number;
  readonly partitions: number;
}

/** What one fresh process measured. */
export interface RestoreWorkerReport {
  /** PartitionCache.load: the log read, inflate, decode and apply, ms. */
  readonly loadMs: number;
  /** Of it, DynamoCommitLog.read (queries + inflate + concatenation), ms. */
  readonly readMs: number;
  /** Of it, decoding the body and building the PartitionState (keys, timers), ms. */
  readonly decodeMs: number;
  /** From the process's start until the load could begin (node, tsx, modules, clients), ms. */
  readonly processStartMs: number;
  /** Item bytes DynamoDB returned (compressed snapshot parts + head + log query). */
  readonly bytesRead: number;
  /** JSON bytes of the body the log returned. */
  readonly bodyBytes: number;
  readonly stateBytes: number;
  readonly keys: number;
  readonly dynamo: DynamoUsage;
  readonly heapUsedMb: number;
  readonly rssMb: number;
}

export interface RestoreSummary {
  readonly target_bytes: number;
  readonly state_json_bytes: number;
  readonly keys: number;
  readonly snapshot_write_ms: number;
  readonly snapshot_write: DynamoUsage;
  readonly trials: RestoreWorkerReport[];
  /** The trial of median load time: its load, read and decode; medians of bytes and units. */
  readonly load_ms: number;
  readonly read_ms: number;
  readonly decode_ms: number;
  readonly bytes_read: number;
  readonly read_units: number;
}

/** One open window per key, as the window operator keeps it ({ <node id>: [{ s, e, acc, f }] }), until the state reaches `targetBytes`; then one snapshot. */
async function writeSnapshot(
  log: DynamoCommitLog,
  scope: string,
  windowIds: readonly number[],
  nextTimer: NextTimer,
  targetBytes: number,
  meter: ReturnType<typeof meterClient>,
): Promise<{ keys: number; bytes: number; writeMs: number; written: DynamoUsage }> {
  const ps = new PartitionState(nextTimer);
  const start = DEFAULT_SPEC.startMs;
  for (let i = 0; ps.bytes < targetBytes; i++) {
    const ops: KeyOps = {};
    for (const id of windowIds) ops[id] = [{ s: start, e: start + LARGE_STATE_WINDOW_MS, acc: 1 + (i % 7), f: 0 }];
    const key = uniformKey(i);
    // With its size (its snapshot line's length, as encodeSnapshot writes it): set() sizes a
    // key only when given it, and the loop stops on ps.bytes.
    ps.set(key, ops, toJson([key, ops]).length);
  }
  ps.progress = { ...ps.progress, offsetDone: 1_000_000 };
  const body = ps.encodeSnapshot();
  meter.reset();
  const t0 = performance.now();
  await log.snapshot(scope, 1, body);
  return { keys: ps.keys.size, bytes: ps.bytes, writeMs: performance.now() - t0, written: meter.usage() };
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[Math.floor((s.length - 1) / 2)] as number) : Number.NaN;
};

function runWorker(cfg: RestoreWorkerConfig): Promise<RestoreWorkerReport> {
  return new Promise((done, fail) => {
    const child = fork(join(__dirname, 'restore-worker.ts'), [], {
      execArgv: ['--import', 'tsx', '--max-old-space-size=4096'],
      env: { ...process.env, BENCH_RESTORE_CONFIG: JSON.stringify(cfg) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let report: RestoreWorkerReport | undefined;
    child.on('message', (m) => (report = m as RestoreWorkerReport));
    child.on('exit', (code) => (code === 0 && report ? done(report) : fail(new Error(`restore worker exited ${code}`))));
  });
}

/**
 * Writes a snapshot of about `targetBytes` of state JSON for partition 0 of the large-state
 * pipeline's keyed stage (bench/large-state-pipeline.ts: the worker restores with its operators)
 * into a table of its own, restores it in `trials` fresh processes, deletes the table.
 */
export async function measureRestore(o: {
  readonly endpoint: string;
  readonly tablePrefix: string;
  readonly partitions: number;
  readonly targetBytes: number;
  readonly trials: number;
  readonly say: (s: string) => void;
}): Promise<RestoreSummary> {
  const { stage, windowIds, nextTimer } = keyedStage(largePipeline, o.partitions);
  const tables = { state: `${o.tablePrefix}state`, progress: `${o.tablePrefix}progress` };
  const client = localDynamoClient(o.endpoint);
  const meter = meterClient(client);
  try {
    await ensureTables(client, tables);
    const scope = stateScope(largePipeline.name, stage.id, 0);
    // Built and written in a function of its own: the state (a GB of heap at 100 MB) is garbage once written.
    const ps = await writeSnapshot(new DynamoCommitLog({ client, table: tables.state }), scope, windowIds, nextTimer, o.targetBytes, meter);
    o.say(`restore: snapshot of ${ps.keys} keys, ${ps.bytes} bytes of state JSON, written in ${Math.round(ps.writeMs)} ms (${ps.written.writeRequests} puts, ${ps.written.writeUnits} WRU)`);
    const trials: RestoreWorkerReport[] = [];
    for (let t = 0; t < o.trials; t++) {
      const r = await runWorker({ endpoint: o.endpoint, table: tables.state, scope, limitBytes: Math.max(2 * ps.bytes, 256 * 1024 * 1024), partitions: o.partitions });
      if (r.keys !== ps.keys || r.stateBytes !== ps.bytes) throw new Error(`restore: the fresh process restored ${r.keys} keys / ${r.stateBytes} bytes, written ${ps.keys} / ${ps.bytes}`);
      o.say(`restore trial ${t + 1}/${o.trials}: load ${Math.round(r.loadMs)} ms (read ${Math.round(r.readMs)} ms, decode ${Math.round(r.decodeMs)} ms), ${r.bytesRead} bytes read, ${r.dynamo.readUnits} RRU, ${r.dynamo.readRequests} requests; process start ${Math.round(r.processStartMs)} ms; heap ${r.heapUsedMb} MB`);
      trials.push(r);
    }
    // The trial of median load time (its read and decode add up to its load).
    const mid = [...trials].sort((a, b) => a.loadMs - b.loadMs)[Math.floor((trials.length - 1) / 2)] as RestoreWorkerReport;
    return {
      target_bytes: o.targetBytes,
      state_json_bytes: ps.bytes,
      keys: ps.keys,
      snapshot_write_ms: Math.round(ps.writeMs),
      snapshot_write: ps.written,
      trials,
      load_ms: Math.round(mid.loadMs),
      read_ms: Math.round(mid.readMs),
      decode_ms: Math.round(mid.decodeMs),
      bytes_read: median(trials.map((r) => r.bytesRead)),
      read_units: median(trials.map((r) => r.dynamo.readUnits)),
    };
  } finally {
    for (const t of [tables.state, tables.progress]) await client.send(new DeleteTableCommand({ TableName: t })).catch(() => undefined);
    client.destroy();
  }
}
