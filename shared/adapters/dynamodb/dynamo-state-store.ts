import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  PutItemCommand,
  QueryCommand,
  type AttributeValue,
  type DynamoDBClient,
  type PutItemCommandInput,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { ConfigError, StateConflictError } from '../../runtime/errors';
import type { KeyWrite, StateStore, StoredKey, TimerEntry } from '../../runtime/ports';
import {
  backoffMs,
  chunk,
  forEachBounded,
  itemBytes,
  MAX_ITEM_BYTES,
  MAX_PARTITION_KEY_BYTES,
  MAX_SORT_KEY_BYTES,
  resolveRetry,
  showKey,
  sleep,
  utf8Bytes,
  withRetry,
  type RetryOptions,
} from './dynamo-common';
import { StateTooLargeError, StateUnavailableError } from './errors';
import {
  STATE_DATA_ATTRIBUTE,
  STATE_ITEM_SORT_KEY,
  STATE_PARTITION_KEY,
  STATE_SORT_KEY,
  STATE_TTL_ATTRIBUTE,
  STATE_VERSION_ATTRIBUTE,
} from './tables';

export interface DynamoStateStoreOptions {
  /** Injected; the adapter never builds a client itself. */
  readonly client: DynamoDBClient;
  readonly table: string;
  /**
   * Each write sets `ttl` = now + horizon (epoch seconds), so a key not written for that long
   * is deleted by DynamoDB's TTL. `Infinity` writes no `ttl` (state never expires).
   * @default 604800 (7 days)
   */
  readonly ttlHorizonSeconds?: number;
  /** Milliseconds since the epoch. @default Date.now */
  readonly now?: () => number;
  /** Requests in flight per call (PutItem for putMany, batches for the rest). @default 16 */
  readonly concurrency?: number;
  readonly retry?: RetryOptions;
}

const DEFAULT_TTL_HORIZON_SECONDS = 7 * 24 * 3600;
const BATCH_GET_MAX = 100;
const BATCH_WRITE_MAX = 25;
/** Hex digits of sortableTime. */
const TIME_WIDTH = 16;

/**
 * Maps any number to a 16-character string whose byte order is the numeric order:
 * -Infinity < negative < 0 < positive < +Infinity (NaN sorts after +Infinity). The IEEE-754
 * bits, big-endian, with the sign bit flipped for non-negative numbers and all bits flipped
 * for negative ones, in lowercase hex. -0 is taken as 0, as `String(-0)` does in memory.
 */
export function sortableTime(time: number): string {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(Number.isNaN(time) ? NaN : time === 0 ? 0 : time);
  if ((b[0] ?? 0) & 0x80) {
    for (let i = 0; i < 8; i++) b[i] = ~(b[i] ?? 0) & 0xff;
  } else {
    b[0] = (b[0] ?? 0) ^ 0x80;
  }
  return b.toString('hex');
}

/** The inverse of sortableTime. */
export function timeFromSortable(s: string): number {
  if (!/^[0-9a-f]{16}$/.test(s)) throw new Error(`not a sortable time: ${JSON.stringify(s)}`);
  const b = Buffer.from(s, 'hex');
  if ((b[0] ?? 0) & 0x80) {
    b[0] = (b[0] ?? 0) ^ 0x80;
  } else {
    for (let i = 0; i < 8; i++) b[i] = ~(b[i] ?? 0) & 0xff;
  }
  return b.readDoubleBE(0);
}

export function stateItemPk(scope: string, key: string): string {
  return `${scope}#k#${key}`;
}
export function timerPk(scope: string, domain: TimerEntry['domain']): string {
  return `${scope}#t#${domain}`;
}
export function timerSk(time: number, key: string): string {
  return `${sortableTime(time)}#${key}`;
}

type Item = Record<string, AttributeValue>;

/**
 * Keyed state and the timer index in one DynamoDB table (see tables.ts for the layout),
 * with the semantics of MemoryStateStore: versioned conditional writes, one item per key.
 */
export class DynamoStateStore implements StateStore {
  private readonly client: DynamoDBClient;
  private readonly table: string;
  private readonly ttlHorizonSeconds: number;
  private readonly now: () => number;
  private readonly concurrency: number;
  private readonly retry: ReturnType<typeof resolveRetry>;

  constructor(options: DynamoStateStoreOptions) {
    this.client = options.client;
    this.table = options.table;
    this.ttlHorizonSeconds = options.ttlHorizonSeconds ?? DEFAULT_TTL_HORIZON_SECONDS;
    if (!(this.ttlHorizonSeconds > 0)) {
      throw new ConfigError(`DynamoStateStore: ttlHorizonSeconds must be a positive number of seconds (or Infinity for no TTL), got ${this.ttlHorizonSeconds}`);
    }
    this.now = options.now ?? Date.now;
    this.concurrency = Math.max(1, Math.floor(options.concurrency ?? 16));
    this.retry = resolveRetry(options.retry);
  }

  async getMany(scope: string, keys: readonly string[]): Promise<Map<string, StoredKey>> {
    const out = new Map<string, StoredKey>();
    const keyOfPk = new Map<string, string>();
    for (const key of keys) {
      const pk = stateItemPk(scope, key);
      // A key too long for a partition key can never have been written (putMany refuses it).
      if (utf8Bytes(pk) <= MAX_PARTITION_KEY_BYTES) keyOfPk.set(pk, key);
    }
    const requests = chunk([...keyOfPk.keys()], BATCH_GET_MAX).map((pks) =>
      pks.map((pk): Item => ({ [STATE_PARTITION_KEY]: { S: pk }, [STATE_SORT_KEY]: { S: STATE_ITEM_SORT_KEY } })),
    );
    await forEachBounded(requests, Math.min(this.concurrency, 8), async (batch) => {
      for (const item of await this.batchGet(batch)) {
        const pk = item[STATE_PARTITION_KEY]?.S;
        const key = pk === undefined ? undefined : keyOfPk.get(pk);
        if (key === undefined) continue;
        out.set(key, {
          key,
          version: Number(item[STATE_VERSION_ATTRIBUTE]?.N ?? '0'),
          data: item[STATE_DATA_ATTRIBUTE]?.S ?? '',
        });
      }
    });
    return out;
  }

  async putMany(scope: string, writes: readonly KeyWrite[]): Promise<void> {
    if (!writes.length) return;
    const ttl = Number.isFinite(this.ttlHorizonSeconds) ? Math.floor(this.now() / 1000) + Math.ceil(this.ttlHorizonSeconds) : undefined;
    // Build and check every item before sending any.
    const prepared = writes.map((w) => {
      const pk = stateItemPk(scope, w.key);
      const pkBytes = utf8Bytes(pk);
      if (pkBytes > MAX_PARTITION_KEY_BYTES) {
        throw new StateTooLargeError(
          `state key ${showKey(w.key)} in ${scope} is too long for DynamoDB: its partition key is ${pkBytes} bytes, the limit is ${MAX_PARTITION_KEY_BYTES}`,
          { key: w.key, size: pkBytes, limit: MAX_PARTITION_KEY_BYTES },
        );
      }
      const item: Item = {
        [STATE_PARTITION_KEY]: { S: pk },
        [STATE_SORT_KEY]: { S: STATE_ITEM_SORT_KEY },
        [STATE_DATA_ATTRIBUTE]: { S: w.data },
        [STATE_VERSION_ATTRIBUTE]: { N: String(w.expectedVersion + 1) },
        ...(ttl !== undefined ? { [STATE_TTL_ATTRIBUTE]: { N: String(ttl) } } : {}),
      };
      const size = itemBytes(item);
      if (size > MAX_ITEM_BYTES) {
        throw new StateTooLargeError(
          `state of key ${showKey(w.key)} in ${scope} is ${size} bytes as a DynamoDB item, over the ${MAX_ITEM_BYTES}-byte (400 KB) limit: keep less state per key (shorter windows, smaller accumulators)`,
          { key: w.key, size, limit: MAX_ITEM_BYTES },
        );
      }
      return { write: w, item };
    });
    // Writes of one key run in their order: the n-th write of every key goes in round n.
    const rounds: (typeof prepared)[] = [];
    const seen = new Map<string, number>();
    for (const p of prepared) {
      const n = seen.get(p.write.key) ?? 0;
      seen.set(p.write.key, n + 1);
      (rounds[n] ??= []).push(p);
    }
    for (const round of rounds) {
      await forEachBounded(round, this.concurrency, (p) => this.putOne(scope, p.write, p.item));
    }
  }

  private async putOne(scope: string, w: KeyWrite, item: Item): Promise<void> {
    const condition: Pick<PutItemCommandInput, 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'> =
      w.expectedVersion === 0
        ? { ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': STATE_PARTITION_KEY } }
        : {
            ConditionExpression: '#v = :expected',
            ExpressionAttributeNames: { '#v': STATE_VERSION_ATTRIBUTE },
            ExpressionAttributeValues: { ':expected': { N: String(w.expectedVersion) } },
          };
    try {
      await withRetry('PutItem', this.retry, () =>
        this.client.send(new PutItemCommand({ TableName: this.table, Item: item, ...condition, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' })),
      );
    } catch (err) {
      if (err instanceof Error && err.name === 'ConditionalCheckFailedException') {
        const old = (err as { Item?: Item }).Item;
        const current = old ? Number(old[STATE_VERSION_ATTRIBUTE]?.N ?? '0') : 0;
        throw new StateConflictError(
          `key ${showKey(w.key)} in ${scope} is at version ${current}, expected ${w.expectedVersion}: another invocation wrote it; the batch will be retried`,
        );
      }
      if (err instanceof Error && err.name === 'ValidationException' && /item size/i.test(err.message)) {
        const size = itemBytes(item);
        throw new StateTooLargeError(`state of key ${showKey(w.key)} in ${scope} (${size} bytes by Weir's count) was refused by DynamoDB as over its 400 KB item limit`, {
          key: w.key,
          size,
          limit: MAX_ITEM_BYTES,
        });
      }
      throw err;
    }
  }

  async dueTimers(scope: string, domain: 'event' | 'processing', upTo: number): Promise<TimerEntry[]> {
    if (Number.isNaN(upTo)) return [];
    // Every sort key of time <= upTo is `${sortableTime(t)}#...`, below `${sortableTime(upTo)}$`.
    const bound = `${sortableTime(upTo)}$`;
    const out: TimerEntry[] = [];
    let start: Item | undefined;
    do {
      const page = await withRetry('Query', this.retry, () =>
        this.client.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: '#pk = :pk AND #sk < :bound',
            ExpressionAttributeNames: { '#pk': STATE_PARTITION_KEY, '#sk': STATE_SORT_KEY },
            ExpressionAttributeValues: { ':pk': { S: timerPk(scope, domain) }, ':bound': { S: bound } },
            ProjectionExpression: '#sk',
            ConsistentRead: true,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        ),
      );
      for (const item of page.Items ?? []) {
        const sk = item[STATE_SORT_KEY]?.S;
        if (sk === undefined) continue;
        out.push({ domain, time: timeFromSortable(sk.slice(0, TIME_WIDTH)), key: sk.slice(TIME_WIDTH + 1) });
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }

  async addTimers(scope: string, entries: readonly TimerEntry[]): Promise<void> {
    const requests = new Map<string, WriteRequest>();
    for (const e of entries) {
      const pk = timerPk(scope, e.domain);
      const sk = timerSk(e.time, e.key);
      const skBytes = utf8Bytes(sk);
      if (skBytes > MAX_SORT_KEY_BYTES || utf8Bytes(pk) > MAX_PARTITION_KEY_BYTES) {
        throw new StateTooLargeError(
          `key ${showKey(e.key)} in ${scope} is too long for the timer index: its sort key is ${skBytes} bytes, DynamoDB allows ${MAX_SORT_KEY_BYTES} (keys with timers must stay under ${MAX_SORT_KEY_BYTES - TIME_WIDTH - 1} UTF-8 bytes)`,
          { key: e.key, size: skBytes, limit: MAX_SORT_KEY_BYTES },
        );
      }
      requests.set(`${pk}\u0000${sk}`, { PutRequest: { Item: { [STATE_PARTITION_KEY]: { S: pk }, [STATE_SORT_KEY]: { S: sk } } } });
    }
    await this.batchWrite([...requests.values()]);
  }

  async removeTimers(scope: string, entries: readonly TimerEntry[]): Promise<void> {
    const requests = new Map<string, WriteRequest>();
    for (const e of entries) {
      const pk = timerPk(scope, e.domain);
      const sk = timerSk(e.time, e.key);
      // An entry too long to be a key was never added.
      if (utf8Bytes(sk) > MAX_SORT_KEY_BYTES || utf8Bytes(pk) > MAX_PARTITION_KEY_BYTES) continue;
      requests.set(`${pk}\u0000${sk}`, { DeleteRequest: { Key: { [STATE_PARTITION_KEY]: { S: pk }, [STATE_SORT_KEY]: { S: sk } } } });
    }
    await this.batchWrite([...requests.values()]);
  }

  /** BatchGetItem of at most 100 keys, until no key is left unprocessed. */
  private async batchGet(keys: Item[]): Promise<Item[]> {
    const out: Item[] = [];
    let pending = keys;
    let stalled = 0;
    while (pending.length) {
      const res = await withRetry('BatchGetItem', this.retry, () =>
        this.client.send(
          new BatchGetItemCommand({
            RequestItems: {
              [this.table]: {
                Keys: pending,
                ConsistentRead: true,
                ProjectionExpression: '#pk, #d, #v',
                ExpressionAttributeNames: { '#pk': STATE_PARTITION_KEY, '#d': STATE_DATA_ATTRIBUTE, '#v': STATE_VERSION_ATTRIBUTE },
              },
            },
          }),
        ),
      );
      out.push(...(res.Responses?.[this.table] ?? []));
      const left = res.UnprocessedKeys?.[this.table]?.Keys ?? [];
      if (!left.length) break;
      stalled = left.length < pending.length ? 0 : stalled + 1;
      if (stalled >= this.retry.maxAttempts) {
        throw new StateUnavailableError(`DynamoDB BatchGetItem on ${this.table} left ${left.length} key(s) unprocessed ${stalled} times in a row; the batch will be retried`);
      }
      pending = left;
      await sleep(backoffMs(stalled, this.retry));
    }
    return out;
  }

  /** BatchWriteItem in requests of 25, until no item is left unprocessed. */
  private async batchWrite(requests: WriteRequest[]): Promise<void> {
    await forEachBounded(chunk(requests, BATCH_WRITE_MAX), Math.min(this.concurrency, 8), async (batch) => {
      let pending = batch;
      let stalled = 0;
      while (pending.length) {
        const res = await withRetry('BatchWriteItem', this.retry, () => this.client.send(new BatchWriteItemCommand({ RequestItems: { [this.table]: pending } })));
        const left = res.UnprocessedItems?.[this.table] ?? [];
        if (!left.length) break;
        stalled = left.length < pending.length ? 0 : stalled + 1;
        if (stalled >= this.retry.maxAttempts) {
          throw new StateUnavailableError(`DynamoDB BatchWriteItem on ${this.table} left ${left.length} timer entr(ies) unprocessed ${stalled} times in a row; the batch will be retried`);
        }
        pending = left;
        await sleep(backoffMs(stalled, this.retry));
      }
    });
  }
}
