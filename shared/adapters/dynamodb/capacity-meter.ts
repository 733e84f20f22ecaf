import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { itemBytes } from './dynamo-common';

/** DynamoDB requests made and the request units they bill (on-demand). */
export interface DynamoUsage {
  writeRequests: number;
  readRequests: number;
  /** Write request units: 1 per KB written per item, twice that inside a transaction. */
  writeUnits: number;
  /** Read request units: 1 per 4 KB read per strongly consistent request, summed per request for queries. */
  readUnits: number;
}

type Item = Record<string, AttributeValue>;
const kb = (item: Item | undefined): number => Math.max(1, Math.ceil((item ? itemBytes(item) : 0) / 1024));
const rru = (bytes: number): number => Math.max(1, Math.ceil(bytes / 4096));

/**
 * Write units a request bills, by DynamoDB's pricing rules: a put or delete bills the larger
 * of the item before and after (the adapters ask for the old item, ALL_OLD, where one may exist).
 */
function writeUnits(name: string, input: Record<string, unknown>, output: Record<string, unknown>): number {
  const old = output.Attributes as Item | undefined;
  if (name === 'PutItemCommand') return Math.max(kb(input.Item as Item), old ? kb(old) : 1);
  if (name === 'DeleteItemCommand') return old ? kb(old) : 1;
  if (name === 'UpdateItemCommand') return 1;
  if (name === 'BatchWriteItemCommand') {
    let units = 0;
    for (const reqs of Object.values((input.RequestItems ?? {}) as Record<string, Array<{ PutRequest?: { Item: Item } }>>)) {
      for (const r of reqs) units += r.PutRequest ? kb(r.PutRequest.Item) : 1;
    }
    return units;
  }
  if (name === 'TransactWriteItemsCommand') {
    let units = 0;
    for (const t of (input.TransactItems ?? []) as Array<{ Put?: { Item: Item } }>) units += 2 * (t.Put ? kb(t.Put.Item) : 1);
    return units;
  }
  return 0;
}

/** Read units a request bills, from what it returned (strongly consistent reads). */
function readUnits(name: string, output: Record<string, unknown>): number {
  if (name === 'GetItemCommand') return rru(itemBytes((output.Item ?? {}) as Item));
  if (name === 'QueryCommand' || name === 'ScanCommand') return rru(((output.Items ?? []) as Item[]).reduce((a, i) => a + itemBytes(i), 0));
  if (name === 'BatchGetItemCommand') {
    let units = 0;
    for (const items of Object.values((output.Responses ?? {}) as Record<string, Item[]>)) for (const i of items) units += rru(itemBytes(i));
    return units;
  }
  return 0;
}

const WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'BatchWriteItemCommand', 'TransactWriteItemsCommand']);
const READS = new Set(['GetItemCommand', 'BatchGetItemCommand', 'QueryCommand', 'ScanCommand']);

/**
 * Counts a client's requests and the request units they bill, computed from the items
 * sent and returned by DynamoDB's pricing rules (DynamoDB Local does not report consumed
 * capacity for transactions, so it is not asked).
 */
export function meterClient(client: DynamoDBClient): { usage: () => DynamoUsage; reset: () => void } {
  const usage: DynamoUsage = { writeRequests: 0, readRequests: 0, writeUnits: 0, readUnits: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = String((context as { commandName?: string }).commandName ?? '');
      const result = await next(args);
      if (WRITES.has(name)) {
        usage.writeRequests++;
        usage.writeUnits += writeUnits(name, args.input as Record<string, unknown>, result.output as unknown as Record<string, unknown>);
      } else if (READS.has(name)) {
        usage.readRequests++;
        usage.readUnits += readUnits(name, result.output as unknown as Record<string, unknown>);
      }
      return result;
    },
    { step: 'initialize', name: 'weirCapacityMeter' },
  );
  return {
    usage: () => ({ ...usage }),
    reset: () => {
      usage.writeRequests = usage.readRequests = usage.writeUnits = usage.readUnits = 0;
    },
  };
}
