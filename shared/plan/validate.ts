import type { GraphNode } from '../api/graph';
import { KEYED_KINDS } from '../api/graph';
import type { Pipeline } from '../api/pipeline';
import type { SinkSpec } from '../api/sinks';
import { invalidTopicName } from '../api/sources';
import { checkAssigner } from '../api/windows';
import { ConfigError, PipelineError } from '../runtime/errors';
import { isInternalTopic } from './names';

function label(n: GraphNode): string {
  return `operator "${n.name}" (${n.kind})`;
}

function isEventTimeWindow(n: GraphNode): boolean {
  if (n.kind !== 'window') return false;
  const a = n.assigner;
  return (a.kind === 'tumbling' || a.kind === 'sliding' || a.kind === 'session') && a.time === 'event';
}

/** Rejects pipelines that cannot run, naming the operator and what to change. */
export function validateGraph(p: Pipeline): void {
  const nodes = p.nodes();
  const byId = (id: number): GraphNode => {
    const n = nodes[id];
    if (!n) throw new PipelineError(`pipeline "${p.name}": operator #${id} is referenced but does not exist`);
    return n;
  };
  const children = new Map<number, GraphNode[]>();
  for (const n of nodes) for (const i of n.inputs) children.set(i, [...(children.get(i) ?? []), n]);

  if (!nodes.some((n) => n.kind === 'source')) {
    throw new PipelineError(`pipeline "${p.name}" has no source; start it with p.source(kafkaSource({ topic: ... }))`);
  }
  if (!nodes.some((n) => n.kind === 'sink')) {
    throw new PipelineError(`pipeline "${p.name}" has no sink, so it would produce nothing; end a stream with .sinkTo(kafkaSink({ topic: ... }))`);
  }

  const sourceTopics = new Set(nodes.flatMap((n) => (n.kind === 'source' ? [n.source.topic] : [])));
  const sinkTopics = new Map<string, { node: GraphNode; sink: SinkSpec<unknown> }>();
  const noteSink = (node: GraphNode, sink: SinkSpec<unknown>): void => {
    if (sink.kind !== 'kafka') return;
    if (sourceTopics.has(sink.topic)) {
      throw new PipelineError(`${label(node)} writes to topic "${sink.topic}", which the pipeline also reads: that loops forever; write to another topic`);
    }
    const invalid = invalidTopicName(sink.topic);
    if (invalid) throw new PipelineError(`${label(node)}: ${invalid}`);
    if (isInternalTopic(p.name, sink.topic)) {
      throw new PipelineError(
        `${label(node)} writes to "${sink.topic}", a name pipeline "${p.name}" uses for its own topics (<pipeline>-s<N>-repartition|forward|failed, <pipeline>-dlq); choose another topic`,
      );
    }
    const prev = sinkTopics.get(sink.topic);
    if (prev && prev.sink.kind === 'kafka' && prev.sink.serde !== sink.serde) {
      throw new PipelineError(
        `${label(node)} writes topic "${sink.topic}" as ${sink.serde} but ${label(prev.node)} writes it as ${prev.sink.serde}; use one serde per topic`,
      );
    }
    sinkTopics.set(sink.topic, { node, sink });
  };

  // Sources each record reaches, to check event time where windows need it.
  const sourcesOf = new Map<number, GraphNode[]>();
  for (const n of nodes) {
    for (const i of n.inputs) if (i >= n.id) throw new PipelineError(`${label(n)} refers to a later operator #${i}; build pipelines front to back`);
    const inputs = n.inputs.map(byId);
    sourcesOf.set(n.id, n.kind === 'source' ? [n] : [...new Set(inputs.flatMap((i) => sourcesOf.get(i.id) ?? []))]);

    if (n.kind === 'keyBy') {
      const next = children.get(n.id) ?? [];
      if (next.length === 0) {
        throw new PipelineError(`${label(n)} has no keyed operator after it; follow it with .window(...), .aggregate(...), .reduce(...) or .process(...)`);
      }
      const bad = next.find((c) => !KEYED_KINDS.has(c.kind));
      if (bad) throw new PipelineError(`${label(bad)} follows keyBy "${n.name}" but is not a keyed operator; use .window(...), .aggregate(...), .reduce(...) or .process(...) after keyBy`);
    }
    if (KEYED_KINDS.has(n.kind)) {
      const input = inputs[0];
      if (inputs.length !== 1 || !input || input.kind !== 'keyBy') {
        throw new PipelineError(`${label(n)} needs a keyed stream; add .keyBy(...) before it`);
      }
    } else {
      const keyedInput = inputs.find((i) => i.kind === 'keyBy');
      if (keyedInput) throw new PipelineError(`${label(n)} reads keyBy "${keyedInput.name}" directly; keyBy must be followed by a keyed operator`);
    }
    if (n.kind === 'sink') noteSink(n, n.sink);
    if (n.kind === 'window' && n.lateSink) noteSink(n, n.lateSink);
    if (n.kind === 'window') {
      try {
        checkAssigner(n.assigner);
      } catch (err) {
        if (err instanceof ConfigError) throw new ConfigError(`${label(n)}: ${err.message}`);
        throw err;
      }
    }
    if (n.kind === 'window' && n.assigner.kind === 'sliding' && n.assigner.slideMs > n.assigner.sizeMs) {
      throw new PipelineError(`${label(n)}: sliding window slide ${n.assigner.slideMs} ms is larger than its size ${n.assigner.sizeMs} ms, which drops records; use slide <= size`);
    }
    if (isEventTimeWindow(n)) {
      const noTime = (sourcesOf.get(n.id) ?? []).find((s) => s.kind === 'source' && !s.source.eventTime);
      if (noTime && noTime.kind === 'source') {
        throw new PipelineError(
          `${label(n)} uses event-time windows but source "${noTime.source.topic}" has no event time; add eventTime: { outOfOrdernessMs: ... } to its kafkaSource, or use { time: 'processing' }`,
        );
      }
    }
    if (n.kind === 'window' && n.lateSink && !isEventTimeWindow(n)) {
      throw new PipelineError(`${label(n)} has a late-data side output, but only event-time windows have late data; remove sideOutputLateData`);
    }
  }
}
