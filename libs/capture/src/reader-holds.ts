import { OperatorPause } from '@philotes/buffer';
import { PipelineState } from '@philotes/lifecycle';

/**
 * What keeps a streaming reader from consuming the replication stream. The holds are independent:
 * the reader consumes only while neither holds.
 * - `backpressure`: set by the session while the buffer holds too many unapplied events (its reason).
 * - `operator`: set while an operator has paused the whole source in `pipeline_controls`.
 */
export interface ReaderHolds {
  readonly backpressure?: string;
  readonly operator?: OperatorPause;
}

/** What a change of the holds means for the reader's state, and what to tell operators. */
export interface HoldOutcome {
  readonly state: PipelineState.Running | PipelineState.Paused;
  readonly reason: string;
  /** Set when the operator's pause began, ended or changed its reason: worth a log line. */
  readonly operator?: { readonly change: 'paused' | 'resumed' | 'updated'; readonly reason?: string };
}

export const OPERATOR_RESUMED = 'resumed by operator';
export const BACKPRESSURE_RELEASED = 'backpressure released';
export const STREAMING = 'streaming';

/** Whether anything holds the reader: it must not consume the stream. */
export function isHeld(holds: ReaderHolds): boolean {
  return holds.backpressure !== undefined || holds.operator !== undefined;
}

/** `paused by operator`, with the operator's reason when one was given. */
export function operatorPauseReason(pause: OperatorPause): string {
  return pause.reason ? `paused by operator: ${pause.reason}` : 'paused by operator';
}

/**
 * The outcome of the holds moving from `before` to `after`; `before` undefined means streaming
 * begins now. Undefined when nothing an operator can see changed.
 *
 * | after                     | state   | reason                                                 |
 * |---------------------------|---------|--------------------------------------------------------|
 * | operator (± backpressure) | paused  | paused by operator[: reason] (the operator's is named) |
 * | backpressure only         | paused  | backpressure's reason                                  |
 * | nothing, streaming begins | running | streaming                                              |
 * | nothing, operator left    | running | resumed by operator                                    |
 * | nothing, backpressure left| running | backpressure released                                  |
 */
export function holdOutcome(before: ReaderHolds | undefined, after: ReaderHolds): HoldOutcome | undefined {
  const operator = operatorChange(before?.operator, after.operator);
  const state = isHeld(after) ? PipelineState.Paused : PipelineState.Running;
  const reason = after.operator
    ? operatorPauseReason(after.operator)
    : after.backpressure !== undefined
      ? after.backpressure
      : !before
        ? STREAMING
        : before.operator
          ? OPERATOR_RESUMED
          : BACKPRESSURE_RELEASED;
  if (before && !operator && before.backpressure === after.backpressure) return undefined;
  if (before && !operator && after.operator) return undefined; // backpressure moved under the operator's pause
  return { state, reason, ...(operator ? { operator } : {}) };
}

function operatorChange(before: OperatorPause | undefined, after: OperatorPause | undefined): HoldOutcome['operator'] {
  if (!before && after) return { change: 'paused', ...(after.reason ? { reason: after.reason } : {}) };
  if (before && !after) return { change: 'resumed' };
  if (before && after && before.reason !== after.reason) return { change: 'updated', ...(after.reason ? { reason: after.reason } : {}) };
  return undefined;
}
