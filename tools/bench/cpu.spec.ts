import { cpuShares, parseCpuLine, parseProcStat } from './cpu';

// Pure: /proc lines and snapshots are literals.

describe('parseProcStat', () => {
  it('reads the parent and CPU times after the command name, whatever the name holds', () => {
    const line = '4242 (postgres: a (b) c) S 17 4242 4242 0 -1 4194560 900 0 0 0 250 50 1200 300 20 0 1 0 100 0 0';
    expect(parseProcStat(line)).toEqual({ ppid: 17, ownSeconds: 3, reapedChildrenSeconds: 15 });
  });
});

describe('parseCpuLine', () => {
  it('counts idle and iowait as not busy', () => {
    // user nice system idle iowait irq softirq steal guest guest_nice
    expect(parseCpuLine('cpu  600 0 200 1000 100 0 100 0 0 0')).toEqual({ busySeconds: 9, totalSeconds: 20 });
  });
});

describe('cpuShares', () => {
  it('gives each component its share of all cores over the interval, the rest to other processes and idle', () => {
    const before = { atMs: 0, machineBusySeconds: 100, byComponent: { 'wal-reader': 1, postgres: 10, benchmark: 0 } };
    const after = { atMs: 10_000, machineBusySeconds: 118, byComponent: { 'wal-reader': 6, postgres: 18, benchmark: 1 } };
    expect(cpuShares(before, after, 2)).toEqual({
      wallSeconds: 10,
      cores: 2,
      shares: [
        { component: 'wal-reader', share: 0.25 },
        { component: 'postgres', share: 0.4 },
        { component: 'benchmark', share: 0.05 },
        { component: 'other processes', share: expect.closeTo(0.2, 10) },
        { component: 'idle', share: expect.closeTo(0.1, 10) },
      ],
    });
  });
});
