import type { GraphNode } from '../api/graph';
import type { SinkSpec } from '../api/sinks';
import type { PipelinePlan, StageOutput, StagePlan } from '../plan/types';
import type { Cause, Element } from './element';
import { RecordError } from './errors';
import { keyIdOfValue } from './keys';
import { checkKeySize, type RecordLimits } from './limits';
import type { Outputs } from './outputs';

/**
 * Moves elements through the chained operators of one stage: stateless operators run
 * inline, edges to other stages become records, sinks become sink records.
 */
export class StageRouter {
  private readonly children = new Map<number, GraphNode[]>();
  private readonly crossing = new Map<number, StageOutput[]>();
  private readonly sinkPartitions = new Map<string, number>();
  readonly limits: RecordLimits;
  /** The lanes a partition of this stage combines: anything else on its input is foreign. */
  readonly lanes: ReadonlySet<string>;
  /** Whether an operator of the stage sets processing-time timers (process functions, processing-time windows). */
  readonly processingTimers: boolean;

  constructor(
    readonly plan: PipelinePlan,
    readonly stage: StagePlan,
    readonly nodes: readonly GraphNode[],
  ) {
    const inStage = new Set(stage.nodeIds);
    for (const id of stage.nodeIds) {
      const n = nodes[id] as GraphNode;
      for (const i of n.inputs) {
        if (inStage.has(i) && !(stage.entries[i] ?? []).includes(id)) this.children.set(i, [...(this.children.get(i) ?? []), n]);
      }
    }
    for (const out of stage.outputs) this.crossing.set(out.fromNode, [...(this.crossing.get(out.fromNode) ?? []), out]);
    this.limits = plan.limits;
    this.lanes = new Set(stage.lanes);
    this.processingTimers = stageHasProcessingTimers(stage, nodes);
    for (const t of plan.topics) this.sinkPartitions.set(t.name, t.partitions);
  }

  node(id: number): GraphNode {
    return this.nodes[id] as GraphNode;
  }

  /** Hands `el`, an output of node `from`, to what follows it. */
  push(out: Outputs, from: number, el: Element, cause: Cause): void {
    for (const c of this.children.get(from) ?? []) this.deliver(out, c, el, cause);
    for (const edge of this.crossing.get(from) ?? []) {
      const fromNode = this.node(from);
      if (fromNode.kind === 'keyBy') {
        // As Flink's keyBy: a record without a usable key (none, or one with no canonical bytes) goes to the DLQ.
        const key = keyIdOfValue(callUser(fromNode, () => fromNode.fn(el.value)), fromNode.name);
        // Checked here, not at the state write: a key too long to store would fail its batch on every retry.
        checkKeySize(key, fromNode.name);
        unwritable(`the output of operator "${fromNode.name}"`, () => out.toStage(edge, el, key));
      } else {
        unwritable(`the output of operator "${fromNode.name}"`, () => out.toStage(edge, el, el.key));
      }
    }
  }

  /** Runs a stateless operator on `el`. Keyed operators are run by the keyed task. */
  deliver(out: Outputs, n: GraphNode, el: Element, cause: Cause): void {
    switch (n.kind) {
      case 'map':
        this.push(out, n.id, { ...el, value: callUser(n, () => n.fn(el.value)) }, cause);
        return;
      case 'filter':
        if (callUser(n, () => n.fn(el.value))) this.push(out, n.id, el, cause);
        return;
      case 'flatMap': {
        const values = callUser(n, () => n.fn(el.value));
        if (values == null) return;
        for (const v of values) this.push(out, n.id, { ...el, value: v }, cause);
        return;
      }
      case 'union':
      case 'keyBy':
      case 'source':
        this.push(out, n.id, el, cause);
        return;
      case 'sink':
        this.sink(out, n.sink, el, cause);
        return;
      default:
        throw new Error(`operator "${n.name}" (${n.kind}) cannot run inline in stage ${this.stage.id}`);
    }
  }

  sink(out: Outputs, sink: SinkSpec<unknown>, el: Element, cause: Cause): void {
    const parts = sink.kind === 'kafka' ? (this.sinkPartitions.get(sink.topic) ?? 1) : 1;
    // The sink's key function is user code, and encoding can fail (a BigInt, a cycle): the record goes to the DLQ.
    const name = sink.kind === 'kafka' ? sink.topic : sink.kind === 'dynamodb' ? sink.table : sink.name;
    unwritable(`${sink.kind} sink "${name}"`, () => out.toSink(sink, parts, el, cause));
  }
}

/** Runs a write of `what`; a failure becomes a RecordError naming `what`, so the input record goes to the DLQ. */
function unwritable(what: string, write: () => void): void {
  try {
    write();
  } catch (err) {
    // Outputs' own RecordErrors (a record too large, a key without bytes) do not know the operator or sink.
    const code = err instanceof RecordError && err.code === 'RECORD_UNDECODABLE' ? err.code : 'USER_FUNCTION_FAILED';
    throw new RecordError(code, `${what} could not be written: ${err instanceof Error ? err.message : String(err)}`, err);
  }
}

/** Runs user code; a throw becomes a RecordError naming the operator (the record goes to the DLQ). */
export function callUser<T>(n: GraphNode, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof RecordError) throw err;
    throw new RecordError('USER_FUNCTION_FAILED', `operator "${n.name}" (${n.kind}) threw: ${err instanceof Error ? err.message : String(err)}`, err);
  }
}

/** Whether a stage has operators that set processing-time timers (process functions, processing-time windows). */
export function stageHasProcessingTimers(stage: StagePlan, nodes: readonly GraphNode[]): boolean {
  return stage.nodeIds.some((id) => {
    const n = nodes[id] as GraphNode;
    return n.kind === 'process' || (n.kind === 'window' && 'time' in n.assigner && n.assigner.time === 'processing');
  });
}
