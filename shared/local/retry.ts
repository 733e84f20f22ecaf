import { backoffDelay, sleep } from '../runtime/backoff';

/** How long the local runner keeps retrying a call to Kafka or DynamoDB Local before it gives up. */
export const LOCAL_SERVICE_RETRY_MS = 90_000;

export interface RetryForOptions {
  /** Named in the error thrown at the end. */
  readonly what: string;
  /** Give up once this long has passed since the first attempt. @default LOCAL_SERVICE_RETRY_MS */
  readonly windowMs?: number;
  /** First backoff; it doubles up to maxDelayMs. @default 100 */
  readonly baseDelayMs?: number;
  /** @default 2000 */
  readonly maxDelayMs?: number;
  /** Checked before every retry: false stops retrying and rethrows (e.g. the emulator is stopping). */
  readonly keepGoing?: () => boolean;
}

/**
 * Runs `fn` until it succeeds, with exponential backoff, for a bounded time. For calls of the
 * local runner (not of a stage function) that fail only while a local service restarts:
 * kafkajs and the AWS SDK retry on their own, but give up after a few seconds, shorter than
 * a broker restart. Every error is retried: while Kafka is down kafkajs reports even a
 * transient condition as non-retriable (KafkaJSNumberOfRetriesExceeded, "consumer group
 * was not initialized" between a crash and its restart). Only idempotent calls belong here.
 */
export async function retryFor<T>(fn: () => Promise<T>, options: RetryForOptions): Promise<T> {
  const started = Date.now();
  const windowMs = options.windowMs ?? LOCAL_SERVICE_RETRY_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const delay = backoffDelay(attempt, { baseDelayMs: options.baseDelayMs ?? 100, maxDelayMs: options.maxDelayMs ?? 2000 });
      if (Date.now() + delay - started > windowMs || (options.keepGoing && !options.keepGoing())) {
        const why = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        throw new Error(`${options.what}: still failing after ${Math.round((Date.now() - started) / 1000)} s (${why})`, { cause: err });
      }
      await sleep(delay);
    }
  }
}
