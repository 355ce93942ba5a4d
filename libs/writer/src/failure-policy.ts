import { ErrorDirective, ErrorKind } from '@philotes/retry';

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
