import type { GraphNode } from '../api/graph';
import type { Pipeline } from '../api/pipeline';
import type { PipelinePlan } from './types';

/** A plain-text plan for `weir plan`: stages, their operators, input and output topics. */
export function formatPlan(p: Pipeline, plan: PipelinePlan): string {
  const nodes = p.nodes();
  const name = (id: number): string => (nodes[id] as GraphNode).name;
  const shuffles = plan.topics.filter((t) => t.role === 'repartition');
  const lines = [
    `pipeline ${plan.pipeline}: ${plan.stages.length} stage${plan.stages.length === 1 ? '' : 's'}, ${shuffles.length} repartition topic${shuffles.length === 1 ? '' : 's'}`,
  ];
  for (const s of plan.stages) {
    const part = (t: string): number => plan.topics.find((x) => x.name === t)?.partitions ?? 0;
    lines.push('', `stage ${s.id}${s.keyed ? ' (keyed)' : ''}: one Lambda function`);
    lines.push(`  input:     ${s.inputTopics.map((t) => `${t} (${part(t)} partitions)`).join(', ')}`);
    lines.push(`  operators: ${s.nodeIds.map(name).join(' -> ')}`);
    for (const o of s.outputs) lines.push(`  output:    ${o.topic} (${o.keyByNode !== undefined ? `by key of ${name(o.keyByNode)}` : 'forward'}, ${o.partitions} partitions) -> stage ${o.toStage}`);
    for (const id of s.nodeIds) {
      const n = nodes[id] as GraphNode;
      if (n.kind === 'sink') lines.push(`  sink:      ${n.sink.kind === 'kafka' ? `topic ${n.sink.topic}` : n.sink.kind === 'dynamodb' ? `DynamoDB table ${n.sink.table}` : `function ${n.sink.name}`}`);
      if (n.kind === 'window' && n.lateSink?.kind === 'kafka') lines.push(`  late:      topic ${n.lateSink.topic}`);
    }
  }
  lines.push('', `dead letters: ${plan.dlqTopic}`, `tables:       ${plan.tables.state} (keyed state), ${plan.tables.progress} (progress)`);
  return lines.join('\n');
}
