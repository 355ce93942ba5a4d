import { backoffDelay, BackoffPolicy, backoffPolicyOf } from './backoff';

const DEFAULTS: BackoffPolicy = { initialIntervalMs: 1_000, maxIntervalMs: 30_000, multiplier: 2, jitter: 0, maxAttempts: 10 };

describe('backoffDelay', () => {
  it('grows exponentially from the initial interval and stops at the maximum', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8].map((retry) => backoffDelay(DEFAULTS, retry));
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
  });

  it('follows the multiplier', () => {
    const policy = { ...DEFAULTS, initialIntervalMs: 100, multiplier: 1.5, maxIntervalMs: 1_000 };
    expect([1, 2, 3, 4, 5, 6, 7].map((retry) => backoffDelay(policy, retry))).toEqual([100, 150, 225, 338, 506, 759, 1_000]);
  });

  it('is constant with multiplier 1', () => {
    expect([1, 5, 50].map((retry) => backoffDelay({ ...DEFAULTS, multiplier: 1 }, retry))).toEqual([1_000, 1_000, 1_000]);
  });

  it('spreads each delay within ±jitter of its base', () => {
    const policy = { ...DEFAULTS, jitter: 0.2 };
    expect(backoffDelay(policy, 3, () => 0)).toBe(3_200); // 4000 - 20%
    expect(backoffDelay(policy, 3, () => 0.5)).toBe(4_000);
    expect(backoffDelay(policy, 3, () => 0.999999)).toBe(4_800); // 4000 + 20%
    for (let i = 0; i < 1_000; i++) {
      const delay = backoffDelay(policy, 2);
      expect(delay).toBeGreaterThanOrEqual(1_600);
      expect(delay).toBeLessThanOrEqual(2_400);
    }
  });

  it('never exceeds the maximum, even with jitter', () => {
    const policy = { ...DEFAULTS, jitter: 0.5 };
    expect(backoffDelay(policy, 20, () => 0.999999)).toBe(30_000);
    expect(backoffDelay(policy, 20, () => 0)).toBe(15_000);
  });

  it('maps the PHILOTES_RETRY_* settings', () => {
    expect(
      backoffPolicyOf({ retryInitialIntervalMs: 5, retryMaxIntervalMs: 50, retryMultiplier: 3, retryJitter: 0.1, retryMaxAttempts: 4 }),
    ).toEqual({ initialIntervalMs: 5, maxIntervalMs: 50, multiplier: 3, jitter: 0.1, maxAttempts: 4 });
  });
});
