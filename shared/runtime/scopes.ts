/**
 * Where a stage keeps its records, by name: the progress record of one input partition and
 * the keyed-state scope of one partition. The executor writes under these; `weir dev --ui`
 * reads them back, so both take them from here.
 */
export function progressScope(pipeline: string, stage: string, topic: string, partition: number): string {
  return `${pipeline}#${stage}#${topic}#${partition}`;
}

export function stateScope(pipeline: string, stage: string, partition: number): string {
  return `${pipeline}#${stage}#${partition}`;
}
