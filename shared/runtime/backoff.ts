/**
 * The project's one retry schedule: exponential from `baseDelayMs`, capped at `maxDelayMs`,
 * with "equal jitter" (half fixed, half random) where many callers may retry at once against
 * one service. DynamoDB requests, the emulator's redelivery of a failed batch and the local
 * runner's calls to restarting services all take their delays from here.
 */
export interface BackoffPolicy {
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** Spread the delays (DynamoDB throttling); false for the emulator, whose retries are one per partition. @default false */
  readonly jitter?: boolean;
}

export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(Math.max(0, attempt), 30));
  return policy.jitter ? cap / 2 + random() * (cap / 2) : cap;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
