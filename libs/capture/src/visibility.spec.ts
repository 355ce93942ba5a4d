import { CopyVisibility } from './visibility';

const E = 2 ** 32;

describe('CopyVisibility', () => {
  const xmin = 5 * E + 100;
  const snapshot = { lsn: 1_000n, xmin: BigInt(xmin), xmax: BigInt(xmin + 10), xip: [BigInt(xmin + 3)] };
  const visibility = new CopyVisibility(snapshot);

  it.each<[string, bigint, number, boolean]>([
    ['committed before the snapshot', 999n, xmin - 1, true],
    ['between xmin and xmax, not running', 999n, xmin + 2, true],
    ['running when the snapshot was taken', 999n, xmin + 3, false],
    ['begun after the snapshot', 999n, xmin + 10, false],
    ['committed at or after the snapshot position', 1_000n, xmin - 1, false],
    // Modulo 2^32 this one looks like a transaction from the future: 64-bit xids tell it is old.
    ['more than 2^31 transactions older', 10n, xmin - 2 ** 31 - 5, true],
    ['an epoch older, same low bits as a running one', 10n, xmin + 3 - E, true],
  ])('%s', (_case, lsn, xid, contained) => {
    expect(visibility.contains(lsn, xid)).toBe(contained);
  });
});
