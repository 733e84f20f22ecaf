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
  /** JSON bytes of keyed state an environment may cache (see stateCacheBytes); absent, the executor's default. */
  readonly stateCacheBytes?: number;
  /** When snapshots are written; an unset threshold keeps the executor's default. */
  readonly snapshots: { readonly minLogBytes?: number; readonly everyEntries?: number };
}

export function readStageConfig(env: NodeJS.ProcessEnv, stage?: string): StageConfig {
  const s = stage ?? env.WEIR_STAGE;
  if (!s) throw new ConfigError('WEIR_STAGE is not set; set it to the stage id this function runs (see `weir plan`)');
  const partitions = Number(env.WEIR_PARTITIONS ?? '4');
  if (!Number.isInteger(partitions) || partitions <= 0) throw new ConfigError(`WEIR_PARTITIONS must be a positive integer, got "${env.WEIR_PARTITIONS}"`);
  const auth = readKafkaAuthMode(env);
  const chaos = env.WEIR_CHAOS_SEED;
  if (chaos !== undefined && !Number.isInteger(Number(chaos))) throw new ConfigError(`WEIR_CHAOS_SEED must be an integer, got "${chaos}"`);
  const cacheBytes = stateCacheBytes(env);
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
    ...(cacheBytes !== undefined ? { stateCacheBytes: cacheBytes } : {}),
    snapshots: snapshotSettings(env),
  };
}

/**
 * WEIR_STATE_CACHE_MB, else a ninth of the function's memory: JSON bytes grow about threefold
 * as objects in the heap, so that is about a third of the memory. Absent or not a positive
 * number: undefined.
 */
function stateCacheBytes(env: NodeJS.ProcessEnv): number | undefined {
  const mb = Number(env.WEIR_STATE_CACHE_MB ?? Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? NaN) / 3 / 3);
  return Number.isFinite(mb) && mb > 0 ? Math.floor(mb * 1024 * 1024) : undefined;
}

/**
 * WEIR_SNAPSHOT_MIN_LOG_BYTES / WEIR_SNAPSHOT_EVERY_ENTRIES, optional deployment settings
 * (docs/DEPLOY.md); a value that is not a number >= 0 is ignored, and the executor never
 * lets everyEntries exceed SNAPSHOT_EVERY_ENTRIES (the DynamoDB log's ring).
 */
function snapshotSettings(env: NodeJS.ProcessEnv): StageConfig['snapshots'] {
  const num = (v: string | undefined): number | undefined => (v !== undefined && Number.isFinite(Number(v)) && Number(v) >= 0 ? Number(v) : undefined);
  const minLogBytes = num(env.WEIR_SNAPSHOT_MIN_LOG_BYTES);
  const everyEntries = num(env.WEIR_SNAPSHOT_EVERY_ENTRIES);
  return { ...(minLogBytes !== undefined ? { minLogBytes } : {}), ...(everyEntries !== undefined ? { everyEntries: Math.max(1, everyEntries) } : {}) };
}
