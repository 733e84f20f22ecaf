import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { backoffDelay, sleep } from '../../runtime/backoff';
import { StateUnavailableError } from './errors';

/** DynamoDB's limits, in bytes. */
export const MAX_ITEM_BYTES = 400 * 1024;
export const MAX_PARTITION_KEY_BYTES = 2048;
export const MAX_SORT_KEY_BYTES = 1024;

/** Retries inside the adapter, on top of the SDK client's own. */
export interface RetryOptions {
  /** Attempts per request (and rounds without progress for unprocessed items). @default 10 */
  readonly maxAttempts?: number;
  /** @default 50 */
  readonly baseDelayMs?: number;
  /** @default 5000 */
  readonly maxDelayMs?: number;
}

interface ResolvedRetry {
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export function resolveRetry(o: RetryOptions | undefined): ResolvedRetry {
  return {
    maxAttempts: Math.max(1, Math.floor(o?.maxAttempts ?? 10)),
    baseDelayMs: Math.max(0, o?.baseDelayMs ?? 50),
    maxDelayMs: Math.max(0, o?.maxDelayMs ?? 5000),
  };
}

const THROTTLE_NAMES = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'LimitExceededException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'ECONNABORTED']);

/** Throttling, server-side (5xx) and connection errors: the request may be sent again. */
export function isTransient(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { name?: unknown; code?: unknown; $fault?: unknown; $metadata?: { httpStatusCode?: unknown }; $retryable?: unknown };
  if (typeof e.name === 'string' && THROTTLE_NAMES.has(e.name)) return true;
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
  const status = e.$metadata?.httpStatusCode;
  if (typeof status === 'number' && status >= 500) return true;
  if (e.$fault === 'server') return true;
  return e.$retryable !== undefined && e.$retryable !== null;
}

/** DynamoDB's delays: the project's backoff, with jitter. */
export function backoffMs(attempt: number, r: ResolvedRetry): number {
  return backoffDelay(attempt, { ...r, jitter: true });
}

export { sleep };

/** Runs `fn`, retrying transient errors with backoff; gives up with a retriable StateUnavailableError. */
export async function withRetry<T>(what: string, retry: ResolvedRetry, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isTransient(err)) throw err;
      if (attempt + 1 >= retry.maxAttempts) {
        const name = err instanceof Error ? err.name : 'error';
        throw new StateUnavailableError(`DynamoDB ${what} still failing (${name}) after ${retry.maxAttempts} attempts; the batch will be retried`, err);
      }
      await sleep(backoffMs(attempt, retry));
    }
  }
}

/**
 * Runs `fn` over `items` with at most `limit` in flight, started in index order. After the
 * first failure no new item is started; once the running ones settle, the failure of the
 * lowest index is thrown (so every item before it has completed).
 */
export async function forEachBounded<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const errors: { index: number; err: unknown }[] = [];
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const index = next++;
      try {
        await fn(items[index] as T, index);
      } catch (err) {
        failed = true;
        errors.push({ index, err });
      }
    }
  };
  const n = Math.max(1, Math.min(Math.floor(limit), items.length));
  await Promise.all(Array.from({ length: n }, worker));
  if (errors.length) {
    errors.sort((a, b) => a.index - b.index);
    throw errors[0]?.err;
  }
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export function utf8Bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** Size of a number attribute value, as DynamoDB counts it (1 byte per 2 significant digits + 1), rounded up. */
function numberBytes(n: string): number {
  const digits = n.replace(/^-/, '').replace(/\./, '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(1, digits.length) / 2) + 2;
}

/** Item size by DynamoDB's rules: attribute name lengths plus value sizes (S, N, B, NULL, BOOL). */
export function itemBytes(item: Readonly<Record<string, AttributeValue>>): number {
  let total = 0;
  for (const [name, v] of Object.entries(item)) {
    total += utf8Bytes(name);
    if (v.S !== undefined) total += utf8Bytes(v.S);
    else if (v.N !== undefined) total += numberBytes(v.N);
    else if (v.B !== undefined) total += v.B.length;
    else if (v.NULL !== undefined || v.BOOL !== undefined) total += 1;
    else total += utf8Bytes(JSON.stringify(v));
  }
  return total;
}

/** A key as shown in error messages: quoted, cut after 120 characters. */
export function showKey(key: string): string {
  return JSON.stringify(key.length > 120 ? `${key.slice(0, 120)}...` : key);
}
