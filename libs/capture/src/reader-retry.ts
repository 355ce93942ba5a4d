import { PipelineState } from '@philotes/lifecycle';
import { ErrorDirective } from '@philotes/retry';
import { LostSlotError, ReaderConfigurationError } from './errors';

/** What the reader does after its session failed. */
export type ReaderRetry =
  | { readonly kind: 'give-up' }
  | { readonly kind: 'retry'; readonly state: PipelineState.Paused | PipelineState.Starting; readonly reason: string };

/**
 * The reader's decision when a session fails (see supervise):
 *
 * | the failure                                   | then                                                     |
 * | --------------------------------------------- | -------------------------------------------------------- |
 * | a lost slot, the reader's configuration       | give up: the process fails, with the reason              |
 * | any other error an operator must fix, or never retryable | give up                                       |
 * | the database out of disk, memory, connections | retry, `paused` with the database's own words and the action (nothing is read meanwhile) |
 * | anything else timed (connection, restart, ...) | retry, `starting` with the kind and the attempt          |
 *
 * The database's words name a file or a limit, never row values (and log redaction withholds
 * messages of the SQLSTATE classes that quote values).
 */
export function readerRetry(error: unknown, directive: ErrorDirective, attempt: number, delayMs: number): ReaderRetry {
  if (readerGivesUp(error, directive)) return { kind: 'give-up' };
  if (directive.kind === 'resources') {
    const cause = error instanceof Error ? error.message : String(error);
    return { kind: 'retry', state: PipelineState.Paused, reason: `waiting for the database to have room: ${cause} (${directive.action}); retrying in ${delayMs} ms, attempt ${attempt}` };
  }
  return { kind: 'retry', state: PipelineState.Starting, reason: `reconnecting after a ${directive.kind} error (attempt ${attempt}, next in ${delayMs} ms)` };
}

/** The give-up rows of readerRetry's table: a lost slot, the reader's configuration, anything not timed. */
export function readerGivesUp(error: unknown, directive: ErrorDirective): boolean {
  return error instanceof LostSlotError || error instanceof ReaderConfigurationError || directive.recovery !== 'timed';
}
