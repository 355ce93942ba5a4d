/**
 * The dead-letter model, once: where a letter stands, and every move between standings with who
 * makes it. The store's SQL guards each move by the statuses the table allows it from, so two
 * requests (any number of admin replicas, a writer) move each letter once.
 */

/** Where a dead letter stands. 'superseded': a later change of its key was written, so it must not come back. */
export const DEAD_LETTER_STATUSES = ['pending', 'replaying', 'replayed', 'discarded', 'superseded'] as const;
export type DeadLetterStatus = (typeof DEAD_LETTER_STATUSES)[number];

export interface DeadLetterMove {
  /** The statuses the move leaves; a letter in any other is left alone. Empty: the letter is born. */
  readonly from: readonly DeadLetterStatus[];
  readonly to: DeadLetterStatus;
  /** The event written to the letter's history. */
  readonly event: string;
  readonly by: 'writer' | 'operator' | 'copy';
}

/** Every move a dead letter makes. */
export const DEAD_LETTER_MOVES = {
  /** The writer gave up on the event (its attempts are spent) and moved past it. */
  fail: { from: [], to: 'pending', event: 'failed', by: 'writer' },
  /** Born superseded: a later change of its key in the same commit was written. */
  failSuperseded: { from: [], to: 'superseded', event: 'superseded', by: 'writer' },
  requestReplay: { from: ['pending'], to: 'replaying', event: 'replay-requested', by: 'operator' },
  discard: { from: ['pending', 'superseded'], to: 'discarded', event: 'discarded', by: 'operator' },
  /** The writer that owns the table applied it, in the same transaction as its Iceberg commit. */
  replayed: { from: ['replaying'], to: 'replayed', event: 'replayed', by: 'writer' },
  /** Replayed, but a later change of its key was in the same replay. */
  replaySuperseded: { from: ['replaying'], to: 'superseded', event: 'superseded', by: 'writer' },
  /** The replay failed again: back to the operator, with the new error. */
  replayFailed: { from: ['replaying'], to: 'pending', event: 'replay-failed', by: 'writer' },
  /** The writer wrote a later change of the letter's key. */
  supersede: { from: ['pending', 'replaying'], to: 'superseded', event: 'superseded', by: 'writer' },
  /** The table was copied again: the copy holds the row as it is now. */
  copiedAgain: { from: ['pending', 'replaying'], to: 'superseded', event: 'superseded', by: 'copy' },
} as const satisfies Record<string, DeadLetterMove>;

export type DeadLetterMoveName = keyof typeof DEAD_LETTER_MOVES;

/** Waiting for an operator ('pending') or for the writer ('replaying'): the table has unfinished business. */
export const OPEN_STATUSES: readonly DeadLetterStatus[] = ['pending', 'replaying'];

/** Somebody settled them: retention may remove them once old enough. An open letter is never removed. */
export const SETTLED_STATUSES: readonly DeadLetterStatus[] = DEAD_LETTER_STATUSES.filter((status) => !OPEN_STATUSES.includes(status));

/** Whether the move may leave this status. */
export function mayMove(move: DeadLetterMoveName, status: DeadLetterStatus): boolean {
  return (DEAD_LETTER_MOVES[move].from as readonly DeadLetterStatus[]).includes(status);
}

/** Why an operator's move is refused, per current status: the 409's message. */
export const REFUSAL: Record<DeadLetterStatus, string> = {
  pending: 'it is pending',
  replaying: 'a replay of it is in progress',
  replayed: 'it was already replayed',
  discarded: 'it was discarded',
  superseded: 'a later change of the same row was written after it; replaying it would move the row back in time',
};

/** What an operator narrows dead letters by. Every field is optional; all given must match. */
export interface DeadLetterFilter {
  readonly source?: string;
  readonly schema?: string;
  readonly table?: string;
  readonly errorClass?: string;
  readonly status?: DeadLetterStatus;
  /** Created at or after. */
  readonly from?: Date;
  /** Created before. */
  readonly to?: Date;
}
