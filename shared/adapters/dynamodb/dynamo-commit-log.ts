import { randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { DeleteItemCommand, GetItemCommand, PutItemCommand, QueryCommand, type AttributeValue, type DynamoDBClient, type QueryCommandOutput } from '@aws-sdk/client-dynamodb';
import { StateConflictError } from '../../runtime/errors';
import type { CommitLog, LogRead, LogRecord } from '../../runtime/ports';
import { forEachBounded, MAX_PARTITION_KEY_BYTES, resolveRetry, showKey, utf8Bytes, withRetry, type RetryOptions } from './dynamo-common';
import { StateTooLargeError } from './errors';
import { LOG_RING_SLOTS, logPartSk, logSk, PART_BYTES, snapPartSk, snapPartPrefix, STATE_DATA_ATTRIBUTE as D, STATE_HEAD_SORT_KEY, STATE_PARTITION_KEY as PK, STATE_SORT_KEY as SK } from './tables';

export interface DynamoCommitLogOptions {
  /** Injected; the adapter never builds a client itself. */
  readonly client: DynamoDBClient;
  readonly table: string;
  readonly retry?: RetryOptions;
}

type Item = Record<string, AttributeValue>;
const SEQ = 'seq';
const PARTS = 'parts';
const PART_ID = 'pid';
const SNAP_SEQ = 'snapSeq';
const SNAP_ID = 'snapId';
/** Items a tail read asks for at a time: the commits a stale environment missed, plus one to see the end. */
const TAIL_PAGE = 8;
const READ_ATTEMPTS = 5;

/**
 * A keyed stage partition's commit log in the state table (pk = the partition's scope):
 *
 *   log#<slot>            seq, data (deflated) or parts + pid    one per commit, in a ring of LOG_RING_SLOTS
 *   logpart#<pid>#<i>     data                                   a commit over PART_BYTES, written first
 *   head                  snapSeq, snapId, parts                 the latest snapshot
 *   snap#<snapId>#<i>     data                                   its parts, written before the head
 *
 * Commit n goes to slot n mod LOG_RING_SLOTS, conditional on the slot being empty or holding
 * commit n - LOG_RING_SLOTS: a stale writer finds its slot taken by the commit it missed (or
 * a later one) and fails. Slots are overwritten, never deleted: a delete bills the item's size
 * as a write does, and a deleted slot could be taken again by a writer that missed it. The
 * executor snapshots well before a slot comes round again, so every commit after the head's
 * snapshot is still in the ring.
 */
export class DynamoCommitLog implements CommitLog {
  private readonly client: DynamoDBClient;
  private readonly table: string;
  private readonly retry: ReturnType<typeof resolveRetry>;

  constructor(options: DynamoCommitLogOptions) {
    this.client = options.client;
    this.table = options.table;
    this.retry = resolveRetry(options.retry);
  }

  async read(scope: string, after?: number): Promise<LogRead> {
    checkScope(scope);
    if (after !== undefined) {
      const tail = await this.tail(scope, after);
      if (tail) return { entries: tail };
    }
    for (let attempt = 1; ; attempt++) {
      const head = await this.get(scope, STATE_HEAD_SORT_KEY);
      const snapshot = head ? await this.readSnapshot(scope, head) : undefined;
      const from = head ? Number(head[SNAP_SEQ]?.N) : 0;
      const tail = head && !snapshot ? undefined : await this.tail(scope, from);
      if (tail) return { ...(snapshot ? { snapshot } : {}), entries: tail };
      // A newer snapshot replaced the one read, or the log moved past it: read again.
      if (attempt >= READ_ATTEMPTS) throw new StateConflictError(`partition ${scope}: the log kept moving while it was read (${attempt} attempts); the batch will be retried`);
    }
  }

  async append(scope: string, seq: number, body: string): Promise<void> {
    checkScope(scope);
    const data = deflateRawSync(body, { level: 1 });
    const item: Item = { [PK]: { S: scope }, [SK]: { S: logSk(seq) }, [SEQ]: { N: String(seq) } };
    if (data.length <= PART_BYTES) item[D] = { B: data };
    else {
      const pid = `${seq}-${randomBytes(4).toString('hex')}`;
      const parts = await this.putParts(scope, (i) => logPartSk(pid, i), data);
      item[PARTS] = { N: String(parts) };
      item[PART_ID] = { S: pid };
    }
    const prev = seq - LOG_RING_SLOTS;
    let old: Item | undefined;
    try {
      old = await this.putIf(item, prev > 0 ? 'attribute_not_exists(#sk) OR #seq = :prev' : 'attribute_not_exists(#sk)', prev > 0 ? { '#sk': SK, '#seq': SEQ } : { '#sk': SK }, prev > 0 ? { ':prev': { N: String(prev) } } : undefined);
    } catch (err) {
      if (err instanceof Error && err.name === 'ConditionalCheckFailedException') {
        // The parts written first belong to no commit: delete them, unless the slot names them
        // (a put that landed but whose answer was lost, refused when the SDK sent it again).
        const pid = item[PART_ID]?.S;
        if (pid !== undefined && (await this.get(scope, logSk(seq)))?.[PART_ID]?.S !== pid) await this.deleteParts(scope, (i) => logPartSk(pid, i), Number(item[PARTS]?.N ?? 0));
        throw new StateConflictError(`partition ${scope}: commit ${seq} was already made by another invocation (a zombie, an overlapping batch or a stale environment); the batch will be retried`);
      }
      throw err;
    }
    // The slot's previous commit spilled into parts: nothing reads them any more.
    const oldParts = Number(old?.[PARTS]?.N ?? 0);
    const oldPid = old?.[PART_ID]?.S;
    if (oldPid !== undefined) await this.deleteParts(scope, (i) => logPartSk(oldPid, i), oldParts);
  }

  async snapshot(scope: string, seq: number, body: string): Promise<void> {
    checkScope(scope);
    const data = deflateRawSync(body, { level: 1 });
    const snapId = `${String(seq).padStart(12, '0')}-${randomBytes(4).toString('hex')}`;
    const parts = await this.putParts(scope, (i) => snapPartSk(snapId, i), data);
    let old: Item | undefined;
    try {
      old = await this.putIf(
        { [PK]: { S: scope }, [SK]: { S: STATE_HEAD_SORT_KEY }, [SNAP_SEQ]: { N: String(seq) }, [SNAP_ID]: { S: snapId }, [PARTS]: { N: String(parts) } },
        'attribute_not_exists(#sk) OR #s < :seq',
        { '#sk': SK, '#s': SNAP_SEQ },
        { ':seq': { N: String(seq) } },
      );
    } catch (err) {
      // Another environment snapshotted this or a later commit: ours is not needed.
      if (err instanceof Error && err.name === 'ConditionalCheckFailedException') {
        await this.deleteParts(scope, (i) => snapPartSk(snapId, i), parts);
        return;
      }
      throw err;
    }
    const oldId = old?.[SNAP_ID]?.S;
    if (oldId !== undefined) await this.deleteParts(scope, (i) => snapPartSk(oldId, i), Number(old?.[PARTS]?.N ?? 0));
  }

  /** The commits after `after` in the ring, or undefined when the ring no longer holds the first of them. */
  private async tail(scope: string, after: number): Promise<LogRecord[] | undefined> {
    const out: LogRecord[] = [];
    let expected = after + 1;
    let limit = TAIL_PAGE;
    for (;;) {
      const from = logSk(expected);
      const res = await this.query(scope, '#sk BETWEEN :from AND :to', { ':from': { S: from }, ':to': { S: logSk(LOG_RING_SLOTS - 1) } }, { Limit: limit });
      const items = res.Items ?? [];
      for (const item of items) {
        // An empty slot, or one still holding an older commit, is the end of the log.
        if (item[SK]?.S !== logSk(expected)) return out;
        const seq = Number(item[SEQ]?.N);
        if (seq < expected) return out;
        // The ring came round past the commit wanted: only the snapshot can help.
        if (seq > expected) return undefined;
        out.push({ seq, body: await this.entryBody(scope, item) });
        expected++;
      }
      const more = items.length === limit || res.LastEvaluatedKey !== undefined;
      const wrapped = items.length > 0 && logSk(expected) === logSk(0);
      if (!more && !wrapped) return out;
      limit = Math.min(limit * 4, 100);
    }
  }

  private async entryBody(scope: string, item: Item): Promise<string> {
    const inline = item[D]?.B;
    if (inline) return inflateRawSync(inline).toString('utf8');
    const pid = item[PART_ID]?.S ?? '';
    const parts = Number(item[PARTS]?.N ?? 0);
    const chunks: Buffer[] = [];
    for (let i = 0; i < parts; i++) {
      const part = await this.get(scope, logPartSk(pid, i));
      const b = part?.[D]?.B;
      if (!b) throw new StateConflictError(`partition ${scope}: part ${i} of commit ${item[SEQ]?.N} is missing; the batch will be retried`);
      chunks.push(Buffer.from(b));
    }
    return inflateRawSync(Buffer.concat(chunks)).toString('utf8');
  }

  /** The snapshot the head names, or undefined when its parts were replaced while reading. */
  private async readSnapshot(scope: string, head: Item): Promise<LogRecord | undefined> {
    const snapId = head[SNAP_ID]?.S ?? '';
    const parts = Number(head[PARTS]?.N ?? 0);
    const chunks: Buffer[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const res = await this.query(scope, 'begins_with(#sk, :p)', { ':p': { S: snapPartPrefix(snapId) } }, start ? { ExclusiveStartKey: start } : {});
      for (const item of res.Items ?? []) chunks.push(Buffer.from(item[D]?.B ?? new Uint8Array()));
      start = res.LastEvaluatedKey;
    } while (start);
    if (chunks.length !== parts) return undefined;
    return { seq: Number(head[SNAP_SEQ]?.N), body: inflateRawSync(Buffer.concat(chunks)).toString('utf8') };
  }

  private async putParts(scope: string, sk: (i: number) => string, data: Buffer): Promise<number> {
    const parts = Math.max(1, Math.ceil(data.length / PART_BYTES));
    await forEachBounded(
      Array.from({ length: parts }, (_, i) => i),
      8,
      (i) =>
        withRetry('PutItem', this.retry, () =>
          this.client.send(new PutItemCommand({ TableName: this.table, Item: { [PK]: { S: scope }, [SK]: { S: sk(i) }, [D]: { B: data.subarray(i * PART_BYTES, (i + 1) * PART_BYTES) } } })),
        ).then(() => undefined),
    );
    return parts;
  }

  private async deleteParts(scope: string, sk: (i: number) => string, parts: number): Promise<void> {
    await forEachBounded(
      Array.from({ length: parts }, (_, i) => i),
      8,
      (i) =>
        withRetry('DeleteItem', this.retry, () =>
          this.client.send(new DeleteItemCommand({ TableName: this.table, Key: { [PK]: { S: scope }, [SK]: { S: sk(i) } }, ReturnValues: 'ALL_OLD' })),
        ).then(() => undefined),
    );
  }

  /** A strongly consistent Query of the partition's items whose sort key meets `sortKey`. */
  private query(scope: string, sortKey: string, values: Record<string, AttributeValue>, page: { Limit?: number; ExclusiveStartKey?: Item }): Promise<QueryCommandOutput> {
    return withRetry('Query', this.retry, () =>
      this.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: `#pk = :pk AND ${sortKey}`,
          ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
          ExpressionAttributeValues: { ':pk': { S: scope }, ...values },
          ConsistentRead: true,
          ...page,
        }),
      ),
    );
  }

  /** A conditional put that answers the item it replaced (for billing and for parts to delete); a failed condition throws ConditionalCheckFailedException. */
  private async putIf(item: Item, condition: string, names: Record<string, string>, values?: Record<string, AttributeValue>): Promise<Item | undefined> {
    const res = await withRetry('PutItem', this.retry, () =>
      this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: item,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ...(values ? { ExpressionAttributeValues: values } : {}),
          ReturnValues: 'ALL_OLD',
        }),
      ),
    );
    return res.Attributes;
  }

  private async get(scope: string, sk: string): Promise<Item | undefined> {
    const res = await withRetry('GetItem', this.retry, () => this.client.send(new GetItemCommand({ TableName: this.table, Key: { [PK]: { S: scope }, [SK]: { S: sk } }, ConsistentRead: true })));
    return res.Item;
  }
}

function checkScope(scope: string): void {
  const bytes = utf8Bytes(scope);
  if (bytes > MAX_PARTITION_KEY_BYTES) {
    throw new StateTooLargeError(`partition scope ${showKey(scope)} is ${bytes} bytes, over DynamoDB's ${MAX_PARTITION_KEY_BYTES}-byte partition key limit: shorten the pipeline or stage name`, {
      key: scope,
      size: bytes,
      limit: MAX_PARTITION_KEY_BYTES,
    });
  }
}
