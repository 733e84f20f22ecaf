import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { ConfigError } from '../../runtime/errors';
import { sleep } from './dynamo-common';

/**
 * The two Weir tables. Attribute names are exported so the CDK stack builds the same schema.
 *
 * State table (`pk` S + `sk` S), one item collection per keyed stage partition (pk = scope):
 *   log#<slot>          a commit: seq, data (deflated JSON lines) or parts + pid
 *   logpart#<pid>#<i>   part i of a commit over PART_BYTES
 *   head                the latest snapshot: snapSeq, snapId, parts
 *   snap#<snapId>#<i>   part i of that snapshot
 * Nothing live carries a TTL. The table keeps TTL enabled on `ttl` for items a later
 * version may want to expire; Weir writes none.
 * Progress table (`pk` S): pk = scope, seq, data, updatedAt.
 */
export const STATE_PARTITION_KEY = 'pk';
export const STATE_SORT_KEY = 'sk';
export const STATE_TTL_ATTRIBUTE = 'ttl';
export const STATE_DATA_ATTRIBUTE = 'data';
/** Sort key of a partition's snapshot head. */
export const STATE_HEAD_SORT_KEY = 'head';
/** Commits in a partition's ring; the executor snapshots at least every SNAPSHOT_EVERY_ENTRIES (1000) commits. */
export const LOG_RING_SLOTS = 4096;
/** Deflated bytes per item before a commit or snapshot spills into parts (items hold 400 KB). */
export const PART_BYTES = 350 * 1024;
export const logSk = (seq: number): string => `log#${String(seq % LOG_RING_SLOTS).padStart(4, '0')}`;
export const logPartSk = (pid: string, i: number): string => `logpart#${pid}#${String(i).padStart(5, '0')}`;
export const snapPartPrefix = (snapId: string): string => `snap#${snapId}#`;
export const snapPartSk = (snapId: string, i: number): string => `${snapPartPrefix(snapId)}${String(i).padStart(5, '0')}`;
export const PROGRESS_PARTITION_KEY = 'pk';
export const PROGRESS_DATA_ATTRIBUTE = 'data';
export const PROGRESS_SEQ_ATTRIBUTE = 'seq';
export const PROGRESS_UPDATED_AT_ATTRIBUTE = 'updatedAt';
/** Partition key of a DynamoDB sink table (items are put by weir-id). */
export const SINK_PARTITION_KEY = 'id';

export interface WeirTableNames {
  readonly state: string;
  readonly progress: string;
}

/** CreateTable inputs of the state and progress tables (on-demand capacity). */
export function tableDefinitions(names: WeirTableNames): { state: CreateTableCommandInput; progress: CreateTableCommandInput } {
  return {
    state: {
      TableName: names.state,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: STATE_PARTITION_KEY, AttributeType: 'S' },
        { AttributeName: STATE_SORT_KEY, AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: STATE_PARTITION_KEY, KeyType: 'HASH' },
        { AttributeName: STATE_SORT_KEY, KeyType: 'RANGE' },
      ],
    },
    progress: {
      TableName: names.progress,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: PROGRESS_PARTITION_KEY, AttributeType: 'S' }],
      KeySchema: [{ AttributeName: PROGRESS_PARTITION_KEY, KeyType: 'HASH' }],
    },
  };
}

export interface EnsureTablesOptions {
  /** How long to wait for a table to become ACTIVE. @default 300000 */
  readonly timeoutMs?: number;
  /** Poll interval while waiting. @default 250 */
  readonly pollMs?: number;
  /** Enable TTL on the state table's `ttl` attribute. @default true */
  readonly ttl?: boolean;
}

/**
 * Creates the state and progress tables when missing and waits until both are ACTIVE;
 * enables TTL on the state table. Idempotent and safe to run concurrently. An existing
 * table with a different key schema is a ConfigError.
 */
export async function ensureTables(client: DynamoDBClient, names: WeirTableNames, options: EnsureTablesOptions = {}): Promise<void> {
  const defs = tableDefinitions(names);
  const timeoutMs = options.timeoutMs ?? 300_000;
  const pollMs = options.pollMs ?? 250;
  await Promise.all([ensureTable(client, defs.state, timeoutMs, pollMs), ensureTable(client, defs.progress, timeoutMs, pollMs)]);
  if (options.ttl ?? true) await ensureTtl(client, names.state, STATE_TTL_ATTRIBUTE);
}

async function describe(client: DynamoDBClient, table: string): Promise<TableDescription | undefined> {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: table }))).Table;
  } catch (err) {
    if (err instanceof Error && err.name === 'ResourceNotFoundException') return undefined;
    throw err;
  }
}

async function ensureTable(client: DynamoDBClient, def: CreateTableCommandInput, timeoutMs: number, pollMs: number): Promise<void> {
  const table = def.TableName ?? '';
  let desc = await describe(client, table);
  if (!desc) {
    try {
      await client.send(new CreateTableCommand(def));
    } catch (err) {
      // Someone else created it between our describe and create.
      if (!(err instanceof Error && err.name === 'ResourceInUseException')) throw err;
    }
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    desc = await describe(client, table);
    if (desc?.TableStatus === 'ACTIVE') break;
    if (Date.now() >= deadline) {
      throw new ConfigError(`DynamoDB table "${table}" is not ACTIVE after ${timeoutMs} ms (status ${desc?.TableStatus ?? 'missing'})`);
    }
    await sleep(pollMs);
  }
  const want = (def.KeySchema ?? []).map((k) => `${k.AttributeName}:${k.KeyType}`).join(',');
  const have = (desc.KeySchema ?? []).map((k) => `${k.AttributeName}:${k.KeyType}`).join(',');
  if (want !== have) {
    throw new ConfigError(`DynamoDB table "${table}" exists with key schema [${have}]; Weir needs [${want}]: use another table name or delete it`);
  }
}

async function ensureTtl(client: DynamoDBClient, table: string, attribute: string): Promise<void> {
  const d = await client.send(new DescribeTimeToLiveCommand({ TableName: table }));
  const status = d.TimeToLiveDescription?.TimeToLiveStatus;
  if (status === 'ENABLED' || status === 'ENABLING') {
    const current = d.TimeToLiveDescription?.AttributeName;
    if (current === attribute) return;
    throw new ConfigError(`DynamoDB table "${table}" has TTL on attribute "${current}"; Weir's state table needs it on "${attribute}"`);
  }
  try {
    await client.send(new UpdateTimeToLiveCommand({ TableName: table, TimeToLiveSpecification: { AttributeName: attribute, Enabled: true } }));
  } catch (err) {
    // A concurrent ensureTables enabled it first.
    if (!(err instanceof Error && err.name === 'ValidationException' && /already enabled/i.test(err.message))) throw err;
  }
}
