import { ConfigError } from '../shared/runtime/errors';
import { readKafkaAuthMode, type KafkaAuthMode } from './kafka-auth';

/** A stage function's settings, from its environment; errors name the variable. */
export interface StageConfig {
  readonly stage: string;
  readonly partitions: number;
  readonly brokers?: string;
  readonly topicPrefix: string;
  readonly stateTable?: string;
  readonly progressTable?: string;
  readonly dynamoEndpoint?: string;
  readonly region: string;
  readonly kafkaAuth: KafkaAuthMode;
  readonly chaosSeed?: number;
}

export function readStageConfig(env: NodeJS.ProcessEnv, stage?: string): StageConfig {
  const s = stage ?? env.WEIR_STAGE;
  if (!s) throw new ConfigError('WEIR_STAGE is not set; set it to the stage id this function runs (see `weir plan`)');
  const partitions = Number(env.WEIR_PARTITIONS ?? '4');
  if (!Number.isInteger(partitions) || partitions <= 0) throw new ConfigError(`WEIR_PARTITIONS must be a positive integer, got "${env.WEIR_PARTITIONS}"`);
  const auth = readKafkaAuthMode(env);
  const chaos = env.WEIR_CHAOS_SEED;
  if (chaos !== undefined && !Number.isInteger(Number(chaos))) throw new ConfigError(`WEIR_CHAOS_SEED must be an integer, got "${chaos}"`);
  return {
    stage: s,
    partitions,
    ...(env.WEIR_BROKERS ? { brokers: env.WEIR_BROKERS } : {}),
    topicPrefix: env.WEIR_TOPIC_PREFIX ?? '',
    ...(env.WEIR_STATE_TABLE ? { stateTable: env.WEIR_STATE_TABLE } : {}),
    ...(env.WEIR_PROGRESS_TABLE ? { progressTable: env.WEIR_PROGRESS_TABLE } : {}),
    ...(env.WEIR_DYNAMODB_ENDPOINT ? { dynamoEndpoint: env.WEIR_DYNAMODB_ENDPOINT } : {}),
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    kafkaAuth: auth,
    ...(chaos !== undefined ? { chaosSeed: Number(chaos) } : {}),
  };
}
