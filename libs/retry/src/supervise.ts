import { backoffDelay, BackoffPolicy } from './backoff';
import { classifyError, ErrorDirective } from './error-policy';
import { RetryAttempt, sleep } from './retry';

export interface SuperviseOptions {
  /** Aborting ends the supervision: the running work receives the signal, and no run starts again. */
  readonly signal: AbortSignal;
  /** Read before each wait, so a reload applies at the next failure. */
  readonly backoff: () => BackoffPolicy;
  /** A run that lasted this long before it failed was healthy: the next failure counts as attempt 1 again. */
  readonly healthyAfterMs?: number;
  /** After every run, failed or not (connections given back), before the wait. */
  readonly release?: () => Promise<void>;
  readonly classify?: (error: unknown) => ErrorDirective;
  /** Whether this failure ends the supervision for good (default: none does). */
  readonly giveUp?: (error: unknown, directive: ErrorDirective) => boolean;
  /** Before each wait: logs, metrics, the process state ("reconnecting, attempt 3"). */
  readonly onRetry?: (attempt: RetryAttempt) => void;
  readonly random?: () => number;
  readonly now?: () => number;
}

/** How a supervision ended: the signal stopped it, or a failure it must not retry. */
export type SupervisionEnd = { readonly kind: 'stopped' } | { readonly kind: 'gave-up'; readonly error: unknown; readonly directive: ErrorDirective };

/** A run that returned while it should still be working. */
export class EndedUnexpectedlyError extends Error {
  constructor(what: string) {
    super(`${what} ended unexpectedly`);
    this.name = 'EndedUnexpectedlyError';
  }
}

/**
 * Keeps long-running work going: runs it, and when it fails (or returns before the signal aborts),
 * releases what it held, classifies the error, waits the backoff and runs it again, until the signal
 * aborts or `giveUp` says the failure is for good. The work may call `healthy()` once it is up (a
 * connection made, a lock taken): the next failure then counts as attempt 1 again, as it does after
 * `healthyAfterMs`. Both apps' connection loops are this one.
 */
export async function supervise(what: string, run: (signal: AbortSignal, healthy: () => void) => Promise<void>, options: SuperviseOptions): Promise<SupervisionEnd> {
  const { signal } = options;
  const now = options.now ?? Date.now;
  const classify = options.classify ?? classifyError;
  let attempt = 0;
  while (!signal.aborted) {
    const started = now();
    let failure: unknown;
    try {
      await run(signal, () => (attempt = 0));
      if (!signal.aborted) failure = new EndedUnexpectedlyError(what);
    } catch (error) {
      failure = error;
    }
    await options.release?.();
    if (signal.aborted) break;
    const directive = classify(failure);
    if (options.giveUp?.(failure, directive)) return { kind: 'gave-up', error: failure, directive };
    const healthy = options.healthyAfterMs !== undefined && now() - started > options.healthyAfterMs;
    attempt = healthy ? 1 : attempt + 1;
    const delayMs = backoffDelay(options.backoff(), attempt, options.random);
    options.onRetry?.({ attempt, error: failure, directive, delayMs });
    await sleep(delayMs, signal).catch(() => undefined);
  }
  return { kind: 'stopped' };
}
