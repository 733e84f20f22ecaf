import type { AggregateFunction } from './aggregates';
import type { SinkSpec } from './sinks';
import type { SourceSpec } from './sources';
import type { KeyedProcessFunction, StateSpec } from './state';
import type { Json, KeyValue, StageSettings } from './types';
import type { WindowAssignerSpec } from './windows';

/**
 * The operator DAG a pipeline builds. Nodes are created in topological order (a node only
 * refers to nodes made before it), which the planner relies on.
 */
export type AnyAggregate = AggregateFunction<unknown, Json, unknown>;

interface NodeBase {
  readonly id: number;
  /** Operator name, shown in plans and errors; unique within the pipeline. */
  name: string;
  readonly inputs: readonly number[];
  /** Set by `startNewStage()`: this operator starts a new stage (own Lambda). */
  newStage?: StageSettings;
}

export type GraphNode =
  | (NodeBase & { readonly kind: 'source'; readonly source: SourceSpec<unknown> })
  | (NodeBase & { readonly kind: 'map'; readonly fn: (value: unknown) => unknown })
  | (NodeBase & { readonly kind: 'filter'; readonly fn: (value: unknown) => boolean })
  | (NodeBase & { readonly kind: 'flatMap'; readonly fn: (value: unknown) => Iterable<unknown> | null | undefined })
  | (NodeBase & { readonly kind: 'union' })
  | (NodeBase & { readonly kind: 'keyBy'; readonly fn: (value: unknown) => KeyValue })
  | (NodeBase & {
      readonly kind: 'running';
      readonly aggregate: AnyAggregate;
      readonly result: (key: string, value: unknown) => unknown;
    })
  | (NodeBase & {
      readonly kind: 'process';
      readonly fn: KeyedProcessFunction<unknown, unknown, StateSpec>;
      readonly state: StateSpec;
    })
  | (NodeBase & {
      readonly kind: 'window';
      readonly assigner: WindowAssignerSpec;
      readonly allowedLatenessMs: number;
      readonly lateSink?: SinkSpec<unknown>;
      readonly aggregate: AnyAggregate;
      readonly result: (key: string, value: unknown, window: { start: number; end: number }) => unknown;
    })
  | (NodeBase & { readonly kind: 'sink'; readonly sink: SinkSpec<unknown> });

export type NodeKind = GraphNode['kind'];

export const KEYED_KINDS: ReadonlySet<NodeKind> = new Set(['running', 'process', 'window']);
