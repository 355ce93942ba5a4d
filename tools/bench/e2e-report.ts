/**
 * The end-to-end benchmark's figures and their section of docs/benchmarks.md. Pure: the run
 * measures, this formats, so the wording and the arithmetic (medians, ratios, targets) are tested
 * without a database.
 */
import { ChartInput, compactNumber } from './chart';
import { median } from './report';
import { Attributed, Freshness, movingAverage, perSecond, Rates } from './timeline';

export interface StageDrains {
  /** pg_recvlogical and wal-reader draining the throughput phase's WAL alone, changes/s. */
  readonly recvlogicalPerSecond: number;
  readonly readerPerSecond: number;
  /** iceberg-writer alone on one table of the same buffer, rows/s. */
  readonly appendPerSecond: number;
  readonly upsertPerSecond: number;
}

export interface E2eRun {
  /** The throughput phase: the workload flat out. */
  readonly throughput: Rates;
  /** The paced phase: rows/s the source actually took, and the freshness of those rows. */
  readonly pacedPerSecond: number;
  readonly freshness: Freshness;
  readonly drains: StageDrains;
  /** Peak RSS (VmHWM) over the whole run, MB. */
  readonly peakRssMb: Readonly<Record<string, number>>;
  /** Live data + delete files of the benchmark's tables per million changes, after each phase. */
  readonly filesPerMillion: { readonly throughput: number; readonly paced: number };
  readonly cores: number;
  /** Per component during the throughput phase: share of all cores' time, and CPU time per change. */
  readonly cpu: ReadonlyArray<{ readonly component: string; readonly share: number; readonly microsPerChange: number }>;
}

export interface E2eReportInput {
  readonly date: string;
  readonly machine: string;
  readonly postgres: string;
  /** Settings that differ from the defaults, as the apps got them. */
  readonly settings: Readonly<Record<string, string>>;
  readonly flushIntervalMs: number;
  readonly workload: { readonly throughputChanges: number; readonly bigTransactionRows: number; readonly pacedRate: number; readonly pacedSeconds: number };
  readonly runs: readonly E2eRun[];
  /** Other processes used a noticeable share of the CPU during the runs. */
  readonly sharedMachine: boolean;
  readonly chart: string;
}

export const E2E_TARGET_ROWS_PER_SECOND = 50_000;
const FRESHNESS_MARGIN_MS = 1000;

const rate = (n: number) => Math.round(n).toLocaleString('en-US');
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const percent = (share: number) => `${(share * 100).toFixed(0)}%`;

/** A figure as "**median**" with the runs' values after it when there are several. */
function figure(values: readonly number[], format: (n: number) => string): string {
  const m = format(median(values));
  return values.length > 1 ? `**${m}** (runs: ${values.map(format).join(', ')})` : `**${m}**`;
}

function verdict(met: boolean): string {
  return met ? 'met' : '**missed**';
}

export function formatE2eReport(input: E2eReportInput): string {
  const { runs, workload } = input;
  const pick = <T>(f: (run: E2eRun) => T) => runs.map(f);
  const e2e = median(pick((r) => r.throughput.visiblePerSecond));
  const p99 = median(pick((r) => r.freshness.p99Ms));
  const freshnessTarget = input.flushIntervalMs + FRESHNESS_MARGIN_MS;
  const ratios = pick((r) => r.drains.readerPerSecond / r.drains.recvlogicalPerSecond);
  const settings = Object.entries(input.settings);
  const apps = Object.keys(runs[0]?.peakRssMb ?? {});
  const cpuComponents = runs[0]?.cpu.map((c) => c.component) ?? [];
  const cpuOf = (run: E2eRun, component: string) => run.cpu.find((c) => c.component === component) ?? { share: 0, microsPerChange: 0 };
  // The pipeline: PostgreSQL (source and buffer) and the apps; not the benchmark's driver, nor other processes.
  const working = cpuComponents.filter((c) => !['benchmark', 'other processes', 'idle'].includes(c));
  const microsPerChange = (run: E2eRun) => working.reduce((sum, c) => sum + cpuOf(run, c).microsPerChange, 0);

  return [
    `Measured ${input.date} on ${input.machine}; PostgreSQL ${input.postgres} (embedded; fsync and synchronous commit off, as in the sections above) holding the source and the buffer databases, the warehouse a local directory, the three apps as separate processes (\`npm run bench\`, ${runs.length} run${runs.length === 1 ? '' : 's'}, medians).${input.sharedMachine ? ' **The machine was shared** with another workload during the runs (see "other processes" below), so these figures are lower bounds.' : ''}`,
    '',
    `Settings: defaults except ${settings.length === 0 ? 'none' : settings.map(([k, v]) => `\`${k}=${v}\``).join(', ')}.`,
    '',
    `Workload on the source, one session: four tables — \`bench_log\` (no key: append), \`bench_orders\`, \`bench_accounts\` and \`bench_wide\` (42 columns, about 1 kB a row) (upsert) — changed by rounds of six transactions (1,000 changes: 300 log inserts; 250 orders placed with 150 account updates in one transaction; 100 updates and 50 deletes of orders 40 rounds old; 100 wide inserts, 50 wide updates). Throughput phase: ${rate(workload.throughputChanges)} changes flat out, including one transaction of ${rate(workload.bigTransactionRows)} inserts. Paced phase: the same rounds at ${rate(workload.pacedRate)} changes/s for ${workload.pacedSeconds} s.`,
    '',
    '| figure | result | target |',
    '| --- | --- | --- |',
    `| end to end, sustained (source commit → visible in Iceberg), rows/s | ${figure(pick((r) => r.throughput.visiblePerSecond), rate)} | ≥ ${rate(E2E_TARGET_ROWS_PER_SECOND)}: ${verdict(e2e >= E2E_TARGET_ROWS_PER_SECOND)} |`,
    `| — source commit rate in that phase, rows/s | ${figure(pick((r) => r.throughput.committedPerSecond), rate)} | |`,
    `| — source → buffer, live, events/s | ${figure(pick((r) => r.throughput.bufferedPerSecond), rate)} | |`,
    `| freshness p50 at ${rate(workload.pacedRate)} rows/s | ${figure(pick((r) => r.freshness.p50Ms), seconds)} | |`,
    `| freshness p99 at ${rate(workload.pacedRate)} rows/s | ${figure(pick((r) => r.freshness.p99Ms), seconds)} | ≤ flush interval + 1 s = ${seconds(freshnessTarget)}: ${verdict(p99 <= freshnessTarget)} |`,
    `| — freshness max | ${figure(pick((r) => r.freshness.maxMs), seconds)} | |`,
    `| — rate the source took in the paced phase, rows/s | ${figure(pick((r) => r.pacedPerSecond), rate)} | |`,
    `| source → buffer drained alone, wal-reader, events/s | ${figure(pick((r) => r.drains.readerPerSecond), rate)} | |`,
    `| — pg_recvlogical on the same WAL, events/s | ${figure(pick((r) => r.drains.recvlogicalPerSecond), rate)} | |`,
    `| — wal-reader / pg_recvlogical, each run's own ratio | ${figure(ratios, percent)} | |`,
    `| buffer → Iceberg drained alone, append (\`bench_log\`), rows/s | ${figure(pick((r) => r.drains.appendPerSecond), rate)} | |`,
    `| buffer → Iceberg drained alone, upsert (\`bench_orders\`), rows/s | ${figure(pick((r) => r.drains.upsertPerSecond), rate)} | |`,
    ...apps.map((app) => `| peak RSS, ${app} | ${figure(pick((r) => r.peakRssMb[app]), (n) => `${n.toFixed(0)} MB`)} | |`),
    `| files per 1M changes: throughput phase; paced phase | ${figure(pick((r) => r.filesPerMillion.throughput), (n) => n.toFixed(0))}; ${figure(pick((r) => r.filesPerMillion.paced), (n) => n.toFixed(0))} | |`,
    '',
    "Where the CPU went in the throughput phase (medians of the runs): each process's share of all cores' time, and its CPU time per change of the phase.",
    '',
    `| | ${cpuComponents.join(' | ')} |`,
    `| --- | ${cpuComponents.map(() => '---').join(' | ')} |`,
    `| share of the cores | ${cpuComponents.map((c) => percent(median(pick((r) => cpuOf(r, c).share)))).join(' | ')} |`,
    `| µs per change | ${cpuComponents.map((c) => (['other processes', 'idle'].includes(c) ? '' : median(pick((r) => cpuOf(r, c).microsPerChange)).toFixed(1))).join(' | ')} |`,
    '',
    `PostgreSQL (source and buffer) and the three apps together spent ${figure(pick(microsPerChange), (n) => `${n.toFixed(1)} µs`)} of CPU per change: ${runs[0]?.cores ?? 0} cores carry at most ${figure(pick((r) => (r.cores * 1e6) / microsPerChange(r)), rate)} changes/s end to end at that cost, every stage perfectly overlapped and nothing else running.`,
    '',
    `![Throughput and freshness over time](${input.chart})`,
    '',
    'Method. Freshness and end-to-end times use the source commit time PostgreSQL recorded for each transaction (carried into the buffer with its events; same clock as the benchmark) and the moment the benchmark saw the catalog point at a snapshot whose `philotes.source-lsn`/`philotes.source-seq` covers the transaction\'s last change to that table (the catalog is polled every 50 ms; each row counts with its transaction\'s delay). Sustained rate: the phase\'s changes over first commit → last change visible. The drains run after the pipeline, each stage alone on the same data: pg_recvlogical and a second wal-reader on two slots created before the throughput phase, up to its end; a fresh iceberg-writer on one table of the pipeline\'s buffer. Files per 1M changes count the live data and delete files of the four tables after each phase, before any compaction.',
  ].join('\n');
}

export interface E2eChartInput {
  readonly throughput: readonly Attributed[];
  readonly paced: readonly Attributed[];
  readonly flushIntervalMs: number;
  readonly pacedRate: number;
}

/**
 * Rows per second through each stage (averaged over a flush interval, since the writer commits a
 * table about once per interval), and the freshness of each second's commits, over one run.
 */
export function e2eChart({ throughput, paced, flushIntervalMs, pacedRate }: E2eChartInput): ChartInput {
  const all = [...throughput, ...paced];
  const from = Math.min(...all.map((t) => t.commitMs));
  const to = Math.max(...all.map((t) => t.visibleMs ?? t.commitMs));
  const bins = perSecond(all, from, to + 1);
  const window = Math.max(1, Math.round(flushIntervalMs / 1000));
  const at = (ms: number) => (ms - from) / 1000;
  const span = (phase: readonly Attributed[]) => ({ from: at(Math.min(...phase.map((t) => t.commitMs))), to: at(Math.max(...phase.map((t) => t.visibleMs ?? t.commitMs))) });
  const smooth = (pick: (bin: (typeof bins)[number]) => number) => movingAverage(bins.map(pick), window);
  return {
    title: 'Philotes end to end: throughput and freshness over one run',
    x: bins.map((b) => b.second),
    xLabel: 'seconds since the first commit of the run',
    phases: [
      { label: 'throughput phase: flat out', ...span(throughput) },
      { label: `paced phase: ${compactNumber(pacedRate)} rows/s`, ...span(paced) },
    ],
    panels: [
      {
        title: `Rows per second (${window} s moving average)`,
        unit: compactNumber,
        series: [
          { label: 'committed at the source', color: '#7f7f7f', values: smooth((b) => b.committed) },
          { label: 'stored in the buffer', color: '#1f77b4', values: smooth((b) => b.buffered) },
          { label: 'visible in Iceberg', color: '#2ca02c', values: smooth((b) => b.visible) },
        ],
        target: { label: `target ${compactNumber(E2E_TARGET_ROWS_PER_SECOND)} rows/s`, value: E2E_TARGET_ROWS_PER_SECOND },
      },
      {
        title: 'Freshness of the rows committed in each second: source commit → visible in Iceberg',
        unit: (v) => `${v} s`,
        series: [
          { label: 'p50', color: '#1f77b4', values: bins.map((b) => (b.p50Ms === undefined ? undefined : b.p50Ms / 1000)) },
          { label: 'p99', color: '#ff7f0e', values: bins.map((b) => (b.p99Ms === undefined ? undefined : b.p99Ms / 1000)) },
        ],
        target: { label: 'flush interval + 1 s', value: (flushIntervalMs + FRESHNESS_MARGIN_MS) / 1000 },
      },
    ],
  };
}
