import { ConfigError } from '../shared/runtime/errors';

/**
 * The CloudFormation custom resource that creates a pipeline's Kafka topics (repartition /
 * forward, sink, late, dead-letter and per-stage failed topics).
 *
 *   Create/Update  missing topics are created; a topic with fewer partitions than asked grows;
 *                  a topic with more partitions than asked is an error (Kafka cannot shrink),
 *                  raised before anything changes. Running it twice changes nothing.
 *   Delete         topics are kept (RemovalPolicy "retain", the default): they hold data.
 *                  With "destroy" the topics of the resource are deleted.
 *
 * The logic is `applyTopics`, a pure function over the small `TopicAdmin` port; the Lambda
 * entry (`handler`, in topics-resource-entry.ts) wires a kafkajs admin into it.
 */
export interface TopicSpec {
  readonly name: string;
  readonly partitions: number;
}

/** What the resource needs from Kafka. */
export interface TopicAdmin {
  /** Partition counts of those of `names` that exist. */
  partitionCounts(names: readonly string[]): Promise<ReadonlyMap<string, number>>;
  createTopics(topics: readonly TopicSpec[]): Promise<void>;
  /** Grows each topic to `partitions` in total. */
  createPartitions(topics: readonly TopicSpec[]): Promise<void>;
  deleteTopics(names: readonly string[]): Promise<void>;
}

export interface TopicChanges {
  readonly created: readonly string[];
  readonly grown: readonly string[];
  readonly unchanged: readonly string[];
}

/** Brings the cluster to at least `desired`; throws a ConfigError naming every topic asked to shrink. */
export async function applyTopics(admin: TopicAdmin, desired: readonly TopicSpec[]): Promise<TopicChanges> {
  const seen = new Set<string>();
  for (const t of desired) {
    if (seen.has(t.name)) throw new ConfigError(`topic "${t.name}" is listed twice; list each topic once`);
    seen.add(t.name);
    if (!Number.isInteger(t.partitions) || t.partitions < 1) {
      throw new ConfigError(`topic "${t.name}": partitions must be a positive integer, got ${t.partitions}`);
    }
  }
  const existing = await admin.partitionCounts(desired.map((t) => t.name));
  const shrink = desired.filter((t) => (existing.get(t.name) ?? 0) > t.partitions);
  if (shrink.length) {
    const list = shrink.map((t) => `"${t.name}" has ${existing.get(t.name)} partitions, asked for ${t.partitions}`).join('; ');
    throw new ConfigError(`Kafka topics cannot lose partitions: ${list}. Keep the partition count (or raise it), or create a new topic under another name`);
  }
  const create = desired.filter((t) => !existing.has(t.name));
  const grow = desired.filter((t) => existing.has(t.name) && (existing.get(t.name) as number) < t.partitions);
  if (create.length) await admin.createTopics(create);
  if (grow.length) await admin.createPartitions(grow);
  return {
    created: create.map((t) => t.name),
    grown: grow.map((t) => t.name),
    unchanged: desired.filter((t) => existing.get(t.name) === t.partitions).map((t) => t.name),
  };
}

/** The resource's properties as CloudFormation passes them (every scalar arrives as a string). */
export interface TopicsResourceProperties {
  readonly Topics: ReadonlyArray<{ readonly Name: string; readonly Partitions: string | number }>;
  /** "retain" (default) or "destroy". */
  readonly RemovalPolicy?: string;
  readonly BootstrapBrokers: string;
  /** "iam" (default) or "scram". */
  readonly Auth?: string;
  readonly ScramSecretArn?: string;
}

export interface TopicsEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly PhysicalResourceId?: string;
  readonly LogicalResourceId?: string;
  readonly ResourceProperties: TopicsResourceProperties;
  readonly OldResourceProperties?: TopicsResourceProperties;
}

export interface TopicsResponse {
  readonly PhysicalResourceId: string;
  readonly Data: { readonly Created: string; readonly Grown: string; readonly Deleted: string };
}

export function parseTopics(props: TopicsResourceProperties | undefined): TopicSpec[] {
  return (props?.Topics ?? []).map((t) => ({ name: t.Name, partitions: Number(t.Partitions) }));
}

function removalPolicy(props: TopicsResourceProperties): 'retain' | 'destroy' {
  const p = props.RemovalPolicy ?? 'retain';
  if (p !== 'retain' && p !== 'destroy') throw new ConfigError(`RemovalPolicy must be "retain" or "destroy", got "${p}"`);
  return p;
}

/** The provider-framework `onEvent` logic, over a TopicAdmin. */
export async function onTopicsEvent(event: TopicsEvent, admin: TopicAdmin): Promise<TopicsResponse> {
  const id = event.PhysicalResourceId ?? `weir-topics-${event.LogicalResourceId ?? 'resource'}`;
  const props = event.ResourceProperties;
  const policy = removalPolicy(props);
  if (event.RequestType === 'Delete') {
    const names = parseTopics(props).map((t) => t.name);
    if (policy === 'destroy' && names.length) await admin.deleteTopics(names);
    return { PhysicalResourceId: id, Data: { Created: '', Grown: '', Deleted: policy === 'destroy' ? names.join(',') : '' } };
  }
  const desired = parseTopics(props);
  const changes = await applyTopics(admin, desired);
  let deleted: string[] = [];
  if (event.RequestType === 'Update' && policy === 'destroy') {
    const keep = new Set(desired.map((t) => t.name));
    deleted = parseTopics(event.OldResourceProperties).map((t) => t.name).filter((n) => !keep.has(n));
    if (deleted.length) await admin.deleteTopics(deleted);
  }
  return { PhysicalResourceId: id, Data: { Created: changes.created.join(','), Grown: changes.grown.join(','), Deleted: deleted.join(',') } };
}
