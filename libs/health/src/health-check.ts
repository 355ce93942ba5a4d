/** Which endpoint a check answers for; `/health` runs every check. */
export type Probe = 'live' | 'ready';

/**
 * One dependency or condition. `check` resolves with details (shown in `/health`) when healthy and
 * throws when not; the error message is the reason shown, so it must name the problem, not leak a
 * secret. Implementations should give up when `signal` aborts (the readiness timeout).
 */
export interface HealthCheck {
  readonly name: string;
  readonly probes: readonly Probe[];
  check(signal: AbortSignal): Promise<Record<string, unknown> | void>;
}

/** Apps provide their checks under this token (an array); the controller runs them. */
export const HEALTH_CHECKS = Symbol('HEALTH_CHECKS');
export const HEALTH_OPTIONS = Symbol('HEALTH_OPTIONS');

export interface HealthOptions {
  /** Each check counts as down once it takes longer than this. */
  readonly timeoutMs: number;
}
