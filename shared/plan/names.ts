/** The topics a pipeline writes for itself, per stage: its input (repartition or forward) and its trigger's on-failure topic. */
const STAGE_TOPIC_KINDS = ['repartition', 'forward', 'failed'] as const;
export type StageTopicKind = (typeof STAGE_TOPIC_KINDS)[number];

/** `<pipeline>-<stage>-<kind>`: a stage's input topic (repartition when keyed, else forward) or its on-failure topic. */
export function stageTopicName(pipeline: string, stage: string, kind: StageTopicKind): string {
  return `${pipeline}-${stage}-${kind}`;
}

/** `<pipeline>-<stage>-failed`: where a stage's trigger puts a batch it gave up on (deployed and local). */
export function failedTopicName(pipeline: string, stage: string): string {
  return stageTopicName(pipeline, stage, 'failed');
}

/** `<pipeline>-dlq`: the pipeline's dead-letter topic. */
export function dlqTopicName(pipeline: string): string {
  return `${pipeline}-dlq`;
}

/**
 * Whether `topic` is, or could become as stages are added, a topic the pipeline writes for
 * itself: a stage topic of any stage id `s<N>`, or its dead-letter topic.
 */
export function isInternalTopic(pipeline: string, topic: string): boolean {
  if (topic === dlqTopicName(pipeline)) return true;
  if (!topic.startsWith(`${pipeline}-`)) return false;
  const [stage, ...rest] = topic.slice(pipeline.length + 1).split('-');
  return /^s\d+$/.test(stage ?? '') && (STAGE_TOPIC_KINDS as readonly string[]).includes(rest.join('-'));
}
