import { E2eReportInput, E2eRun, e2eChart, formatE2eReport } from './e2e-report';
import { Attributed } from './timeline';

// Pure: runs are literals; checks the medians, the same-run ratio, the verdicts and the wording.

function run(e2e: number, p99Ms: number, reader: number, recv: number): E2eRun {
  return {
    throughput: { rows: 1_000_000, committedPerSecond: 90_000, bufferedPerSecond: 70_000, visiblePerSecond: e2e, visibleSeconds: 1_000_000 / e2e },
    pacedPerSecond: 4_999,
    freshness: { rows: 300_000, p50Ms: 3_000, p99Ms, maxMs: p99Ms + 500 },
    drains: { recvlogicalPerSecond: recv, readerPerSecond: reader, appendPerSecond: 100_000, upsertPerSecond: 80_000 },
    peakRssMb: { 'wal-reader': 200, 'iceberg-writer': 700, 'dlq-admin': 120 },
    filesPerMillion: { throughput: 12, paced: 400 },
    cores: 2,
    cpu: [
      { component: 'wal-reader', share: 0.3, microsPerChange: 12 },
      { component: 'postgres', share: 0.4, microsPerChange: 16 },
      { component: 'benchmark', share: 0.05, microsPerChange: 2 },
      { component: 'other processes', share: 0.02, microsPerChange: 0.8 },
    ],
  };
}

const input = (runs: E2eRun[], settings: Record<string, string> = {}): E2eReportInput => ({
  date: '2026-11-21',
  machine: '2 × test CPU',
  postgres: '17.10',
  settings,
  flushIntervalMs: 5_000,
  workload: { throughputChanges: 1_000_000, bigTransactionRows: 200_000, pacedRate: 5_000, pacedSeconds: 60 },
  runs,
  sharedMachine: false,
  chart: 'bench-e2e.svg',
});

describe('formatE2eReport', () => {
  it('quotes the median of the runs with each run after it, and says whether each target was met', () => {
    const report = formatE2eReport(input([run(40_000, 5_500, 60_000, 100_000), run(55_000, 5_800, 70_000, 100_000), run(52_000, 7_000, 80_000, 100_000)]));
    expect(report).toContain('| end to end, sustained (source commit → visible in Iceberg), rows/s | **52,000** (runs: 40,000, 55,000, 52,000) | ≥ 50,000: met |');
    expect(report).toContain('| freshness p99 at 5,000 rows/s | **5.80 s** (runs: 5.50 s, 5.80 s, 7.00 s) | ≤ flush interval + 1 s = 6.00 s: met |');
    expect(report).toContain('3 runs, medians');
  });

  it('takes the reader/pg_recvlogical ratio within each run, then the median of those ratios', () => {
    // Per-run ratios 90%, 50%, 60% → 60%; the ratio of the medians would say 70%.
    const report = formatE2eReport(input([run(1, 1, 90_000, 100_000), run(1, 1, 60_000, 120_000), run(1, 1, 70_000, 116_667)]));
    expect(report).toContain("| — wal-reader / pg_recvlogical, each run's own ratio | **60%** (runs: 90%, 50%, 60%) | |");
  });

  it('marks a missed target and a shared machine', () => {
    const report = formatE2eReport({ ...input([run(30_000, 9_000, 1, 1)]), sharedMachine: true });
    expect(report).toContain('≥ 50,000: **missed**');
    expect(report).toContain('6.00 s: **missed**');
    expect(report).toContain('**The machine was shared**');
    expect(report).toContain('1 run, medians');
    expect(report).not.toContain('(runs:');
  });

  it('names the settings that differ from the defaults, and each app’s peak RSS and the CPU shares', () => {
    const report = formatE2eReport(input([run(1, 1, 1, 1)], { PHILOTES_BACKPRESSURE_HIGH_WATERMARK: '1000000' }));
    expect(report).toContain('Settings: defaults except `PHILOTES_BACKPRESSURE_HIGH_WATERMARK=1000000`.');
    expect(report).toContain('| peak RSS, iceberg-writer | **700 MB** | |');
    expect(report).toContain('| | wal-reader | postgres | benchmark | other processes |');
    expect(report).toContain('| share of the cores | 30% | 40% | 5% | 2% |');
    expect(report).toContain('| µs per change | 12.0 | 16.0 | 2.0 |  |');
    // The pipeline's cost leaves out the benchmark's own driver: 28 µs → 2 cores carry 71,429 changes/s.
    expect(report).toContain('together spent **28.0 µs** of CPU per change: 2 cores carry at most **71,429** changes/s');
    expect(report).toContain('![Throughput and freshness over time](bench-e2e.svg)');
  });
});

describe('e2eChart', () => {
  const t = (commitMs: number, visibleMs: number, rows: number): Attributed => ({ table: 'a', commitLsn: BigInt(commitMs), lastSeq: 0, rows, commitMs, bufferedMs: commitMs + 100, visibleMs });

  it('puts both phases on one time axis from the first commit, one point per second', () => {
    const chart = e2eChart({ throughput: [t(10_000, 14_000, 5_000), t(10_500, 14_000, 5_000)], paced: [t(20_000, 23_000, 100), t(25_000, 27_000, 100)], flushIntervalMs: 5_000, pacedRate: 5_000 });
    expect(chart.x).toEqual(Array.from({ length: 18 }, (_, i) => i));
    expect(chart.phases).toEqual([
      { label: 'throughput phase: flat out', from: 0, to: 4 },
      { label: 'paced phase: 5k rows/s', from: 10, to: 17 },
    ]);
    const [rowsPanel, freshnessPanel] = chart.panels;
    expect(rowsPanel.series.map((s) => s.values.length)).toEqual([18, 18, 18]);
    expect(rowsPanel.series[2].values[4]).toBe(10_000 / 5); // 10k rows visible in second 4, over a 5 s window
    expect(freshnessPanel.series[1].values[0]).toBe(4);
    expect(freshnessPanel.series[1].values[1]).toBeUndefined();
    expect(freshnessPanel.target?.value).toBe(6);
  });
});
