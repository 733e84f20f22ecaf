export { DynamoCommitLog, type DynamoCommitLogOptions } from './dynamo-commit-log';
export { DynamoProgressStore, type DynamoProgressStoreOptions } from './dynamo-progress-store';
export { DynamoSinkWriter, sinkItem, type DynamoSinkWriterOptions } from './dynamo-sink-writer';
export {
  ensureTables,
  tableDefinitions,
  PROGRESS_DATA_ATTRIBUTE,
  PROGRESS_PARTITION_KEY,
  PROGRESS_UPDATED_AT_ATTRIBUTE,
  SINK_PARTITION_KEY,
  STATE_DATA_ATTRIBUTE,
  STATE_HEAD_SORT_KEY,
  LOG_RING_SLOTS,
  PROGRESS_SEQ_ATTRIBUTE,
  STATE_PARTITION_KEY,
  STATE_SORT_KEY,
  STATE_TTL_ATTRIBUTE,
  type EnsureTablesOptions,
  type WeirTableNames,
} from './tables';
export { StateTooLargeError, StateUnavailableError } from './errors';
export { MAX_ITEM_BYTES, MAX_PARTITION_KEY_BYTES, MAX_SORT_KEY_BYTES, type RetryOptions } from './dynamo-common';
export { meterClient, type DynamoUsage } from './capacity-meter';
export { createDynamoClient } from './client';
