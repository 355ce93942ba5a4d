export interface BackoffPolicy {
  /** Delay before the first retry. */
  readonly initialIntervalMs: number;
  /** No delay exceeds this, jitter included. */
  readonly maxIntervalMs: number;
  /** Each delay is the previous one times this (before the cap). */
  readonly multiplier: number;
  /** Spread as a fraction of the delay: 0.2 draws each delay from ±20% around it. 0 = none. */
  readonly jitter: number;
  /** Attempts in all, the first one included. `Infinity` retries until cancelled. */
  readonly maxAttempts: number;
}

/**
 * The delay before retry number `retry` (1 = the wait after the first failure):
 * `min(max, initial × multiplier^(retry-1))`, then spread by ±jitter and capped at `max` again.
 * Jitter keeps many replicas that failed together from retrying in lockstep.
 */
export function backoffDelay(policy: BackoffPolicy, retry: number, random: () => number = Math.random): number {
  const exponential = policy.initialIntervalMs * policy.multiplier ** (retry - 1);
  const base = Math.min(policy.maxIntervalMs, exponential);
  if (policy.jitter <= 0) return Math.round(base);
  const spread = base * policy.jitter;
  const jittered = base - spread + random() * 2 * spread;
  return Math.round(Math.min(policy.maxIntervalMs, Math.max(0, jittered)));
}

/** The policy the PHILOTES_RETRY_* settings describe (structural, so retry does not depend on config). */
export function backoffPolicyOf(settings: {
  readonly retryInitialIntervalMs: number;
  readonly retryMaxIntervalMs: number;
  readonly retryMultiplier: number;
  readonly retryJitter: number;
  readonly retryMaxAttempts: number;
}): BackoffPolicy {
  return {
    initialIntervalMs: settings.retryInitialIntervalMs,
    maxIntervalMs: settings.retryMaxIntervalMs,
    multiplier: settings.retryMultiplier,
    jitter: settings.retryJitter,
    maxAttempts: settings.retryMaxAttempts,
  };
}
