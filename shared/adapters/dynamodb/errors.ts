import { WeirError } from '../../runtime/errors';

/**
 * An item would exceed a DynamoDB limit (400 KB per item, 2048 bytes per partition key,
 * 1024 bytes per sort key). Raised before anything is sent; not retriable: the same batch
 * builds the same item again.
 */
export class StateTooLargeError extends WeirError {
  /** The key (or scope / sink id) whose item is too large. */
  readonly key: string;
  /** Size in bytes of what was too large (the item, or the key attribute). */
  readonly size: number;
  /** The limit in bytes that was exceeded. */
  readonly limit: number;
  constructor(message: string, details: { key: string; size: number; limit: number }) {
    super('STATE_TOO_LARGE', message);
    this.key = details.key;
    this.size = details.size;
    this.limit = details.limit;
  }
}

/**
 * DynamoDB kept throttling, failing with 5xx, or returning unprocessed items after the
 * adapter's bounded retries. Nothing was dropped: the caller fails and the batch is retried.
 *
 * ERROR_CODES has no code for a transient infrastructure failure; STATE_CONFLICT is the
 * retriable state code whose handling ("retry the batch") is the right one. Tell it apart
 * from a version conflict by the class (`name === 'StateUnavailableError'`).
 */
export class StateUnavailableError extends WeirError {
  constructor(message: string, cause?: unknown) {
    super('STATE_CONFLICT', message, { retriable: true, cause });
  }
}
