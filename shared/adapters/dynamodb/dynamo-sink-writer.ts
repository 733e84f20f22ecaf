import { PutItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { splitFunctionRows, type FunctionSinks } from '../../runtime/function-sinks';
import type { SinkRow, SinkWriter } from '../../runtime/ports';
import { forEachBounded, itemBytes, MAX_ITEM_BYTES, resolveRetry, showKey, withRetry, type RetryOptions } from './dynamo-common';
import { StateTooLargeError } from './errors';
import { SINK_PARTITION_KEY } from './tables';

export interface DynamoSinkWriterOptions {
  /** Injected; the adapter never builds a client itself. */
  readonly client: DynamoDBClient;
  /** Function sinks by name; their rows are handed to them, as MemorySinkWriter does. */
  readonly functions?: FunctionSinks;
  /** PutItem requests in flight. @default 16 */
  readonly concurrency?: number;
  readonly retry?: RetryOptions;
}

/**
 * The DynamoDB item of a sink row: the sink's own `item` (with `weirId`) when it has one,
 * else `{ id, value: JSON text, key (left out when null), timestamp }`.
 */
export function sinkItem(row: SinkRow): Record<string, AttributeValue> {
  if (row.item) return marshall(row.item, { removeUndefinedValues: true, convertClassInstanceToMap: true });
  return {
    [SINK_PARTITION_KEY]: { S: row.id },
    value: { S: JSON.stringify(row.value) ?? 'null' },
    ...(row.key !== null ? { key: { S: row.key } } : {}),
    timestamp: { N: String(row.timestamp) },
  };
}

/**
 * Writes `dynamoSink` rows with one PutItem each into the table named by `row.sink`, keyed
 * by weir-id: a retried batch puts the same item again (idempotent). Rows of function sinks
 * go to those functions, after the table writes.
 */
export class DynamoSinkWriter implements SinkWriter {
  private readonly client: DynamoDBClient;
  private readonly functions: FunctionSinks;
  private readonly concurrency: number;
  private readonly retry: ReturnType<typeof resolveRetry>;

  constructor(options: DynamoSinkWriterOptions) {
    this.client = options.client;
    this.functions = options.functions ?? new Map();
    this.concurrency = Math.max(1, Math.floor(options.concurrency ?? 16));
    this.retry = resolveRetry(options.retry);
  }

  async write(rows: readonly SinkRow[]): Promise<void> {
    const { calls, rest } = splitFunctionRows(rows, this.functions);
    // Last row wins for a repeated (table, id), as in MemorySinkWriter's map.
    const puts = new Map<string, { table: string; item: Record<string, AttributeValue> }>();
    for (const r of rest) {
      const item = sinkItem(r);
      const size = itemBytes(item);
      if (size > MAX_ITEM_BYTES) {
        throw new StateTooLargeError(`DynamoDB sink ${r.sink}: the item of ${showKey(r.id)} is ${size} bytes, over the ${MAX_ITEM_BYTES}-byte (400 KB) limit`, {
          key: r.id,
          size,
          limit: MAX_ITEM_BYTES,
        });
      }
      const id = JSON.stringify([r.sink, r.id]);
      puts.delete(id);
      puts.set(id, { table: r.sink, item });
    }
    await forEachBounded([...puts.values()], this.concurrency, (p) =>
      withRetry(`PutItem into ${p.table}`, this.retry, () => this.client.send(new PutItemCommand({ TableName: p.table, Item: p.item }))).then(() => undefined),
    );
    for (const [fn, records] of calls) await fn.write(records);
  }
}
