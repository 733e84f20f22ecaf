/** The environment a local stage process gets: where Kafka and DynamoDB are, and its names. */
export function localStageEnv(o: {
  brokers: string;
  prefix: string;
  tables: { state: string; progress: string };
  dynamoEndpoint: string;
  partitions: number;
  chaos?: number;
}): Record<string, string> {
  return {
    WEIR_BROKERS: o.brokers,
    WEIR_TOPIC_PREFIX: o.prefix,
    WEIR_STATE_TABLE: o.tables.state,
    WEIR_PROGRESS_TABLE: o.tables.progress,
    WEIR_DYNAMODB_ENDPOINT: o.dynamoEndpoint,
    WEIR_PARTITIONS: String(o.partitions),
    // DynamoDB Local takes any credentials; the SDK only needs some.
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    ...(o.chaos !== undefined ? { WEIR_CHAOS_SEED: String(o.chaos) } : {}),
  };
}
