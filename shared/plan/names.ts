/** `<pipeline>-<stage>-failed`: where a stage's trigger puts a batch it gave up on (deployed and local). */
export function failedTopicName(pipeline: string, stage: string): string {
  return `${pipeline}-${stage}-failed`;
}
