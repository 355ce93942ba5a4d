import { backoffDelay, BackoffPolicy, ErrorDirective, ErrorKind } from '@philotes/retry';

/**
 * When a table's writers give up on it and mark it failed (it then waits for an operator's resume
 * or resync, and every other table keeps flowing), by the error of its consecutive failed steps:
 *
 * | error                                                       | fails the table after           |
 * | ----------------------------------------------------------- | ------------------------------- |
 * | connection, server-shutdown, concurrency, conflict, resources | never: the cause is shared (buffer, catalog, disk) and every table waits for it alike |
 * | storage, retryable (throttling, 5xx)                        | never: a store outage is shared too |
 * | poison, retryable                                           | never: the event goes to the dead letters after its attempts |
 * | anything else retryable (unknown)                           | 4 × PHILOTES_RETRY_MAX_ATTEMPTS |
 * | needs an operator or never retryable (schema, primary key, authorization, storage access, corrupt payload, ...) | PHILOTES_RETRY_MAX_ATTEMPTS |
 *
 * Attempts are spaced by the backoff, so a blip (a lock, a restart) never fails a table.
 */
const SHARED: ReadonlySet<ErrorKind> = new Set(['connection', 'server-shutdown', 'concurrency', 'conflict', 'resources']);

export function failsTableAfter(directive: ErrorDirective, maxAttempts: number): number {
  if (SHARED.has(directive.kind)) return Infinity;
  if (directive.recovery !== 'timed') return maxAttempts;
  if (directive.kind === 'storage' || directive.kind === 'poison') return Infinity;
  return 4 * maxAttempts;
}

/** What a writer does after a table's step or upkeep failed. */
export type AfterFailure =
  /** Another writer moved the table (a commit, its position, its copy): reload it soon. */
  | { readonly action: 'reload'; readonly retryInMs: number }
  /**
   * Try again after the delay; 'error' when only an operator can fix it (retried slowly meanwhile).
   * `failTable`: the table's failed steps reached failsTableAfter: mark it failed and let it go
   * first, and retry only when the mark cannot be stored (the buffer unreachable, the position moved).
   */
  | { readonly action: 'retry'; readonly retryInMs: number; readonly level: 'warn' | 'error'; readonly failTable: boolean };

export interface FailureFacts {
  readonly directive: ErrorDirective;
  /** The table changed under this writer (CommitConflictError, StalePositionError, CopyChangedError). */
  readonly changedUnderUs: boolean;
  readonly kind: 'step' | 'upkeep';
  /** This table's failures in a row, this one included (any kind), and its failed steps in a row. */
  readonly attempt: number;
  readonly stepFailures: number;
}

/**
 * The writer's decision after a failure, by the table:
 *
 * | the failure                                      | then                                          |
 * | ------------------------------------------------ | --------------------------------------------- |
 * | the table changed under this writer              | reload after a quarter of the backoff (capped at its 3rd step) |
 * | timed recovery                                   | retry after the backoff of this attempt, warn |
 * | needs an operator, or never retryable            | retry after the longest backoff, error        |
 * | and a step whose failures reached failsTableAfter | fail the table first (failTable)             |
 */
export function afterFailure(facts: FailureFacts, settings: { readonly backoff: BackoffPolicy; readonly maxAttempts: number }, random?: () => number): AfterFailure {
  if (facts.changedUnderUs) return { action: 'reload', retryInMs: backoffDelay(settings.backoff, Math.min(facts.attempt, 3), random) / 4 };
  const failTable = facts.kind === 'step' && facts.stepFailures >= failsTableAfter(facts.directive, settings.maxAttempts);
  return facts.directive.retry
    ? { action: 'retry', retryInMs: backoffDelay(settings.backoff, facts.attempt, random), level: 'warn', failTable }
    : { action: 'retry', retryInMs: settings.backoff.maxIntervalMs, level: 'error', failTable };
}
