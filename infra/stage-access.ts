import type { GraphNode } from '../shared/api/graph';
import type { Pipeline } from '../shared/api/pipeline';
import type { SinkSpec } from '../shared/api/sinks';
import { failedTopicName } from '../shared/plan/names';
import type { PipelinePlan, PlannedTopic, StagePlan } from '../shared/plan/types';
import { stageNeedsTicks } from '../shared/runtime/executor';

/** What one stage function touches: the input of its least-privilege policy. Pure. */
export interface StageAccess {
  readonly stage: StagePlan;
  /** One event source mapping each. */
  readonly readTopics: readonly string[];
  /** Repartition/forward outputs, sink and late topics, the dead-letter topic, tick markers, the failed topic. */
  readonly writeTopics: readonly string[];
  /** Consumer group per input topic. */
  readonly groups: ReadonlyArray<{ readonly topic: string; readonly groupId: string }>;
  /** DynamoDB sink tables written by the stage. */
  readonly sinkTables: readonly string[];
  /** Whether the ticker should invoke the stage (`stageNeedsTicks`). */
  readonly needsTicks: boolean;
  /** `<pipeline>-<stage>-failed`: the mapping's on-failure topic. */
  readonly failedTopic: string;
}

export { failedTopicName };

/** Consumer group of a stage's mapping on `topic`: `weir-<pipeline>-<stage>` as `weir dev` uses, suffixed per topic when a stage reads several. */
export function consumerGroupId(plan: PipelinePlan, stage: StagePlan, topic: string): string {
  const base = `weir-${plan.pipeline}-${stage.id}`;
  return stage.inputTopics.length > 1 ? `${base}-${topic}` : base;
}

export function stageAccess(p: Pipeline, plan: PipelinePlan): StageAccess[] {
  const nodes = p.nodes();
  return plan.stages.map((stage) => {
    const needsTicks = stageNeedsTicks(stage, nodes);
    const sinks = stage.nodeIds.flatMap((id) => sinksOf(nodes[id] as GraphNode));
    const failedTopic = failedTopicName(plan.pipeline, stage.id);
    const write = new Set<string>([
      ...stage.outputs.map((o) => o.topic),
      ...sinks.flatMap((s) => (s.kind === 'kafka' ? [s.topic] : [])),
      plan.dlqTopic,
      // A non-source stage's tick writes markers into its own input topic.
      ...(needsTicks && !stage.isSource ? stage.inputTopics : []),
      failedTopic,
    ]);
    return {
      stage,
      readTopics: [...stage.inputTopics],
      writeTopics: [...write],
      groups: stage.inputTopics.map((topic) => ({ topic, groupId: consumerGroupId(plan, stage, topic) })),
      sinkTables: [...new Set(sinks.flatMap((s) => (s.kind === 'dynamodb' ? [s.table] : [])))],
      needsTicks,
      failedTopic,
    };
  });
}

function sinksOf(n: GraphNode): SinkSpec<unknown>[] {
  if (n.kind === 'sink') return [n.sink];
  if (n.kind === 'window' && n.lateSink) return [n.lateSink];
  return [];
}

/** Topics the topics resource creates: every planned topic but the sources (unless asked), plus each stage's failed topic. */
export function managedTopics(plan: PipelinePlan, options: { readonly includeSources: boolean }): PlannedTopic[] {
  const topics = plan.topics.filter((t) => options.includeSources || t.role !== 'source');
  const failed = plan.stages.map((s) => ({ name: failedTopicName(plan.pipeline, s.id), partitions: 1, role: 'dlq' as const }));
  return [...topics, ...failed.filter((f) => !topics.some((t) => t.name === f.name))];
}
