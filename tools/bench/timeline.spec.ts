import { attribute, freshness, movingAverage, perSecond, rates, TableTransaction, weightedPercentile } from './timeline';

// Pure: transactions and observations are literals; no database, no clock.

const tx = (table: string, commitLsn: bigint, lastSeq: number, rows: number, commitMs: number): TableTransaction => ({ table, commitLsn, lastSeq, rows, commitMs });

describe('weightedPercentile', () => {
  it('is the nearest-rank value of the weighted samples', () => {
    const samples = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((value) => ({ value, weight: 1 }));
    expect(weightedPercentile(samples, 0.5)).toBe(5);
    expect(weightedPercentile(samples, 0.9)).toBe(9);
    expect(weightedPercentile(samples, 0.99)).toBe(10);
    expect(weightedPercentile(samples, 1)).toBe(10);
  });

  it('counts each sample as many times as its weight', () => {
    // 99 rows waited 1 s, one row 30 s: p50 and p99 are 1 s; only the max sees the slow row.
    const samples = [
      { value: 30, weight: 1 },
      { value: 1, weight: 99 },
    ];
    expect(weightedPercentile(samples, 0.5)).toBe(1);
    expect(weightedPercentile(samples, 0.99)).toBe(1);
    expect(weightedPercentile(samples, 0.995)).toBe(30);
  });

  it('is NaN without samples', () => {
    expect(weightedPercentile([], 0.5)).toBeNaN();
  });
});

describe('attribute', () => {
  it('makes a transaction visible at the first snapshot of its table that covers its last change', () => {
    const transactions = [tx('a', 100n, 2, 3, 1000), tx('b', 100n, 4, 2, 1000), tx('a', 200n, 0, 1, 1500)];
    const snapshots = [
      { table: 'a', atMs: 2000, lsn: 100n, seq: 1 }, // part of the first transaction only
      { table: 'b', atMs: 2500, lsn: 100n, seq: 4 },
      { table: 'a', atMs: 3000, lsn: 100n, seq: 2 },
      { table: 'a', atMs: 4000, lsn: 300n, seq: 0 }, // a later transaction covers everything before it
    ];
    const result = attribute(transactions, snapshots, []);
    expect(result.map((t) => [t.table, t.commitLsn, t.visibleMs])).toEqual([
      ['a', 100n, 3000],
      ['b', 100n, 2500],
      ['a', 200n, 4000],
    ]);
  });

  it('leaves a transaction no snapshot covered without a visible time', () => {
    const [t] = attribute([tx('a', 500n, 0, 1, 1000)], [{ table: 'a', atMs: 2000, lsn: 400n, seq: 9 }], []);
    expect(t.visibleMs).toBeUndefined();
  });

  it('counts a transaction buffered once the checkpoint passes its commit position', () => {
    const checkpoints = [
      { atMs: 1100, confirmedLsn: 100n }, // the checkpoint is the end of a transaction: 100 is not past 100
      { atMs: 1200, confirmedLsn: 150n },
      { atMs: 1300, confirmedLsn: 400n },
    ];
    const result = attribute([tx('a', 100n, 0, 1, 1000), tx('a', 200n, 0, 1, 1000), tx('a', 900n, 0, 1, 1000)], [], checkpoints);
    expect(result.map((t) => t.bufferedMs)).toEqual([1200, 1300, undefined]);
  });
});

describe('freshness and rates', () => {
  const attributed = [
    { ...tx('a', 1n, 0, 100, 0), bufferedMs: 200, visibleMs: 1000 },
    { ...tx('a', 2n, 0, 100, 500), bufferedMs: 700, visibleMs: 1000 },
    { ...tx('b', 3n, 0, 200, 1000), bufferedMs: 1500, visibleMs: 4000 },
  ];

  it('weights each transaction’s delay by its rows', () => {
    expect(freshness(attributed)).toEqual({ rows: 400, p50Ms: 1000, p99Ms: 3000, maxMs: 3000 });
  });

  it('divides the phase’s rows by first commit → last commit, last buffered, last visible', () => {
    expect(rates(attributed)).toEqual({ rows: 400, committedPerSecond: 400, bufferedPerSecond: 400 / 1.5, visiblePerSecond: 100, visibleSeconds: 4 });
  });

  it('gives no rate while something is not yet visible', () => {
    expect(rates([{ ...tx('a', 1n, 0, 10, 0) }]).visiblePerSecond).toBe(0);
  });

  it('bins rows per second by the time each stage saw them, with the freshness of each second’s commits', () => {
    const bins = perSecond(attributed, 0, 4001);
    expect(bins.map((b) => [b.committed, b.buffered, b.visible])).toEqual([
      [200, 200, 0],
      [200, 200, 200],
      [0, 0, 0],
      [0, 0, 0],
      [0, 0, 200],
    ]);
    expect(bins[0]).toMatchObject({ p50Ms: 500, p99Ms: 1000 });
    expect(bins[1]).toMatchObject({ p50Ms: 3000, p99Ms: 3000 });
    expect(bins[2].p50Ms).toBeUndefined();
  });
});

describe('movingAverage', () => {
  it('averages the window ending at each point, shorter at the start', () => {
    expect(movingAverage([0, 0, 0, 0, 10, 0, 0, 0, 0, 10], 5)).toEqual([0, 0, 0, 0, 2, 2, 2, 2, 2, 2]);
    expect(movingAverage([4, 8], 1)).toEqual([4, 8]);
  });
});
