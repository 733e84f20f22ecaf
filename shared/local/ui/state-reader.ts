import { ScanCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { GraphNode } from '../../api/graph';
import type { Pipeline } from '../../api/pipeline';
import { DynamoCommitLog, PROGRESS_DATA_ATTRIBUTE, PROGRESS_PARTITION_KEY } from '../../adapters/dynamodb';
import type { PipelinePlan } from '../../plan/types';
import { parseProgress, type LaneState } from '../../runtime/progress';
import { progressScope, stateScope } from '../../runtime/scopes';
import { PartitionCache } from '../../runtime/state/partition-cache';
import type { PartitionState } from '../../runtime/state/partition-state';
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
  /** Stop counting after this many keys (figures become a lower bound). @default 20000 */
  readonly maxKeys?: number;
}

interface KeyedPartition {
  readonly stage: string;
  readonly topic: string;
  readonly partition: number;
  readonly state: PartitionState;
}

/** One refresh of what the stages persisted. */
export interface StateFigures {
  /** Progress scope -> the partition's last emitted watermark. */
  readonly watermarks: Map<string, LaneState>;
  readonly windows: WindowFigures;
}

/**
 * Reads what the stages persist in DynamoDB, as a stage would: each keyed partition's log
 * (its snapshot and the commits after it) holds its keys' open windows and its progress; the
 * progress table holds the sources' and stateless stages'. The keyed partitions are held
 * between refreshes in a partition cache, as a stage environment holds them, so a refresh
 * reads only the commits since the last one (or a newer snapshot); the progress table is
 * scanned whole. Right for the local stack, not for production-sized state.
 */
export class StateReader {
  private readonly cache: PartitionCache;

  constructor(
    private readonly p: Pipeline,
    private readonly plan: PipelinePlan,
    private readonly options: StateReaderOptions,
  ) {
    const log = new DynamoCommitLog({ client: options.client, table: options.tables.state });
    // No limit: the page shows every partition; no timers: it only counts windows.
    this.cache = new PartitionCache(log, () => undefined, Number.POSITIVE_INFINITY, () => undefined);
  }

  /** Watermarks and open windows, from one read of each keyed partition. */
  async read(): Promise<StateFigures> {
    const [progress, keyed] = await Promise.all([this.progressWatermarks(), this.readKeyed()]);
    for (const k of keyed) progress.set(this.progressScope(k.stage, k.topic, k.partition), k.state.progress.emitted);
    return { watermarks: progress, windows: this.windows(keyed) };
  }

  /** The scope of a progress record, as the stage executor names it. */
  progressScope(stage: string, topic: string, partition: number): string {
    return progressScope(this.plan.pipeline, stage, topic, partition);
  }

  /** Progress scope -> last emitted watermark, of the partitions in the progress table. */
  private async progressWatermarks(): Promise<Map<string, LaneState>> {
    const out = new Map<string, LaneState>();
    for await (const item of this.scan(this.options.tables.progress)) {
      const scope = item[PROGRESS_PARTITION_KEY]?.S;
      if (scope === undefined) continue;
      out.set(scope, parseProgress(item[PROGRESS_DATA_ATTRIBUTE]?.S).emitted);
    }
    return out;
  }

  private windows(keyed: readonly KeyedPartition[]): WindowFigures {
    const nodes = this.p.nodes();
    const maxKeys = this.options.maxKeys ?? 20_000;
    let open = 0;
    let keys = 0;
    let truncated = false;
    let next: NextWindow | undefined;
    for (const part of keyed) {
      for (const [key, ops] of part.state.keys) {
        if (keys >= maxKeys) {
          truncated = true;
          break;
        }
        keys++;
        for (const [id, opState] of Object.entries(ops)) {
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
            if (a.time === 'event' && (next === undefined || w.e - 1 < next.firesAt || (w.e - 1 === next.firesAt && key < next.key))) {
              next = { stage: part.stage, partition: part.partition, operator: n.name, key, start: w.s, end: w.e, firesAt: w.e - 1 };
            }
          }
        }
      }
    }
    return { open, keys, truncated, ...(next ? { next } : {}) };
  }

  private async readKeyed(): Promise<KeyedPartition[]> {
    const out: KeyedPartition[] = [];
    for (const stage of this.plan.stages) {
      if (!stage.keyed) continue;
      const topic = stage.inputTopics[0] as string;
      const partitions = this.plan.topics.find((t) => t.name === topic)?.partitions ?? 0;
      for (let partition = 0; partition < partitions; partition++) {
        out.push({ stage: stage.id, topic, partition, state: await this.cache.load(stateScope(this.plan.pipeline, stage.id, partition)) });
      }
    }
    return out;
  }

  private async *scan(table: string): AsyncGenerator<Item> {
    let start: Item | undefined;
    do {
      const page = await this.options.client.send(new ScanCommand({ TableName: table, ...(start ? { ExclusiveStartKey: start } : {}) }));
      for (const item of page.Items ?? []) yield item;
      start = page.LastEvaluatedKey;
    } while (start);
  }
}
