import type { GraphNode } from '../api/graph';
import { KEYED_KINDS } from '../api/graph';
import type { Pipeline } from '../api/pipeline';
import type { StageSettings } from '../api/types';
import { ConfigError } from '../runtime/errors';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../runtime/limits';
import { laneId, type PipelinePlan, type PlannedTopic, type StageOutput, type StagePlan } from './types';
import { dlqTopicName, stageTopicName } from './names';
import { validateGraph } from './validate';

export interface PlanOptions {
  /** Partitions for source, repartition and sink topics that do not set their own. @default 4 */
  readonly defaultPartitions?: number;
}

interface Draft {
  id: string;
  index: number;
  isSource: boolean;
  keyed: boolean;
  nodeIds: number[];
  settings: StageSettings;
  inputTopics: string[];
  entries: Record<number, number[]>;
  outputs: StageOutput[];
}

/**
 * Cuts a pipeline into stages: a stage is the longest chain of operators between two
 * shuffles (keyBy) or explicit `startNewStage()` cuts; each becomes one Lambda function.
 */
export function planPipeline(p: Pipeline, options: PlanOptions = {}): PipelinePlan {
  const defaultPartitions = options.defaultPartitions ?? 4;
  if (!(Number.isInteger(defaultPartitions) && defaultPartitions > 0)) {
    throw new ConfigError(`defaultPartitions must be a positive integer, got ${defaultPartitions}`);
  }
  validateGraph(p);
  const nodes = p.nodes();
  const stages: Draft[] = [];
  const stageOf = new Map<number, Draft>();
  const keyedStageOfKeyBy = new Map<number, Draft>();

  const newStage = (isSource: boolean, keyed: boolean, settings: StageSettings = {}): Draft => {
    const d: Draft = { id: `s${stages.length}`, index: stages.length, isSource, keyed, nodeIds: [], settings, inputTopics: [], entries: {}, outputs: [] };
    stages.push(d);
    return d;
  };
  const node = (id: number): GraphNode => nodes[id] as GraphNode;

  for (const n of nodes) {
    let stage: Draft;
    const inputStages = [...new Set(n.inputs.map((i) => stageOf.get(i) as Draft))];
    if (n.kind === 'source') {
      stage = newStage(true, false, n.newStage ?? {});
      stage.inputTopics.push(n.source.topic);
    } else if (KEYED_KINDS.has(n.kind)) {
      const keyBy = n.inputs[0] as number;
      const existing = keyedStageOfKeyBy.get(keyBy);
      stage = existing ?? newStage(false, true, n.newStage ?? {});
      if (existing && n.newStage) Object.assign(stage.settings, n.newStage);
      keyedStageOfKeyBy.set(keyBy, stage);
    } else if (n.kind !== 'keyBy' && (n.newStage || inputStages.length > 1)) {
      stage = newStage(false, false, n.newStage ?? {});
    } else {
      stage = inputStages[0] as Draft;
    }
    stageOf.set(n.id, stage);
    stage.nodeIds.push(n.id);
    for (const i of n.inputs) {
      if (stageOf.get(i) !== stage) (stage.entries[i] ??= []).push(n.id);
    }
  }

  const topics: PlannedTopic[] = [];
  const addTopic = (t: PlannedTopic): void => {
    if (!topics.some((x) => x.name === t.name)) topics.push(t);
  };
  const partitionsOfTopic = new Map<string, number>();
  for (const n of nodes) {
    if (n.kind === 'source') {
      const parts = n.source.partitions ?? defaultPartitions;
      partitionsOfTopic.set(n.source.topic, parts);
      addTopic({ name: n.source.topic, partitions: parts, role: 'source' });
    }
  }
  for (const s of stages) {
    if (s.isSource) continue;
    const topic = stageTopicName(p.name, s.id, s.keyed ? 'repartition' : 'forward');
    const parts = s.settings.partitions ?? defaultPartitions;
    s.inputTopics.push(topic);
    partitionsOfTopic.set(topic, parts);
    addTopic({ name: topic, partitions: parts, role: s.keyed ? 'repartition' : 'forward' });
    for (const from of Object.keys(s.entries).map(Number)) {
      const up = stageOf.get(from) as Draft;
      const fromNode = node(from);
      up.outputs.push({
        fromNode: from,
        topic,
        partitions: parts,
        toStage: s.id,
        ...(fromNode.kind === 'keyBy' ? { keyByNode: from } : {}),
      });
    }
  }
  for (const n of nodes) {
    const sinks = n.kind === 'sink' ? [{ sink: n.sink, role: 'sink' as const }] : n.kind === 'window' && n.lateSink ? [{ sink: n.lateSink, role: 'late' as const }] : [];
    for (const { sink, role } of sinks) {
      if (sink.kind === 'kafka') addTopic({ name: sink.topic, partitions: sink.partitions ?? defaultPartitions, role, serde: sink.serde });
    }
  }
  const dlqTopic = dlqTopicName(p.name);
  addTopic({ name: dlqTopic, partitions: 1, role: 'dlq', serde: 'bytes' });

  const planned: StagePlan[] = stages.map((s) => {
    const upstream = [...new Set(Object.keys(s.entries).map((i) => stageOf.get(Number(i)) as Draft))];
    const lanes = s.isSource
      ? []
      : upstream.flatMap((u) => u.inputTopics.flatMap((t) => Array.from({ length: partitionsOfTopic.get(t) ?? defaultPartitions }, (_, q) => laneId(u.id, t, q))));
    return {
      id: s.id,
      index: s.index,
      inputTopics: s.inputTopics,
      isSource: s.isSource,
      keyed: s.keyed,
      nodeIds: s.nodeIds,
      entries: s.entries,
      lanes,
      outputs: s.outputs,
      settings: s.settings,
    };
  });
  return {
    pipeline: p.name,
    stages: planned,
    topics,
    tables: { state: `${p.name}-state`, progress: `${p.name}-progress` },
    dlqTopic,
    limits: { maxMessageBytes: p.options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES },
    stageOf: Object.fromEntries([...stageOf.entries()].map(([id, s]) => [id, s.id])),
  };
}

/** The partition count of a topic the plan knows. */
export function topicPartitions(plan: PipelinePlan, topic: string): number {
  const t = plan.topics.find((x) => x.name === topic);
  if (!t) throw new ConfigError(`topic "${topic}" is not part of pipeline "${plan.pipeline}"`);
  return t.partitions;
}
