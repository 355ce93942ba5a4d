/**
 * A copy's events take the position of the stream's start LSN with negative sequence numbers, so
 * they sort before any streamed transaction — even one whose commit record starts exactly at that
 * LSN. First a TRUNCATE (the copy replaces what the table held), then the rows. The first is a
 * safe integer: positions travel as JS numbers (and JSON), where -(2^53) is not safe, and a writer
 * whose commit ended on it refused every later read.
 */
export const COPY_SEQ_BASE = Number.MIN_SAFE_INTEGER + 1;

/** The copy's opening TRUNCATE: where a writer knows a copy starts and that it replaces the table. */
export const COPY_MARKER_SEQ = COPY_SEQ_BASE;

/** The position of the copy's n-th row (from 0). */
export function copyRowSeq(n: number): number {
  return COPY_SEQ_BASE + 1 + n;
}

/** Where a writer stands before a copy at `copyLsn`: its next event is the copy's TRUNCATE. */
export const BEFORE_COPY_SEQ = COPY_SEQ_BASE - 1;
