import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
  type Put,
  type TransactWriteItem,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { ConfigError, StateConflictError } from '../../runtime/errors';
import type { KeyWrite, ProgressWrite, StateStore, StoredKey, TimerEntry } from '../../runtime/ports';
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
import { progressItem } from './dynamo-progress-store';
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
  /** The progress table, written in the same transaction as a batch's last keys. */
  readonly progressTable?: string;
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
/** Items in one TransactWriteItems request, and a margin under its 4 MB. */
const TRANSACTION_ITEMS = 100;
const TRANSACTION_BYTES = 3_500_000;
const TIMER_KEYS_ATTRIBUTE = 'keys';
/** How many items a key's state spans when it spilled (absent: one). */
export const STATE_PARTS_ATTRIBUTE = 'parts';
/** A key's state above this many bytes spills into further items. */
export const SPILL_BYTES = 300_000;
const partSk = (i: number): string => `${STATE_ITEM_SORT_KEY}#${i}`;

/** Splits text into pieces of at most `max` UTF-8 bytes, never inside a character. */
export function splitUtf8(text: string, max: number): string[] {
  if (Buffer.byteLength(text, 'utf8') <= max) return [text];
  const out: string[] = [];
  let piece = '';
  let bytes = 0;
  for (const ch of text) {
    const b = Buffer.byteLength(ch, 'utf8');
    if (bytes + b > max) {
      out.push(piece);
      piece = '';
      bytes = 0;
    }
    piece += ch;
    bytes += b;
  }
  out.push(piece);
  return out;
}
/** Bytes of keys per timer bucket part. */
const TIMER_PART_BYTES = 150_000;
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
/** A timer bucket: the keys one batch indexed at one time (`tag` names the batch). */
export function timerSk(time: number, tag: string): string {
  return `${sortableTime(time)}#${tag}`;
}

type Item = Record<string, AttributeValue>;

/**
 * Keyed state and the timer index in one DynamoDB table (see tables.ts for the layout),
 * with the semantics of MemoryStateStore: versioned conditional writes, one item per key.
 */
export class DynamoStateStore implements StateStore {
  private readonly client: DynamoDBClient;
  private readonly table: string;
  private readonly progressTable: string | undefined;
  private readonly ttlHorizonSeconds: number;
  private readonly now: () => number;
  private readonly concurrency: number;
  private readonly retry: ReturnType<typeof resolveRetry>;

  constructor(options: DynamoStateStoreOptions) {
    this.client = options.client;
    this.table = options.table;
    this.progressTable = options.progressTable;
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
    const spilled: Array<{ key: string; pk: string; parts: number; head: string; version: number }> = [];
    await forEachBounded(requests, Math.min(this.concurrency, 8), async (batch) => {
      for (const item of await this.batchGet(batch)) {
        const pk = item[STATE_PARTITION_KEY]?.S;
        const key = pk === undefined ? undefined : keyOfPk.get(pk);
        if (key === undefined || pk === undefined) continue;
        const version = Number(item[STATE_VERSION_ATTRIBUTE]?.N ?? '0');
        const data = item[STATE_DATA_ATTRIBUTE]?.S ?? '';
        const parts = Number(item[STATE_PARTS_ATTRIBUTE]?.N ?? '1');
        if (parts > 1) spilled.push({ key, pk, parts, head: data, version });
        else out.set(key, { key, version, data });
      }
    });
    // Keys whose state spilled over several items: read the other parts too.
    if (spilled.length) {
      const rest = spilled.flatMap((x) => Array.from({ length: x.parts - 1 }, (_, i): Item => ({ [STATE_PARTITION_KEY]: { S: x.pk }, [STATE_SORT_KEY]: { S: partSk(i + 1) } })));
      const got = new Map<string, string>();
      for (const batch of chunk(rest, BATCH_GET_MAX)) {
        for (const item of await this.batchGet(batch)) got.set(`${item[STATE_PARTITION_KEY]?.S}\u0000${item[STATE_SORT_KEY]?.S}`, item[STATE_DATA_ATTRIBUTE]?.S ?? '');
      }
      for (const x of spilled) {
        let data = x.head;
        for (let i = 1; i < x.parts; i++) {
          const part = got.get(`${x.pk}\u0000${partSk(i)}`);
          if (part === undefined) throw new StateUnavailableError(`state of key ${showKey(x.key)} in ${scope} has ${x.parts} parts but part ${i} is missing; the batch will be retried`);
          data += part;
        }
        out.set(x.key, { key: x.key, version: x.version, data });
      }
    }
    return out;
  }

  /**
   * One TransactWriteItems per 100 items (and 3.5 MB): each key conditional on its version,
   * the progress record in the last transaction. A batch of up to 99 changed keys commits
   * atomically; a larger one commits in steps (its key transactions in parallel, the
   * progress record's last), which the fences make safe.
   */
  async commit(scope: string, writes: readonly KeyWrite[], progress?: ProgressWrite): Promise<void> {
    const ttl = Number.isFinite(this.ttlHorizonSeconds) ? Math.floor(this.now() / 1000) + Math.ceil(this.ttlHorizonSeconds) : undefined;
    const units: Array<Array<{ op: TransactWriteItem; bytes: number; key?: string }>> = writes.map((w) => {
      const parts = splitUtf8(w.data, SPILL_BYTES);
      const item = this.stateItem(scope, { ...w, data: parts[0] ?? '' }, ttl, parts.length);
      const condition: Pick<Put, 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'> =
        w.expectedVersion === 0
          ? { ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': STATE_PARTITION_KEY } }
          : {
              ConditionExpression: '#v = :expected',
              ExpressionAttributeNames: { '#v': STATE_VERSION_ATTRIBUTE },
              ExpressionAttributeValues: { ':expected': { N: String(w.expectedVersion) } },
            };
      const unit = [{ op: { Put: { TableName: this.table, Item: item, ...condition } }, bytes: itemBytes(item), key: w.key }];
      // A hot key's state over one item's size spills into more items of the same key,
      // written in the same transaction as its head item (so never half-written).
      for (let i = 1; i < parts.length; i++) {
        const extra: Item = {
          [STATE_PARTITION_KEY]: { S: stateItemPk(scope, w.key) },
          [STATE_SORT_KEY]: { S: partSk(i) },
          [STATE_DATA_ATTRIBUTE]: { S: parts[i] ?? '' },
          ...(ttl !== undefined ? { [STATE_TTL_ATTRIBUTE]: { N: String(ttl) } } : {}),
        };
        unit.push({ op: { Put: { TableName: this.table, Item: extra } }, bytes: itemBytes(extra), key: w.key });
      }
      const total = unit.reduce((a, u) => a + u.bytes, 0);
      if (unit.length > TRANSACTION_ITEMS - 1 || total > TRANSACTION_BYTES) {
        throw new StateTooLargeError(
          `state of key ${showKey(w.key)} in ${scope} is ${total} bytes, more than one DynamoDB transaction can hold (${TRANSACTION_BYTES} bytes): keep less state per key`,
          { key: w.key, size: total, limit: TRANSACTION_BYTES },
        );
      }
      return unit;
    });
    const items: Array<{ op: TransactWriteItem; bytes: number; key?: string }> = [];
    if (progress) {
      if (!this.progressTable) throw new ConfigError('DynamoStateStore: commit with progress needs the progressTable option');
      const item = progressItem(progress.scope, progress.data, this.now());
      items.push({ op: { Put: { TableName: this.progressTable, Item: item } }, bytes: itemBytes(item) });
    }
    if (progress) units.push(items);
    // Pack whole units (a key with its spilled parts) into transactions.
    type Op = { op: TransactWriteItem; bytes: number; key?: string };
    const groups: Op[][] = [];
    let current: Op[] = [];
    let bytes = 0;
    for (const unit of units) {
      const unitBytes = unit.reduce((a, u) => a + u.bytes, 0);
      if (current.length && (current.length + unit.length > TRANSACTION_ITEMS || bytes + unitBytes > TRANSACTION_BYTES)) {
        groups.push(current);
        current = [];
        bytes = 0;
      }
      current.push(...unit);
      bytes += unitBytes;
    }
    if (current.length) groups.push(current);
    // Key transactions are independent (each key is fenced and versioned on its own), so they
    // go at once; the one holding the progress record goes last, only after all of them
    // succeeded, so a batch is never marked done with keys unwritten.
    const last = progress ? groups.pop() : undefined;
    await forEachBounded(groups, Math.min(this.concurrency, 4), (g) => this.transact(scope, g));
    if (last) await this.transact(scope, last);
  }

  private stateItem(scope: string, w: KeyWrite, ttl: number | undefined, parts = 1): Item {
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
      ...(parts > 1 ? { [STATE_PARTS_ATTRIBUTE]: { N: String(parts) } } : {}),
      ...(ttl !== undefined ? { [STATE_TTL_ATTRIBUTE]: { N: String(ttl) } } : {}),
    };
    const size = itemBytes(item);
    if (size > MAX_ITEM_BYTES) {
      throw new StateTooLargeError(
        `state of key ${showKey(w.key)} in ${scope} is ${size} bytes as a DynamoDB item, over the ${MAX_ITEM_BYTES}-byte (400 KB) limit: keep less state per key (shorter windows, smaller accumulators)`,
        { key: w.key, size, limit: MAX_ITEM_BYTES },
      );
    }
    return item;
  }

  private async transact(scope: string, group: ReadonlyArray<{ op: TransactWriteItem; key?: string }>): Promise<void> {
    try {
      await withRetry('TransactWriteItems', this.retry, () => this.client.send(new TransactWriteItemsCommand({ TransactItems: group.map((g) => g.op) })));
    } catch (err) {
      const reasons = (err as { CancellationReasons?: Array<{ Code?: string }> }).CancellationReasons;
      if (err instanceof Error && err.name === 'TransactionCanceledException' && reasons) {
        const i = reasons.findIndex((r) => r.Code === 'ConditionalCheckFailed');
        if (i >= 0) {
          throw new StateConflictError(`key ${showKey(group[i]?.key ?? '?')} in ${scope} changed since it was read: another invocation wrote it; the batch will be retried`);
        }
        throw new StateUnavailableError(`DynamoDB cancelled the state transaction for ${scope} (${reasons.map((r) => r.Code ?? 'None').join(', ')}); the batch will be retried`, err);
      }
      if (err instanceof Error && err.name === 'ValidationException' && /item size/i.test(err.message)) {
        throw new StateTooLargeError(`a state item in ${scope} was refused by DynamoDB as over its 400 KB item limit`, { key: '?', size: 0, limit: MAX_ITEM_BYTES });
      }
      throw err;
    }
  }

  async dueTimers(scope: string, domain: 'event' | 'processing', upTo: number): Promise<TimerEntry[]> {
    const out: TimerEntry[] = [];
    for (const item of await this.bucketsUpTo(scope, domain, upTo)) {
      const sk = item[STATE_SORT_KEY]?.S;
      if (sk === undefined) continue;
      const time = timeFromSortable(sk.slice(0, TIME_WIDTH));
      for (const key of item[TIMER_KEYS_ATTRIBUTE]?.SS ?? []) out.push({ domain, time, key });
    }
    return out;
  }

  /** Every timer bucket item of a scope and domain with time <= upTo (consistent reads, all pages). */
  private async bucketsUpTo(scope: string, domain: 'event' | 'processing', upTo: number): Promise<Item[]> {
    if (Number.isNaN(upTo)) return [];
    // Every sort key of time <= upTo is `${sortableTime(t)}#...`, below `${sortableTime(upTo)}$`.
    const bound = `${sortableTime(upTo)}$`;
    const items: Item[] = [];
    let start: Item | undefined;
    do {
      const page = await withRetry('Query', this.retry, () =>
        this.client.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: '#pk = :pk AND #sk < :bound',
            ExpressionAttributeNames: { '#pk': STATE_PARTITION_KEY, '#sk': STATE_SORT_KEY },
            ExpressionAttributeValues: { ':pk': { S: timerPk(scope, domain) }, ':bound': { S: bound } },
            ConsistentRead: true,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        ),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }

  /**
   * Bucket items per (domain, time) per batch, holding the keys as a string set: a batch
   * that indexes many keys at one time (tumbling windows) makes one request, not one per
   * key. Keys are ADDed (a set union), never replaced: a batch retried after a partial
   * commit indexes fewer keys under the same tag, and must not drop the ones the first
   * attempt indexed.
   */
  async addTimers(scope: string, entries: readonly TimerEntry[], tag: string): Promise<void> {
    const buckets = new Map<string, { pk: string; sk: string; keys: Set<string> }>();
    for (const e of entries) {
      const pk = timerPk(scope, e.domain);
      const sk = timerSk(e.time, tag);
      if (utf8Bytes(sk) + 12 > MAX_SORT_KEY_BYTES) throw new ConfigError(`timer bucket tag "${tag.slice(0, 40)}" is too long for a DynamoDB sort key`);
      const id = `${pk}\u0000${sk}`;
      let b = buckets.get(id);
      if (!b) buckets.set(id, (b = { pk, sk, keys: new Set() }));
      b.keys.add(e.key);
    }
    const updates: Array<{ pk: string; sk: string; keys: string[] }> = [];
    for (const b of buckets.values()) {
      // A string set counts its UTF-8 bytes; parts stay far below the 400 KB item limit.
      let part: string[] = [];
      let size = 0;
      for (const k of b.keys) {
        const bytes = utf8Bytes(k);
        if (part.length && size + bytes > TIMER_PART_BYTES) {
          updates.push({ pk: b.pk, sk: `${b.sk}#${updates.filter((u) => u.pk === b.pk && u.sk.startsWith(b.sk)).length}`, keys: part });
          part = [];
          size = 0;
        }
        part.push(k);
        size += bytes;
      }
      if (part.length) updates.push({ pk: b.pk, sk: `${b.sk}#${updates.filter((u) => u.pk === b.pk && u.sk.startsWith(b.sk)).length}`, keys: part });
    }
    await forEachBounded(updates, this.concurrency, async (u) => {
      await withRetry('UpdateItem', this.retry, () =>
        this.client.send(
          new UpdateItemCommand({
            TableName: this.table,
            Key: { [STATE_PARTITION_KEY]: { S: u.pk }, [STATE_SORT_KEY]: { S: u.sk } },
            UpdateExpression: 'ADD #keys :keys',
            ExpressionAttributeNames: { '#keys': TIMER_KEYS_ATTRIBUTE },
            ExpressionAttributeValues: { ':keys': { SS: u.keys } },
          }),
        ),
      );
    });
  }

  /** Deletes every bucket with time <= upTo. */
  async clearTimers(scope: string, domain: 'event' | 'processing', upTo: number): Promise<void> {
    const deletes: WriteRequest[] = [];
    for (const item of await this.bucketsUpTo(scope, domain, upTo)) {
      const pk = item[STATE_PARTITION_KEY];
      const sk = item[STATE_SORT_KEY];
      if (pk && sk) deletes.push({ DeleteRequest: { Key: { [STATE_PARTITION_KEY]: pk, [STATE_SORT_KEY]: sk } } });
    }
    await this.batchWrite(deletes);
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
                ProjectionExpression: '#pk, #sk, #d, #v, #parts',
                ExpressionAttributeNames: { '#pk': STATE_PARTITION_KEY, '#sk': STATE_SORT_KEY, '#d': STATE_DATA_ATTRIBUTE, '#v': STATE_VERSION_ATTRIBUTE, '#parts': STATE_PARTS_ATTRIBUTE },
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
