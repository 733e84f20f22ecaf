import { ScanCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { GraphNode } from '../../api/graph';
import type { Pipeline } from '../../api/pipeline';
import { DynamoStateStore, PROGRESS_DATA_ATTRIBUTE, PROGRESS_PARTITION_KEY, STATE_DATA_ATTRIBUTE, STATE_ITEM_SORT_KEY, STATE_PARTITION_KEY, STATE_PARTS_ATTRIBUTE, STATE_SORT_KEY, stateItemPk } from '../../adapters/dynamodb';
import type { PipelinePlan } from '../../plan/types';
import { loadKey } from '../../runtime/key-state';
import { parseProgress, type LaneState } from '../../runtime/progress';
import { progressScope, stateScope } from '../../runtime/scopes';
import type { NextWindow, WindowFigures } from './snapshot';

type Item = Record<string, AttributeValue>;

/** The parts of a window operator's per-key state the page shows (see window-operator.ts). */
interface OpenWindow {
  readonly s: number;
  readonly e: number;
  readonly f: number;
}

export interface StateReaderOptions {
  readonly client: DynamoDBClient;
  readonly tables: { readonly state: string; readonly progress: string };
  /** Stop reading the state table after this many key items (figures become a lower bound). @default 20000 */
  readonly maxKeys?: number;
}

/**
 * Reads what the stages persist in DynamoDB: the progress record of every (stage, input
 * topic, partition), whose `emitted` is the watermark the partition last sent downstream,
 * and the keyed state items, which hold each key's open windows.
 *
 * Why the state items and not the timer index: the index keeps one entry per key at its
 * earliest timer (and stale entries until they pass), so it cannot count windows. Both
 * tables are read with Scans, which costs one pass over a dev pipeline's tables per refresh;
 * right for the local stack, not something to point at production-sized state.
 */
export class StateReader {
  private readonly store: DynamoStateStore;

  constructor(
    private readonly p: Pipeline,
    private readonly plan: PipelinePlan,
    private readonly options: StateReaderOptions,
  ) {
    this.store = new DynamoStateStore({ client: options.client, table: options.tables.state });
  }

  /** Progress scope -> the partition's last emitted watermark. */
  async watermarks(): Promise<Map<string, LaneState>> {
    const out = new Map<string, LaneState>();
    for await (const item of this.scan(this.options.tables.progress)) {
      const scope = item[PROGRESS_PARTITION_KEY]?.S;
      if (scope === undefined) continue;
      out.set(scope, parseProgress(item[PROGRESS_DATA_ATTRIBUTE]?.S).emitted);
    }
    return out;
  }

  /** The scope of a progress record, as the stage executor names it. */
  progressScope(stage: string, topic: string, partition: number): string {
    return progressScope(this.plan.pipeline, stage, topic, partition);
  }

  async windows(): Promise<WindowFigures> {
    const nodes = this.p.nodes();
    const maxKeys = this.options.maxKeys ?? 20_000;
    let open = 0;
    let keys = 0;
    let truncated = false;
    let next: NextWindow | undefined;
    for await (const item of this.scan(this.options.tables.state, true)) {
      if (keys >= maxKeys) {
        truncated = true;
        break;
      }
      const where = this.keyOf(item[STATE_PARTITION_KEY]?.S ?? '');
      if (!where) continue;
      keys++;
      let data = item[STATE_DATA_ATTRIBUTE]?.S ?? '';
      // A key whose state spilled over several items: read it whole, as the stage does.
      if (Number(item[STATE_PARTS_ATTRIBUTE]?.N ?? '1') > 1) data = (await this.store.getMany(where.scope, [where.key])).get(where.key)?.data ?? '';
      const state = loadKey(where.key, { key: where.key, version: 0, data });
      for (const [id, opState] of Object.entries(state.ops)) {
        const n = nodes[Number(id)] as GraphNode | undefined;
        if (n?.kind !== 'window' || opState === undefined || opState === null) continue;
        const a = n.assigner;
        if (a.kind === 'count' || a.kind === 'global') {
          if (((opState as { n?: number }).n ?? 0) > 0) open++;
          continue;
        }
        for (const w of opState as OpenWindow[]) {
          if (w.f > 0) continue;
          open++;
          if (a.time === 'event' && (next === undefined || w.e - 1 < next.firesAt || (w.e - 1 === next.firesAt && where.key < next.key))) {
            next = { stage: where.stage, partition: where.partition, operator: n.name, key: where.key, start: w.s, end: w.e, firesAt: w.e - 1 };
          }
        }
      }
    }
    return { open, keys, truncated, ...(next ? { next } : {}) };
  }

  /** `${pipeline}#${stage}#${partition}#k#${key}` -> its parts (stage ids never hold '#'). */
  private keyOf(pk: string): { stage: string; partition: number; scope: string; key: string } | undefined {
    const m = /^#([^#]+)#(\d+)#k#/.exec(pk.slice(this.plan.pipeline.length));
    if (!pk.startsWith(this.plan.pipeline) || !m) return undefined;
    const scope = stateScope(this.plan.pipeline, m[1] as string, Number(m[2]));
    return { stage: m[1] as string, partition: Number(m[2]), scope, key: pk.slice(stateItemPk(scope, '').length) };
  }

  private async *scan(table: string, keyItemsOnly = false): AsyncGenerator<Item> {
    let start: Item | undefined;
    do {
      const page = await this.options.client.send(
        new ScanCommand({
          TableName: table,
          ...(keyItemsOnly
            ? { FilterExpression: '#sk = :state', ExpressionAttributeNames: { '#sk': STATE_SORT_KEY }, ExpressionAttributeValues: { ':state': { S: STATE_ITEM_SORT_KEY } } }
            : {}),
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? []) yield item;
      start = page.LastEvaluatedKey;
    } while (start);
  }
}
