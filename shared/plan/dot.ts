import type { GraphNode } from '../api/graph';
import type { Pipeline } from '../api/pipeline';
import type { PipelinePlan, StagePlan } from './types';

export interface DotOptions {
  /** Extra lines under each stage's label (`weir dev --ui` writes live figures there). */
  readonly stageNotes?: (stage: StagePlan) => readonly string[];
}

// DOT strings: quotes escaped, `\n` kept as DOT's own line break.
const q = (s: string): string => `"${s.replace(/\\(?!n)/g, '\\\\').replace(/"/g, '\\"')}"`;

function operatorLabel(n: GraphNode): string {
  switch (n.kind) {
    case 'window': {
      const a = n.assigner;
      const what = a.kind === 'tumbling' ? `tumbling ${a.sizeMs} ms` : a.kind === 'sliding' ? `sliding ${a.sizeMs}/${a.slideMs} ms` : a.kind === 'session' ? `session gap ${a.gapMs} ms` : a.kind === 'count' ? `count ${a.size}/${a.slide}` : 'global';
      return `${n.name}\\n${what}${'time' in a ? ` (${a.time} time)` : ''}`;
    }
    case 'source':
      return `${n.name}\\n${n.source.serde}${n.source.eventTime ? `, bound ${n.source.eventTime.outOfOrdernessMs} ms` : ''}`;
    default:
      return n.name;
  }
}

/**
 * The plan as a Graphviz graph: operators grouped into stages (one Lambda each), topics as
 * ellipses (repartition topics bold), tables as cylinders, dead letters and late data dashed.
 */
export function planToDot(p: Pipeline, plan: PipelinePlan, options: DotOptions = {}): string {
  const nodes = p.nodes();
  const lines = [
    'digraph weir {',
    '  rankdir=LR; nodesep=0.3; ranksep=0.4; fontname="Helvetica"; node [fontname="Helvetica", fontsize=11]; edge [fontname="Helvetica", fontsize=9];',
    `  label=${q(`pipeline ${plan.pipeline}: ${plan.stages.length} stages`)}; labelloc=t; fontsize=14;`,
  ];
  const topicId = (t: string): string => q(`topic:${t}`);
  for (const t of plan.topics) {
    const style =
      t.role === 'repartition' || t.role === 'forward'
        ? 'style="bold,filled", fillcolor="#fff4d6"'
        : t.role === 'dlq' || t.role === 'late'
          ? 'style="dashed,filled", fillcolor="#fbe3e3"'
          : 'style=filled, fillcolor="#e3f0fb"';
    lines.push(`  ${topicId(t.name)} [shape=ellipse, ${style}, label=${q(`${t.name}\\n${t.role}, ${t.partitions} partitions`)}];`);
  }
  lines.push(`  "table:state" [shape=cylinder, style=filled, fillcolor="#e8f5e9", label=${q(`${plan.tables.state}\\nkeyed state (DynamoDB)`)}];`);
  lines.push(`  "table:progress" [shape=cylinder, style=filled, fillcolor="#e8f5e9", label=${q(`${plan.tables.progress}\\nprogress (DynamoDB)`)}];`);
  for (const s of plan.stages) {
    const label = [`stage ${s.id}: one Lambda${s.keyed ? ' (keyed)' : ''}`, ...(options.stageNotes?.(s) ?? [])].join('\\n');
    lines.push(`  subgraph ${q(`cluster_${s.id}`)} {`, `    label=${q(label)}; style="rounded,filled"; fillcolor="#f5f5f5";`);
    for (const id of s.nodeIds) {
      const n = nodes[id] as GraphNode;
      lines.push(`    ${q(`op:${id}`)} [shape=box, style="rounded,filled", fillcolor=white, label=${q(operatorLabel(n))}];`);
    }
    lines.push('  }');
    for (const t of s.inputTopics) {
      const targets = s.isSource ? s.nodeIds.filter((id) => { const n = nodes[id] as GraphNode; return n.kind === 'source' && n.source.topic === t; }) : Object.values(s.entries).flat();
      for (const id of targets) lines.push(`  ${topicId(t)} -> ${q(`op:${id}`)};`);
    }
    for (const o of s.outputs) lines.push(`  ${q(`op:${o.fromNode}`)} -> ${topicId(o.topic)} [label=${q(o.keyByNode !== undefined ? 'by key' : 'forward')}];`);
    if (s.keyed) lines.push(`  ${q(`op:${s.nodeIds[0]}`)} -> "table:state" [dir=both, style=dotted, arrowsize=0.6];`);
    lines.push(`  ${q(`op:${s.nodeIds[s.nodeIds.length - 1]}`)} -> "table:progress" [style=dotted, arrowsize=0.6];`);
    lines.push(`  ${q(`op:${s.nodeIds[0]}`)} -> ${topicId(plan.dlqTopic)} [style=dashed, color="#c62828", label="bad records"];`);
  }
  for (const n of nodes) {
    for (const i of n.inputs) {
      if (plan.stageOf[i] === plan.stageOf[n.id]) lines.push(`  ${q(`op:${i}`)} -> ${q(`op:${n.id}`)};`);
    }
    if (n.kind === 'sink' && n.sink.kind === 'kafka') lines.push(`  ${q(`op:${n.id}`)} -> ${topicId(n.sink.topic)};`);
    if (n.kind === 'sink' && n.sink.kind !== 'kafka') {
      const label = n.sink.kind === 'dynamodb' ? `DynamoDB ${n.sink.table}` : `function ${n.sink.name}`;
      lines.push(`  ${q(`sink:${n.id}`)} [shape=${n.sink.kind === 'dynamodb' ? 'cylinder' : 'component'}, label=${q(label)}];`, `  ${q(`op:${n.id}`)} -> ${q(`sink:${n.id}`)};`);
    }
    if (n.kind === 'window' && n.lateSink?.kind === 'kafka') lines.push(`  ${q(`op:${n.id}`)} -> ${topicId(n.lateSink.topic)} [style=dashed, label="late"];`);
  }
  lines.push('}');
  return lines.join('\n');
}

/** Renders the plan to SVG with Graphviz (compiled to WebAssembly by @viz-js/viz). */
export async function planToSvg(p: Pipeline, plan: PipelinePlan, options: DotOptions = {}): Promise<string> {
  const { instance } = await import('@viz-js/viz');
  const viz = await instance();
  return viz.renderString(planToDot(p, plan, options), { format: 'svg' });
}
