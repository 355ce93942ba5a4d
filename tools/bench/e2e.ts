/**
 * `npm run bench`: the whole pipeline on this machine, in one command. Each run starts the local
 * stack (one embedded PostgreSQL with the source and buffer databases, the three built apps as
 * separate processes), then:
 *
 * 1. throughput: the mixed workload flat out (with one large transaction), until all of it is
 *    visible in Iceberg;
 * 2. paced: the same workload at a fixed moderate rate, for the freshness percentiles;
 * 3. drains, with the apps stopped: pg_recvlogical and a second reader on the throughput phase's WAL
 *    (two slots created before it), and a fresh writer on one append and one upsert table of the
 *    pipeline's buffer.
 *
 * Writes the end-to-end section of docs/benchmarks.md and docs/bench-e2e.svg. Knobs: BENCH_RUNS,
 * BENCH_ROWS (changes in the throughput phase), BENCH_BIG_ROWS, BENCH_RATE, BENCH_PACED_SECONDS;
 * PHILOTES_* variables go to the apps (and into the report). BENCH_PROFILE=<dir> writes each app's
 * CPU profile.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { checkpointsReached, eventsInRange, lastEventsBefore, tableTransactions } from '@philotes/buffer';
import { loadSettings } from '@philotes/config';
import { freePort } from '@philotes/embedded-pg';
import { createObjectStore, IcebergTables, SqlCatalog } from '@philotes/iceberg';
import { parseLsn } from '@philotes/pgoutput';
import { renderChart } from './chart';
import { cpuShares, cpuSnapshot, CpuSnapshot, postmasterPid } from './cpu';
import { BenchApp, drainWithReader, drainWithRecvlogical, drainWithWriter, startBenchApp, until } from './drains';
import { E2eRun, e2eChart, formatE2eReport } from './e2e-report';
import { machineDescription, median, peakRssKb, replaceSection, serverVersion } from './report';
import { attribute, Attributed, freshness, rates, TableTransaction } from './timeline';
import { CatalogWatch } from './watch';
import { createWorkloadTables, MixedWorkload, ROUND_CHANGES, WORKLOAD_TABLES } from './workload';
import { APPS, ROOT, StackApp, startEmbeddedDatabases, stopApps } from '../dev/local-stack';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const BIG_ROWS = Math.min(ROWS, Number(process.env.BENCH_BIG_ROWS ?? 200_000));
const PACED_RATE = Number(process.env.BENCH_RATE ?? 5_000);
const PACED_SECONDS = Number(process.env.BENCH_PACED_SECONDS ?? 60);
const ROUNDS = Math.max(1, Math.round((ROWS - BIG_ROWS) / ROUND_CHANGES));
const CATCH_UP_TIMEOUT_MS = 30 * 60_000;

/**
 * Settings the figures are measured with, beyond the defaults (README "Performance" quotes them);
 * PHILOTES_* variables of the environment win. Connection and listen settings are added per run.
 *
 * None today: backpressure weighs bytes, and its default watermarks (256 MB / 128 MB of unapplied
 * payload) let a commit's worth (500,000 rows or 64 MB of Parquet) wait, so the figures are those
 * of the defaults. (Until 2026-12 the watermarks counted events, 8,000 / 5,000, and the benchmark
 * raised them to 1,000,000 / 500,000.)
 */
const BENCH_SETTINGS: Readonly<Record<string, string>> = {};

/** Where each app listens, and the variable that says so. */
const LISTEN_VARIABLE: Record<StackApp, string> = {
  'wal-reader': 'PHILOTES_HEALTH_LISTEN_ADDR',
  'iceberg-writer': 'PHILOTES_HEALTH_LISTEN_ADDR',
  'dlq-admin': 'PHILOTES_ADMIN_LISTEN_ADDR',
};

/** Variables each run sets itself: where things are, not how the apps behave. */
const PLUMBING = new Set(['PHILOTES_DATABASE_URL', 'PHILOTES_CDC_SOURCE_URL', 'PHILOTES_ICEBERG_WAREHOUSE', 'PHILOTES_ADMIN_TOKEN', ...Object.values(LISTEN_VARIABLE)]);

function appSettings(): Record<string, string> {
  const fromEnvironment = Object.entries(process.env).filter(
    (entry): entry is [string, string] => entry[0].startsWith('PHILOTES_') && !PLUMBING.has(entry[0]) && entry[1] !== undefined && entry[1] !== '',
  );
  return { ...BENCH_SETTINGS, ...Object.fromEntries(fromEnvironment) };
}

interface Phase {
  readonly fromLsn: bigint;
  readonly toLsn: bigint;
}

interface RunResult {
  readonly run: E2eRun;
  readonly transactions: { readonly throughput: Attributed[]; readonly paced: Attributed[] };
  readonly otherShare: number;
  readonly postgres: string;
}

async function currentLsn(source: Client): Promise<bigint> {
  return parseLsn((await source.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn')).rows[0].lsn);
}

/** Each source transaction's changes per table in the phase, with PostgreSQL's commit time. */
async function transactionsOf(buffer: Client, phase: Phase): Promise<TableTransaction[]> {
  const transactions = await tableTransactions(buffer, WORKLOAD_TABLES, phase.fromLsn, phase.toLsn);
  return transactions.map((t) => ({ ...t, commitLsn: parseLsn(t.commitLsn), lastSeq: Number(t.lastSeq) }));
}

/** Waits until the reader stored everything before `lsn` and every table's current snapshot covers its part of it. */
async function allVisible(buffer: Client, watch: CatalogWatch, lsn: bigint): Promise<void> {
  await until(
    () => checkpointsReached(buffer, lsn),
    () => 'the reader to store the phase',
    CATCH_UP_TIMEOUT_MS,
  );
  const last = await lastEventsBefore(buffer, lsn, WORKLOAD_TABLES);
  await until(
    () =>
      last.every(({ table, commitLsn, seq }) => {
        const seen = watch.latest(table);
        const position = parseLsn(commitLsn);
        return seen !== undefined && (seen.lsn > position || (seen.lsn === position && seen.seq >= Number(seq)));
      }),
    () => 'every table to be visible in Iceberg',
    CATCH_UP_TIMEOUT_MS,
  );
}

/** Live data and delete files of the workload's tables. */
async function liveFileCount(buffer: Client, warehouse: string): Promise<number> {
  const tables = new IcebergTables(createObjectStore(warehouse, { region: 'us-east-1', forcePathStyle: true }), new SqlCatalog('philotes', buffer));
  let files = 0;
  for (const name of WORKLOAD_TABLES) {
    const loaded = await tables.load({ namespace: 'public', name });
    if (!loaded) continue;
    const live = await tables.liveFiles(loaded.metadata);
    files += live.data.length + live.deletes.length;
  }
  return files;
}

async function waitReady(apps: readonly BenchApp[], ports: Record<StackApp, number>): Promise<void> {
  for (const app of apps) {
    await until(
      async () => {
        if (app.child.exitCode !== null) throw new Error(`${app.app} exited:\n${app.output().slice(-2000)}`);
        return (await fetch(`http://127.0.0.1:${ports[app.app]}/health/ready`).catch(() => undefined))?.status === 200;
      },
      () => `${app.app} to be ready:\n${app.output().slice(-2000)}`,
      120_000,
    );
  }
}

async function runOnce(index: number, settings: Readonly<Record<string, string>>): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'philotes-bench-e2e-'));
  const warehouse = join(dir, 'warehouse');
  const port = await freePort();
  const { server, sourceUrl, bufferUrl } = await startEmbeddedDatabases(join(dir, 'pg'), port, true);
  // The server runs in its own process group: an interrupted benchmark stops it before leaving.
  const interrupted = () => void server.stop().finally(() => process.exit(130));
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  const source = new Client({ connectionString: sourceUrl });
  const buffer = new Client({ connectionString: bufferUrl });
  let apps: BenchApp[] = [];
  try {
    await source.connect();
    await buffer.connect();
    await createWorkloadTables(source);
    const ports = Object.fromEntries(await Promise.all(APPS.map(async (app) => [app, await freePort()] as const))) as Record<StackApp, number>;
    const common = { ...settings, PHILOTES_DATABASE_URL: bufferUrl, PHILOTES_CDC_SOURCE_URL: sourceUrl, PHILOTES_ICEBERG_WAREHOUSE: warehouse };
    apps = APPS.map((app) =>
      startBenchApp(app, {
        ...common,
        [LISTEN_VARIABLE[app]]: `127.0.0.1:${ports[app]}`,
        ...(app === 'dlq-admin' ? { PHILOTES_ADMIN_TOKEN: randomBytes(24).toString('hex') } : {}),
      }),
    );
    await waitReady(apps, ports);
    const watch = new CatalogWatch(buffer, warehouse, WORKLOAD_TABLES);
    watch.start();
    // The seeded accounts, copied by the reader, visible: the pipeline is through its start-up.
    await until(() => watch.latest('bench_accounts') !== undefined, () => 'the initial copy to be visible', 120_000);

    // Two slots that see exactly the throughput phase's WAL, drained alone afterwards.
    for (const slot of ['bench_recv', 'bench_reader']) await source.query("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [slot]);
    const slotsFrom = await currentLsn(source);

    const pids = Object.fromEntries(apps.map((a) => [a.app, a.child.pid!]));
    const postmaster = postmasterPid(port);
    const workload = new MixedWorkload(source);
    console.log(`run ${index + 1}: throughput phase, ${(ROUNDS * ROUND_CHANGES + BIG_ROWS).toLocaleString()} changes ...`);
    const cpuBefore: CpuSnapshot = cpuSnapshot(pids, postmaster);
    const throughputPhase = { fromLsn: await currentLsn(source), toLsn: 0n };
    await workload.flatOut(Math.floor(ROUNDS / 2));
    await workload.bigTransaction(BIG_ROWS);
    await workload.flatOut(ROUNDS - Math.floor(ROUNDS / 2));
    const throughputEnd = await currentLsn(source);
    await allVisible(buffer, watch, throughputEnd);
    const cpu = cpuShares(cpuBefore, cpuSnapshot(pids, postmaster));
    const filesAfterThroughput = await liveFileCount(buffer, warehouse);

    console.log(`run ${index + 1}: paced phase, ${PACED_RATE.toLocaleString()} changes/s for ${PACED_SECONDS} s ...`);
    const pacedFrom = await currentLsn(source);
    const pacedStarted = Date.now();
    await workload.paced(PACED_RATE, PACED_SECONDS);
    const pacedSeconds = (Date.now() - pacedStarted) / 1000;
    const pacedEnd = await currentLsn(source);
    await allVisible(buffer, watch, pacedEnd);
    const filesAfterPaced = await liveFileCount(buffer, warehouse);
    await watch.stop();

    const peakRssMb = Object.fromEntries(apps.map((a) => [a.app, peakRssKb(a.child.pid!) / 1024]));
    await stopApps(apps);

    const throughput = attribute(await transactionsOf(buffer, { ...throughputPhase, toLsn: throughputEnd }), watch.snapshots, watch.checkpoints);
    const paced = attribute(await transactionsOf(buffer, { fromLsn: pacedFrom, toLsn: pacedEnd }), watch.snapshots, watch.checkpoints);
    const throughputRates = rates(throughput);
    const pacedRows = paced.reduce((sum, t) => sum + t.rows, 0);

    console.log(`run ${index + 1}: drains (each stage alone) ...`);
    const events = await eventsInRange(buffer, slotsFrom, throughputEnd);
    const recvSeconds = await drainWithRecvlogical(sourceUrl, 'bench_recv', 'philotes_pub', throughputEnd);
    const reader = await drainWithReader(server, { sourceUrl, slot: 'bench_reader', publication: 'philotes_pub', endLsn: throughputEnd, bufferDatabase: 'bench_drain_buffer' });
    const append = await drainWithWriter(bufferUrl, 'bench_log', 'append');
    const upsert = await drainWithWriter(bufferUrl, 'bench_orders', 'upsert');

    const run: E2eRun = {
      throughput: throughputRates,
      pacedPerSecond: pacedRows / pacedSeconds,
      freshness: freshness(paced),
      drains: {
        recvlogicalPerSecond: events / recvSeconds,
        readerPerSecond: events / reader.seconds,
        appendPerSecond: append.events / append.seconds,
        upsertPerSecond: upsert.events / upsert.seconds,
      },
      peakRssMb,
      filesPerMillion: {
        throughput: (filesAfterThroughput / throughputRates.rows) * 1e6,
        paced: ((filesAfterPaced - filesAfterThroughput) / pacedRows) * 1e6,
      },
      cpu: cpu.shares.map((s) => ({ ...s, microsPerChange: (s.share * cpu.cores * cpu.wallSeconds * 1e6) / throughputRates.rows })),
      cores: cpu.cores,
    };
    console.log(
      `run ${index + 1}: end to end ${run.throughput.visiblePerSecond.toFixed(0)} rows/s (source ${run.throughput.committedPerSecond.toFixed(0)}, buffer ${run.throughput.bufferedPerSecond.toFixed(0)}); ` +
        `freshness p50 ${(run.freshness.p50Ms / 1000).toFixed(2)} s p99 ${(run.freshness.p99Ms / 1000).toFixed(2)} s at ${run.pacedPerSecond.toFixed(0)} rows/s; ` +
        `drains: reader ${run.drains.readerPerSecond.toFixed(0)} / pg_recvlogical ${run.drains.recvlogicalPerSecond.toFixed(0)} events/s, writer append ${run.drains.appendPerSecond.toFixed(0)}, upsert ${run.drains.upsertPerSecond.toFixed(0)} rows/s; ` +
        `CPU ${cpu.shares.map((s) => `${s.component} ${(s.share * 100).toFixed(0)}%`).join(', ')}`,
    );
    return { run, transactions: { throughput, paced }, otherShare: cpu.shares.find((s) => s.component === 'other processes')?.share ?? 0, postgres: await serverVersion(server) };
  } catch (error) {
    for (const app of apps) console.error(`--- ${app.app} (last output)\n${app.output().slice(-3000)}`);
    throw error;
  } finally {
    await stopApps(apps);
    await source.end().catch(() => undefined);
    await buffer.end().catch(() => undefined);
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const settings = appSettings();
  const { flushIntervalMs } = loadSettings(settings).settings;
  const results: RunResult[] = [];
  for (let i = 0; i < RUNS; i++) results.push(await runOnce(i, settings));

  // The chart shows the run whose end-to-end rate is the median one.
  const e2eRates = results.map((r) => r.run.throughput.visiblePerSecond);
  const shown = results[e2eRates.indexOf([...e2eRates].sort((a, b) => a - b)[Math.floor((e2eRates.length - 1) / 2)])];
  writeFileSync(join(ROOT, 'docs', 'bench-e2e.svg'), renderChart(e2eChart({ ...shown.transactions, flushIntervalMs, pacedRate: PACED_RATE })));

  const report = formatE2eReport({
    date: new Date().toISOString().slice(0, 10),
    machine: machineDescription(),
    postgres: results[0].postgres,
    settings,
    flushIntervalMs,
    workload: { throughputChanges: ROUNDS * ROUND_CHANGES + BIG_ROWS, bigTransactionRows: BIG_ROWS, pacedRate: PACED_RATE, pacedSeconds: PACED_SECONDS },
    runs: results.map((r) => r.run),
    sharedMachine: median(results.map((r) => r.otherShare)) > 0.05,
    chart: 'bench-e2e.svg',
  });
  console.log(`\n${report}`);
  replaceSection(join(ROOT, 'docs', 'benchmarks.md'), 'e2e', '## End to end: source → Iceberg', report);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
