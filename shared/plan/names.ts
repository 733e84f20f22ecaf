/**
 * Whether `topic` is, or could become as stages are added, a topic the pipeline writes for
 * itself: its stages' repartition / forward / failed topics and its dead-letter topic.
 */
export function isInternalTopic(pipeline: string, topic: string): boolean {
  if (topic === `${pipeline}-dlq`) return true;
  if (!topic.startsWith(`${pipeline}-`)) return false;
  return /^s\d+-(repartition|forward|failed)$/.test(topic.slice(pipeline.length + 1));
}

/** `<pipeline>-<stage>-failed`: where a stage's trigger puts a batch it gave up on (deployed and local). */
export function failedTopicName(pipeline: string, stage: string): string {
  return `${pipeline}-${stage}-failed`;
}
