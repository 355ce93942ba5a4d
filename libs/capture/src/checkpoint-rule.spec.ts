import { Checkpoint } from '@philotes/buffer';
import { checkpointAfter, checkpointMoved } from './checkpoint-rule';

const T = 0x5000n;

describe('checkpointAfter', () => {
  const stored: Checkpoint = { confirmedLsn: 0x1000n };

  it('moves to the end of the newest whole transaction', () => {
    expect(checkpointAfter(stored, { completedEnd: 0x2000n, completedCommitTime: 7n })).toEqual({ confirmedLsn: 0x2000n, lastCommitTime: 7n });
  });

  it('records the stored part of a transaction cut mid-way, without moving past it', () => {
    const next = checkpointAfter(stored, { completedEnd: 0x2000n, open: { commitLsn: T, storedThrough: -1, lastBatchedSeq: 99 } });
    expect(next).toEqual({ confirmedLsn: 0x2000n, partial: { commitLsn: T, seq: 99 } });
  });

  it('records no part for an open transaction with nothing batched yet', () => {
    expect(checkpointAfter(stored, { completedEnd: 0x2000n, open: { commitLsn: T, storedThrough: -1, lastBatchedSeq: -1 } })).toEqual({ confirmedLsn: 0x2000n });
  });

  it('keeps the marker of a resumed transaction until it is re-delivered', () => {
    const resumed: Checkpoint = { confirmedLsn: 0x1000n, partial: { commitLsn: T, seq: 277 } };
    // Nothing received yet in this session (a timer flush): the marker must survive.
    expect(checkpointAfter(resumed, { completedEnd: 0x1000n })).toEqual(resumed);
    expect(checkpointMoved(resumed, checkpointAfter(resumed, { completedEnd: 0x1000n }))).toBe(false);
    // Re-delivered, its stored part skipped, nothing new batched: the marker stays as it was.
    expect(checkpointAfter(resumed, { completedEnd: 0x1000n, open: { commitLsn: T, storedThrough: 277, lastBatchedSeq: -1 } })).toEqual(resumed);
    // More of it batched.
    expect(checkpointAfter(resumed, { completedEnd: 0x1000n, open: { commitLsn: T, storedThrough: 277, lastBatchedSeq: 300 } }).partial).toEqual({ commitLsn: T, seq: 300 });
    // Completed: the marker goes, the position moves past it.
    expect(checkpointAfter(resumed, { completedEnd: 0x6000n })).toEqual({ confirmedLsn: 0x6000n });
  });

  it('notices a changed part as a move', () => {
    const a: Checkpoint = { confirmedLsn: 1n, partial: { commitLsn: T, seq: 1 } };
    expect(checkpointMoved(a, { confirmedLsn: 1n, partial: { commitLsn: T, seq: 2 } })).toBe(true);
    expect(checkpointMoved(a, { confirmedLsn: 1n })).toBe(true);
    expect(checkpointMoved(a, a)).toBe(false);
  });
});
