/**
 * `npm run bench:writer`: how fast the iceberg-writer turns buffered events into committed Iceberg
 * snapshots, in append and in upsert mode; the files a million rows become; the writer's peak RSS.
 *
 * Method: the built wal-reader first fills one buffer from a source workload (so the events are
 * exactly what production stores), then each run starts a fresh writer process on one table (the
 * other paused), with a fresh warehouse and no progress, and times it from taking the table to
 * the commit that moves its position past the last event. Upkeep is off, so the files counted are
 * the ones the commits made. Reported: medians of the runs.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { applyMigrations } from '../libs/db/src';
import { EmbeddedPostgres, freePort } from '../libs/embedded-pg/src';
import { createObjectStore, IcebergTables, SqlCatalog } from '../libs/iceberg/src';
import { machineDescription, median, peakRssKb, replaceSection } from './bench-report';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const PER_TRANSACTION = 1_000;
const ROOT = join(__dirname, '..');

interface WriterRun {
  readonly seconds: number;
  readonly peakRssMb: number;
  readonly dataFiles: number;
  readonly deleteFiles: number;
  readonly commits: number;
}

/** Append: ROWS inserts. Upsert: 60% inserts, then 30% updates and 10% deletes of those rows. */
async function workloads(source: Client): Promise<void> {
  for (let from = 1; from <= ROWS; from += PER_TRANSACTION) {
    await source.query("INSERT INTO bench_log SELECT g, g % 1000, 'row ' || g, now(), g * 0.01 FROM generate_series($1::bigint, $2::bigint) g", [from, from + PER_TRANSACTION - 1]);
  }
  const inserts = ROWS * 0.6;
  for (let from = 1; from <= inserts; from += PER_TRANSACTION) {
    await source.query("INSERT INTO bench SELECT g, g % 1000, 'row ' || g, now(), g * 0.01 FROM generate_series($1::bigint, $2::bigint) g", [from, from + PER_TRANSACTION - 1]);
  }
  for (let from = 1; from <= ROWS * 0.3; from += PER_TRANSACTION) {
    await source.query("UPDATE bench SET a = a + 1, b = 'updated' WHERE id BETWEEN $1 AND $2", [from, from + PER_TRANSACTION - 1]);
  }
  for (let from = inserts - ROWS * 0.1 + 1; from <= inserts; from += PER_TRANSACTION) {
    await source.query('DELETE FROM bench WHERE id BETWEEN $1 AND $2', [from, from + PER_TRANSACTION - 1]);
  }
}

async function fillBuffer(server: EmbeddedPostgres): Promise<void> {
  const source = new Client({ connectionString: server.url('bench_source') });
  await source.connect();
  await source.query('CREATE TABLE bench (id bigint PRIMARY KEY, a int NOT NULL, b text, c timestamptz, d numeric(12,2))');
  await source.query('CREATE TABLE bench_log (id bigint PRIMARY KEY, a int NOT NULL, b text, c timestamptz, d numeric(12,2))');
  const reader = spawn(process.execPath, [join(ROOT, 'dist', 'apps', 'wal-reader', 'main.js')], {
    env: {
      PATH: process.env.PATH,
      PHILOTES_DATABASE_URL: server.url('bench_buffer'),
      PHILOTES_CDC_SOURCE_URL: server.url('bench_source'),
      PHILOTES_HEALTH_LISTEN_ADDR: `127.0.0.1:${await freePort()}`,
      PHILOTES_BACKPRESSURE_ENABLED: 'false',
      PHILOTES_LOG_FORMAT: 'json',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  reader.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  reader.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  try {
    await until(() => output.includes('"message":"streaming"'), () => `the reader to stream:\n${output.slice(-2000)}`);
    await workloads(source);
    const [{ lsn }] = (await source.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn')).rows;
    const buffer = new Client({ connectionString: server.url('bench_buffer') });
    await buffer.connect();
    await until(async () => (await buffer.query<{ ok: boolean }>('SELECT confirmed_lsn >= $1::pg_lsn AS ok FROM cdc_checkpoints', [lsn])).rows[0]?.ok === true, () => 'the reader to catch up');
    await buffer.end();
  } finally {
    reader.kill('SIGTERM');
    await new Promise((resolve) => reader.once('exit', resolve));
    await source.end();
  }
}

async function runWriter(server: EmbeddedPostgres, table: string, mode: 'append' | 'upsert'): Promise<WriterRun> {
  const buffer = new Client({ connectionString: server.url('bench_buffer') });
  await buffer.connect();
  await buffer.query('DELETE FROM cdc_writer_progress; DELETE FROM iceberg_tables; DELETE FROM pipeline_controls');
  await buffer.query("INSERT INTO pipeline_controls (source_id, table_id, paused) SELECT source_id, table_id, true FROM cdc_tables WHERE table_name <> $1", [table]);
  const [{ lsn, seq }] = (
    await buffer.query<{ lsn: string; seq: string }>(
      'SELECT e.commit_lsn::text AS lsn, e.seq::text AS seq FROM cdc_events e JOIN cdc_tables t USING (table_id) WHERE t.table_name = $1 ORDER BY e.commit_lsn DESC, e.seq DESC LIMIT 1',
      [table],
    )
  ).rows;
  const warehouse = mkdtempSync(join(tmpdir(), 'philotes-bench-warehouse-'));
  const nodeArgs = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const writer = spawn(process.execPath, [...nodeArgs, join(ROOT, 'dist', 'apps', 'iceberg-writer', 'main.js')], {
    env: {
      PATH: process.env.PATH,
      ...(process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {}),
      PHILOTES_DATABASE_URL: server.url('bench_buffer'),
      PHILOTES_ICEBERG_WAREHOUSE: warehouse,
      PHILOTES_ICEBERG_MODE: mode,
      PHILOTES_ICEBERG_MAINTENANCE_INTERVAL: '24h',
      PHILOTES_HEALTH_LISTEN_ADDR: `127.0.0.1:${await freePort()}`,
      PHILOTES_LOG_FORMAT: 'json',
      PHILOTES_LOG_LEVEL: 'debug',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  writer.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  writer.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let started: bigint | undefined;
  let peakKb = 0;
  try {
    for (;;) {
      if (writer.exitCode !== null) throw new Error(`the writer exited:\n${output.slice(-2000)}`);
      if (started === undefined && output.includes('"message":"took the table"')) started = process.hrtime.bigint();
      peakKb = Math.max(peakKb, peakRssKb(writer.pid!));
      const { rows } = await buffer.query<{ done: boolean }>(
        'SELECT (applied_lsn, applied_seq) >= ($1::pg_lsn, $2::bigint) AS done FROM cdc_writer_progress p JOIN cdc_tables t USING (table_id) WHERE t.table_name = $3',
        [lsn, seq, table],
      );
      if (started !== undefined && rows[0]?.done) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const seconds = Number(process.hrtime.bigint() - started!) / 1e9;
    peakKb = Math.max(peakKb, peakRssKb(writer.pid!));
    const tables = new IcebergTables(createObjectStore(warehouse, { region: 'us-east-1', forcePathStyle: true }), new SqlCatalog('philotes'));
    const loaded = await tables.load(buffer, { namespace: 'public', name: table });
    const live = await tables.liveFiles(loaded!.metadata);
    const commits = output.split('\n').filter((line) => line.includes('"message":"committed"')).length;
    return { seconds, peakRssMb: peakKb / 1024, dataFiles: live.data.length, deleteFiles: live.deletes.length, commits };
  } finally {
    writer.kill('SIGTERM');
    await new Promise((resolve) => writer.once('exit', resolve));
    await buffer.end();
    rmSync(warehouse, { recursive: true, force: true });
    if (process.env.BENCH_VERBOSE) console.log(output.split("\n").filter((l) => l.includes("committed")).join("\n"));
  }
}

async function until(condition: () => boolean | Promise<boolean>, what: () => string, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function main(): Promise<void> {
  const server = new EmbeddedPostgres({ dataDir: join(mkdtempSync(join(tmpdir(), 'philotes-bench-')), 'pg'), port: await freePort(), fast: true, settings: { max_wal_size: '4GB' } });
  await server.initialise();
  await server.start();
  try {
    await server.createDatabase('bench_source');
    await server.createDatabase('bench_buffer');
    await applyMigrations(server.url('bench_buffer'), { info: () => undefined });
    console.log(`Filling the buffer through the reader: ${ROWS.toLocaleString()} inserts (append table) and ${ROWS.toLocaleString()} changes (upsert table) ...`);
    await fillBuffer(server);

    const results: Record<'append' | 'upsert', WriterRun[]> = { append: [], upsert: [] };
    for (let i = 0; i < RUNS; i++) {
      for (const [mode, table] of [['append', 'bench_log'], ['upsert', 'bench']] as const) {
        const result = await runWriter(server, table, mode);
        results[mode].push(result);
        console.log(
          `run ${i + 1} ${mode}: ${(ROWS / result.seconds).toFixed(0)} rows/s (${result.seconds.toFixed(2)} s, ${result.commits} commits, ${result.dataFiles} data + ${result.deleteFiles} delete files, peak RSS ${result.peakRssMb.toFixed(0)} MB)`,
        );
      }
    }

    const line = (mode: 'append' | 'upsert', target: number) => {
      const runs = results[mode];
      const rates = runs.map((r) => ROWS / r.seconds);
      const last = runs[runs.length - 1];
      return `| ${mode} | **${median(rates).toFixed(0)}** | ${rates.map((r) => r.toFixed(0)).join(', ')} | ${target.toLocaleString()} | ${((last.dataFiles + last.deleteFiles) * (1_000_000 / ROWS)).toFixed(0)} (${last.dataFiles} data, ${last.deleteFiles} delete) | ${median(runs.map((r) => r.peakRssMb)).toFixed(0)} MB |`;
    };
    const report = [
      `Measured ${new Date().toISOString().slice(0, 10)} on ${machineDescription()}; PostgreSQL (embedded, fsync off) holds the buffer and the catalog, the warehouse is a local directory.`,
      '',
      `Each run: a fresh iceberg-writer process (default settings: 64MB target file size, write concurrency 2) on one table of ${ROWS.toLocaleString()} buffered events, from taking the table to the commit that covers the last event. Append: ${ROWS.toLocaleString()} inserts, each a row with its change-log columns. Upsert: ${(ROWS * 0.6).toLocaleString()} inserts, ${(ROWS * 0.3).toLocaleString()} updates, ${(ROWS * 0.1).toLocaleString()} deletes, folded into rows and equality deletes. Columns: bigint, int, text, timestamptz, numeric(12,2). Events were stored by the wal-reader from the source workload (transactions of ${PER_TRANSACTION}).`,
      '',
      '| mode | median rows/s | runs | target | files per 1M events | peak RSS (median) |',
      '| --- | --- | --- | --- | --- | --- |',
      line('append', 100_000),
      line('upsert', 40_000),
    ].join('\n');
    console.log(`\n${report}`);
    replaceSection(join(ROOT, 'docs', 'benchmarks.md'), 'writer', '## iceberg-writer: buffer → Iceberg', report);
  } finally {
    await server.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
