import type { SerdeName } from '../api/serde';
import type { StageSettings } from '../api/types';
import type { RecordLimits } from '../runtime/limits';

export type TopicRole = 'source' | 'repartition' | 'forward' | 'sink' | 'late' | 'dlq';

export interface PlannedTopic {
  readonly name: string;
  readonly partitions: number;
  readonly role: TopicRole;
  /** Value serde, for sink and late topics. */
  readonly serde?: SerdeName;
}

/** An edge leaving a stage: records of `fromNode` go to `topic`, read by `toStage`. */
export interface StageOutput {
  readonly fromNode: number;
  readonly topic: string;
  readonly partitions: number;
  readonly toStage: string;
  /** The keyBy node whose key partitions the records; absent for a forward edge. */
  readonly keyByNode?: number;
}

export interface StagePlan {
  /** Stable id: `s0`, `s1`, ... in topological order. */
  readonly id: string;
  readonly index: number;
  /** Topics this stage reads: the source topics, or its one repartition/forward topic. */
  readonly inputTopics: readonly string[];
  readonly isSource: boolean;
  /** Whether the stage keeps keyed state (it starts with a keyed operator). */
  readonly keyed: boolean;
  /** Operator ids in topological order. */
  readonly nodeIds: readonly number[];
  /** For a non-source stage: upstream node id -> the stage's nodes that consume its records. */
  readonly entries: Readonly<Record<number, readonly number[]>>;
  /** Lanes whose watermarks this stage combines (`stage:topic:partition`). */
  readonly lanes: readonly string[];
  readonly outputs: readonly StageOutput[];
  readonly settings: StageSettings;
}

export interface PipelinePlan {
  readonly pipeline: string;
  readonly stages: readonly StagePlan[];
  readonly topics: readonly PlannedTopic[];
  readonly tables: { readonly state: string; readonly progress: string };
  readonly dlqTopic: string;
  /** What the brokers take; records are checked against it where they are made. */
  readonly limits: RecordLimits;
  /** node id -> stage id */
  readonly stageOf: Readonly<Record<number, string>>;
}

export function laneId(stage: string, topic: string, partition: number): string {
  return `${stage}:${topic}:${partition}`;
}
