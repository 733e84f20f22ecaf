import { REPLAY_CLOCK_ENV } from '../../functions/clock';
import { LOCAL_RUNTIME_ENV } from '../../functions/control-events';
import { LOCAL_AWS } from './endpoints';

/** The environment a local stage process gets: where Kafka and DynamoDB are, and its names. */
export function localStageEnv(o: {
  brokers: string;
  prefix: string;
  tables: { state: string; progress: string };
  dynamoEndpoint: string;
  partitions: number;
  chaos?: number;
  /** A bounded run's processing time (shared/local/replay-clock.ts); without it, the wall clock. */
  replayClockFile?: string;
}): Record<string, string> {
  return {
    WEIR_BROKERS: o.brokers,
    WEIR_TOPIC_PREFIX: o.prefix,
    WEIR_STATE_TABLE: o.tables.state,
    WEIR_PROGRESS_TABLE: o.tables.progress,
    WEIR_DYNAMODB_ENDPOINT: o.dynamoEndpoint,
    WEIR_PARTITIONS: String(o.partitions),
    AWS_REGION: LOCAL_AWS.region,
    AWS_ACCESS_KEY_ID: LOCAL_AWS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_AWS.secretAccessKey,
    // The emulator and the bench read each invocation's DynamoDB usage; deployed stages skip counting it.
    WEIR_METER_DYNAMODB: '1',
    // Lets the bounded local run end a source partition ({weir: 'finish'}); deployed stages refuse it.
    [LOCAL_RUNTIME_ENV]: '1',
    ...(o.chaos !== undefined ? { WEIR_CHAOS_SEED: String(o.chaos) } : {}),
    ...(o.replayClockFile !== undefined ? { [REPLAY_CLOCK_ENV]: o.replayClockFile } : {}),
  };
}
