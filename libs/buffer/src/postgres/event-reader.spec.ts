import { BEFORE_FIRST, comparePositions, isExactSeq } from '../event-forms';
import { COPY_SEQ_BASE } from '../copy-positions';

describe('buffer positions', () => {
  it('accepts every sequence number a double holds exactly, the legacy first copied row included', () => {
    expect([0, 1, -1, COPY_SEQ_BASE, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, -(2 ** 53), 2 ** 53].every(isExactSeq)).toBe(true);
    expect([-(2 ** 53) - 2, 2 ** 53 + 2, 0.5, NaN, Infinity].some(isExactSeq)).toBe(false);
  });

  it('gives the first copied row a safe position that sorts after BEFORE_FIRST and before streamed events', () => {
    expect(Number.isSafeInteger(COPY_SEQ_BASE)).toBe(true);
    const firstCopied = { lsn: 100n, seq: COPY_SEQ_BASE };
    expect(comparePositions(BEFORE_FIRST, firstCopied)).toBeLessThan(0);
    expect(comparePositions(firstCopied, { lsn: 100n, seq: 0 })).toBeLessThan(0);
    expect(comparePositions(firstCopied, { lsn: 100n, seq: COPY_SEQ_BASE + 1 })).toBeLessThan(0);
  });
});
