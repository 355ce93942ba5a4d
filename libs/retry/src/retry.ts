import { backoffDelay, BackoffPolicy } from './backoff';
import { classifyError, ErrorDirective } from './error-policy';

export interface RetryAttempt {
  /** The attempt that failed (1 = the first call). */
  readonly attempt: number;
  readonly error: unknown;
  readonly directive: ErrorDirective;
  /** Wait before the next attempt. */
  readonly delayMs: number;
}

export interface RetryOptions {
  readonly policy: BackoffPolicy;
  /** Aborting stops the waiting and the retrying; the operation receives the signal too. */
  readonly signal?: AbortSignal;
  readonly classify?: (error: unknown) => ErrorDirective;
  /** Called before each wait, for logs, metrics and state ("reconnecting, attempt 3"). */
  readonly onRetry?: (attempt: RetryAttempt) => void;
  readonly random?: () => number;
}

/** Thrown when retrying ends without success: a permanent error, or the attempts ran out. */
export class RetryError extends Error {
  constructor(
    override readonly cause: unknown,
    readonly attempts: number,
    readonly directive: ErrorDirective,
  ) {
    const reason = directive.retry ? `gave up after ${attempts} attempts` : 'not retryable';
    super(`${reason}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'RetryError';
  }
}

/**
 * Runs `operation` until it succeeds, it throws a permanent error, the attempts run out, or the
 * signal aborts (which rejects with the signal's reason, not a RetryError).
 */
export async function retry<T>(operation: (attempt: number, signal?: AbortSignal) => Promise<T>, options: RetryOptions): Promise<T> {
  const classify = options.classify ?? classifyError;
  for (let attempt = 1; ; attempt++) {
    options.signal?.throwIfAborted();
    try {
      return await operation(attempt, options.signal);
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      const directive = classify(error);
      if (!directive.retry || attempt >= options.policy.maxAttempts) throw new RetryError(error, attempt, directive);
      const delayMs = backoffDelay(options.policy, attempt, options.random);
      options.onRetry?.({ attempt, error, directive, delayMs });
      await sleep(delayMs, options.signal);
    }
  }
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
