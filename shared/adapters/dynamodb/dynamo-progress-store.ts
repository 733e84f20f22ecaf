import { GetItemCommand, PutItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { StateConflictError } from '../../runtime/errors';
import type { ProgressStore, StoredProgress } from '../../runtime/ports';
import { itemBytes, MAX_ITEM_BYTES, MAX_PARTITION_KEY_BYTES, resolveRetry, showKey, utf8Bytes, withRetry, type RetryOptions } from './dynamo-common';
import { StateTooLargeError } from './errors';
import { PROGRESS_DATA_ATTRIBUTE, PROGRESS_PARTITION_KEY, PROGRESS_SEQ_ATTRIBUTE, PROGRESS_UPDATED_AT_ATTRIBUTE } from './tables';

export interface DynamoProgressStoreOptions {
  /** Injected; the adapter never builds a client itself. */
  readonly client: DynamoDBClient;
  readonly table: string;
  /** Milliseconds since the epoch, stored as `updatedAt`. @default Date.now */
  readonly now?: () => number;
  readonly retry?: RetryOptions;
}

/**
 * Progress of (stage, input topic, partition) of a stage without keyed state, in the progress
 * table: pk = scope, `seq`, `data`, `updatedAt`. Each put is conditional on the seq read, so a
 * zombie or an overlapping invocation cannot move offsets or watermarks back.
 */
export class DynamoProgressStore implements ProgressStore {
  private readonly client: DynamoDBClient;
  private readonly table: string;
  private readonly now: () => number;
  private readonly retry: ReturnType<typeof resolveRetry>;

  constructor(options: DynamoProgressStoreOptions) {
    this.client = options.client;
    this.table = options.table;
    this.now = options.now ?? Date.now;
    this.retry = resolveRetry(options.retry);
  }

  async get(scope: string): Promise<StoredProgress | undefined> {
    // A scope too long to be a key was never written (put refuses it).
    if (utf8Bytes(scope) > MAX_PARTITION_KEY_BYTES) return undefined;
    const res = await withRetry('GetItem', this.retry, () =>
      this.client.send(
        new GetItemCommand({
          TableName: this.table,
          Key: { [PROGRESS_PARTITION_KEY]: { S: scope } },
          ConsistentRead: true,
          ProjectionExpression: '#d, #s',
          ExpressionAttributeNames: { '#d': PROGRESS_DATA_ATTRIBUTE, '#s': PROGRESS_SEQ_ATTRIBUTE },
        }),
      ),
    );
    const data = res.Item?.[PROGRESS_DATA_ATTRIBUTE]?.S;
    // A progress item written before items had a seq (an older Weir) counts as seq 1.
    return data === undefined ? undefined : { seq: Number(res.Item?.[PROGRESS_SEQ_ATTRIBUTE]?.N ?? 1), data };
  }

  async put(scope: string, seq: number, data: string): Promise<void> {
    const item = progressItem(scope, data, this.now());
    item[PROGRESS_SEQ_ATTRIBUTE] = { N: String(seq) };
    try {
      await withRetry('PutItem', this.retry, () =>
        this.client.send(
          new PutItemCommand({
            TableName: this.table,
            Item: item,
            ConditionExpression: seq === 1 ? 'attribute_not_exists(#pk)' : '#s = :prev',
            ExpressionAttributeNames: seq === 1 ? { '#pk': PROGRESS_PARTITION_KEY } : { '#s': PROGRESS_SEQ_ATTRIBUTE },
            ...(seq === 1 ? {} : { ExpressionAttributeValues: { ':prev': { N: String(seq - 1) } } }),
            ReturnValues: 'ALL_OLD',
          }),
        ),
      );
    } catch (err) {
      if (err instanceof Error && err.name === 'ConditionalCheckFailedException') {
        throw new StateConflictError(`progress of ${scope} moved past ${seq - 1} (another invocation committed first); the batch will be retried`);
      }
      throw err;
    }
  }
}

/** The progress item of `scope`, checked against DynamoDB's key and item limits (the progress store and the state store's commits write it). */
export function progressItem(scope: string, data: string, now: number): Record<string, AttributeValue> {
  const scopeBytes = utf8Bytes(scope);
  if (scopeBytes > MAX_PARTITION_KEY_BYTES) {
    throw new StateTooLargeError(`progress scope ${showKey(scope)} is ${scopeBytes} bytes, over DynamoDB's ${MAX_PARTITION_KEY_BYTES}-byte partition key limit`, {
      key: scope,
      size: scopeBytes,
      limit: MAX_PARTITION_KEY_BYTES,
    });
  }
  const item: Record<string, AttributeValue> = {
    [PROGRESS_PARTITION_KEY]: { S: scope },
    [PROGRESS_DATA_ATTRIBUTE]: { S: data },
    [PROGRESS_UPDATED_AT_ATTRIBUTE]: { N: String(Math.floor(now)) },
  };
  const size = itemBytes(item);
  if (size > MAX_ITEM_BYTES) {
    throw new StateTooLargeError(`progress of ${showKey(scope)} is ${size} bytes as a DynamoDB item, over the ${MAX_ITEM_BYTES}-byte (400 KB) limit`, { key: scope, size, limit: MAX_ITEM_BYTES });
  }
  return item;
}
