import { Checkpoint } from '@philotes/buffer';

/** What the reader has received, at the moment a batch is cut. */
export interface StreamPosition {
  /** End of the newest whole transaction received. */
  readonly completedEnd: bigint;
  readonly completedCommitTime?: bigint;
  /** The transaction being received, if any. */
  readonly open?: {
    readonly commitLsn: bigint;
    /** Positions an earlier session stored (the resumed part), -1 if none. */
    readonly storedThrough: number;
    /** The last position of it placed in a batch in this session, -1 if none. */
    readonly lastBatchedSeq: number;
  };
}

/**
 * The checkpoint that is true once a batch cut at `position` is stored, given the one stored now.
 *
 * - Whole transactions: everything up to the end of the newest one received.
 * - A transaction received in part: its stored part, so a re-delivery skips it.
 * - A transaction stored in part by an earlier session and not yet re-delivered: its marker stays
 *   until the transaction completes. (Dropping it early re-emits the stored part after the next
 *   crash: a duplicate.)
 */
export function checkpointAfter(stored: Checkpoint, position: StreamPosition): Checkpoint {
  const time = position.completedCommitTime ?? stored.lastCommitTime;
  const base = { confirmedLsn: position.completedEnd, ...(time !== undefined ? { lastCommitTime: time } : {}) };
  const open = position.open;
  if (open) {
    const storedThrough = Math.max(open.storedThrough, open.lastBatchedSeq);
    return storedThrough >= 0 ? { ...base, partial: { commitLsn: open.commitLsn, seq: storedThrough } } : base;
  }
  const resumedNotYetSeen = stored.partial && position.completedEnd === stored.confirmedLsn;
  return resumedNotYetSeen ? { ...base, partial: stored.partial } : base;
}

/** Whether storing `next` changes anything compared with `stored`. */
export function checkpointMoved(stored: Checkpoint, next: Checkpoint): boolean {
  return (
    next.confirmedLsn !== stored.confirmedLsn ||
    next.partial?.commitLsn !== stored.partial?.commitLsn ||
    next.partial?.seq !== stored.partial?.seq
  );
}
