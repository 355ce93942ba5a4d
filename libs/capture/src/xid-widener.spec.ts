import { XidWidener } from './xid-widener';

const EPOCH = 2 ** 32;

describe('XidWidener', () => {
  it('keeps epoch 0 xids as they are', () => {
    const xids = new XidWidener(1_000);
    expect([990, 1_000, 1_005, 3].map((x) => xids.widen(x))).toEqual([990, 1_000, 1_005, 3]);
  });

  it('adds the epoch, across the wrap in both directions', () => {
    // Next xid just past a wrap into epoch 5: an older transaction still has epoch 4's low ids.
    const xids = new XidWidener(5 * EPOCH + 10);
    expect(xids.widen(EPOCH - 20)).toBe(5 * EPOCH - 20);
    expect(xids.widen(12)).toBe(5 * EPOCH + 12);
    expect(xids.widen(EPOCH - 1)).toBe(5 * EPOCH - 1);
  });

  it('follows a stream that wraps while it runs', () => {
    const xids = new XidWidener(7 * EPOCH + (EPOCH - 3_000_000_000));
    let last = 0;
    // Three billion transactions in steps of a hundred million: past 2^32, through a wrap.
    for (let i = 0; i <= 30; i++) {
      const full = xids.widen((EPOCH - 3_000_000_000 + i * 100_000_000) % EPOCH);
      expect(full).toBe(7 * EPOCH + (EPOCH - 3_000_000_000) + i * 100_000_000);
      expect(full).toBeGreaterThan(last);
      last = full;
    }
  });
});
