/**
 * `npm run bench:reader`: how fast the wal-reader moves a WAL workload into the buffer, against
 * PostgreSQL's own pg_recvlogical draining the same workload from an identical slot, in one run on
 * one server. Also the reader's peak RSS through a single 1M-row transaction.
 *
 * Method: every slot is created before the workload, so each sees exactly the same WAL. Then each
 * slot is drained alone (nothing else running): pg_recvlogical to /dev/null up to the end LSN, the
 * reader (as its own process, default settings) until its buffer checkpoint passes the end LSN.
 * Rates are changes per second over the drain time; we report medians of the runs and their ratio.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { applyMigrations } from '../libs/db/src';
import { EmbeddedPostgres, freePort } from '../libs/embedded-pg/src';
import { parseLsn } from '../libs/pgoutput/src';
import { machineDescription, median, peakRssKb, replaceSection } from './bench-report';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const INSERTS = 300_000;
const UPDATES = 150_000;
const DELETES = 50_000;
const CHANGES = INSERTS + UPDATES + DELETES;
const PER_TRANSACTION = 100;
const BIG_TRANSACTION_ROWS = Number(process.env.BENCH_BIG_ROWS ?? 1_000_000);
const ROOT = join(__dirname, '..');

const run = promisify(execFile);

async function sql(client: Client, text: string, params: unknown[] = []): Promise<Array<Record<string, string>>> {
  return (await client.query(text, params)).rows;
}

async function workload(client: Client): Promise<void> {
  // Inserts, then updates and deletes of those rows, all in transactions of 100 changes.
  for (let from = 1; from <= INSERTS; from += PER_TRANSACTION) {
    await client.query("INSERT INTO bench SELECT g, g % 1000, 'row ' || g, now(), g * 0.01 FROM generate_series($1::bigint, $2::bigint) g", [from, from + PER_TRANSACTION - 1]);
  }
  for (let from = 1; from <= UPDATES; from += PER_TRANSACTION) {
    await client.query("UPDATE bench SET a = a + 1, b = 'updated' WHERE id BETWEEN $1 AND $2", [from, from + PER_TRANSACTION - 1]);
  }
  for (let from = INSERTS - DELETES + 1; from <= INSERTS; from += PER_TRANSACTION) {
    await client.query('DELETE FROM bench WHERE id BETWEEN $1 AND $2', [from, from + PER_TRANSACTION - 1]);
  }
}

async function drainWithRecvlogical(server: EmbeddedPostgres, slot: string, endLsn: string): Promise<number> {
  const started = process.hrtime.bigint();
  await run('pg_recvlogical', [
    `--dbname=${server.url('bench_source')}`,
    `--slot=${slot}`,
    '--start',
    `--endpos=${endLsn}`,
    '--option=proto_version=1',
    '--option=publication_names=bench_pub',
    '--no-loop',
    '--file=/dev/null',
  ]);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

interface ReaderRun {
  readonly seconds: number;
  readonly peakRssMb: number;
}

/** Starts the built reader on `slot` and waits until the buffer holds everything up to `endLsn`. */
async function drainWithReader(server: EmbeddedPostgres, slot: string, endLsn: bigint, buffer: string, extraEnv: Record<string, string> = {}): Promise<ReaderRun> {
  const client = new Client({ connectionString: server.url('postgres') });
  await client.connect();
  await client.query(`DROP DATABASE IF EXISTS ${buffer} WITH (FORCE)`);
  await client.query(`CREATE DATABASE ${buffer}`);
  await client.end();
  await applyMigrations(server.url(buffer), { info: () => undefined });

  const nodeArgs = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const child = spawn(process.execPath, [...nodeArgs, join(ROOT, 'dist', 'apps', 'wal-reader', 'main.js')], {
    env: {
      PATH: process.env.PATH,
      ...(process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {}),
      PHILOTES_DATABASE_URL: server.url(buffer),
      PHILOTES_CDC_SOURCE_URL: server.url('bench_source'),
      PHILOTES_CDC_REPLICATION_SLOT: slot,
      PHILOTES_CDC_PUBLICATION: 'bench_pub',
      PHILOTES_CDC_SNAPSHOT_MODE: 'never',
      PHILOTES_HEALTH_LISTEN_ADDR: `127.0.0.1:${await freePort()}`,
      PHILOTES_BACKPRESSURE_ENABLED: 'false',
      PHILOTES_LOG_FORMAT: 'json',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const buffered = new Client({ connectionString: server.url(buffer) });
  await buffered.connect();
  let started: bigint | undefined;
  let peakKb = 0;
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the reader exited:\n${output.slice(-2000)}`);
      if (started === undefined && output.includes('"message":"streaming"')) started = process.hrtime.bigint();
      peakKb = Math.max(peakKb, peakRssKb(child.pid!));
      const rows = await sql(buffered, 'SELECT confirmed_lsn::text AS lsn FROM cdc_checkpoints');
      if (started !== undefined && rows[0] && parseLsn(rows[0].lsn) >= endLsn) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const seconds = Number(process.hrtime.bigint() - started!) / 1e9;
    return { seconds, peakRssMb: peakKb / 1024 };
  } finally {
    await buffered.end();
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}

async function main(): Promise<void> {
  const server = new EmbeddedPostgres({ dataDir: join(mkdtempSync(join(tmpdir(), 'philotes-bench-')), 'pg'), port: await freePort(), fast: true, settings: { max_wal_size: '4GB' } });
  await server.initialise();
  await server.start();
  try {
    await server.createDatabase('bench_source');
    const source = new Client({ connectionString: server.url('bench_source') });
    await source.connect();
    await source.query('CREATE TABLE bench (id bigint PRIMARY KEY, a int NOT NULL, b text, c timestamptz, d numeric(12,2))');
    await source.query('CREATE PUBLICATION bench_pub FOR TABLE bench');
    const slots = Array.from({ length: RUNS }, (_, i) => [`recv_${i}`, `reader_${i}`]).flat();
    for (const slot of slots) await source.query("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [slot]);

    console.log(`Workload: ${CHANGES.toLocaleString()} changes (${INSERTS} inserts, ${UPDATES} updates, ${DELETES} deletes) in transactions of ${PER_TRANSACTION} ...`);
    await workload(source);
    const [{ lsn: endText }] = await sql(source, 'SELECT pg_current_wal_insert_lsn()::text AS lsn');
    // Make the whole workload durable in WAL so every drain reads the same, already flushed, WAL.
    await source.query('CHECKPOINT');

    const recv: number[] = [];
    const reader: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const r = await drainWithRecvlogical(server, `recv_${i}`, endText);
      recv.push(CHANGES / r);
      const w = await drainWithReader(server, `reader_${i}`, parseLsn(endText), `bench_buffer_${i}`);
      reader.push(CHANGES / w.seconds);
      console.log(`run ${i + 1}: pg_recvlogical ${(CHANGES / r).toFixed(0)} changes/s (${r.toFixed(2)} s), wal-reader ${(CHANGES / w.seconds).toFixed(0)} changes/s (${w.seconds.toFixed(2)} s, peak RSS ${w.peakRssMb.toFixed(0)} MB)`);
    }

    console.log(`Single transaction of ${BIG_TRANSACTION_ROWS.toLocaleString()} rows ...`);
    await source.query("SELECT pg_create_logical_replication_slot('big', 'pgoutput')");
    await source.query("INSERT INTO bench SELECT g, g % 1000, 'big ' || g, now(), g * 0.01 FROM generate_series(1000001, 2000000) g");
    const [{ lsn: bigEnd }] = await sql(source, 'SELECT pg_current_wal_insert_lsn()::text AS lsn');
    const big = await drainWithReader(server, 'big', parseLsn(bigEnd), 'bench_buffer_big');
    console.log(`1M-row transaction: ${big.seconds.toFixed(2)} s, peak RSS ${big.peakRssMb.toFixed(0)} MB`);
    await source.end();

    const recvMedian = median(recv);
    const readerMedian = median(reader);
    const ratio = readerMedian / recvMedian;
    const report = [
      `Measured ${new Date().toISOString().slice(0, 10)} on ${machineDescription()}; PostgreSQL ${await serverVersion(server)} (embedded, fsync off), source and buffer on the same server.`,
      '',
      `Workload: ${CHANGES.toLocaleString()} changes to one table (${INSERTS.toLocaleString()} inserts, ${UPDATES.toLocaleString()} updates, ${DELETES.toLocaleString()} deletes) in transactions of ${PER_TRANSACTION}; every slot created before the workload, each drained alone. The reader runs as its own process with default settings.`,
      '',
      '| | median changes/s | runs |',
      '| --- | --- | --- |',
      `| pg_recvlogical (pgoutput to /dev/null) | ${recvMedian.toFixed(0)} | ${recv.map((r) => r.toFixed(0)).join(', ')} |`,
      `| wal-reader (pgoutput to buffer commit) | ${readerMedian.toFixed(0)} | ${reader.map((r) => r.toFixed(0)).join(', ')} |`,
      '',
      `**Ratio: ${(ratio * 100).toFixed(0)}%** of pg_recvlogical's rate (target ≥ 60%).`,
      '',
      `Single transaction of ${BIG_TRANSACTION_ROWS.toLocaleString()} rows: drained in ${big.seconds.toFixed(1)} s, reader peak RSS **${big.peakRssMb.toFixed(0)} MB** (target < 300 MB).`,
    ].join('\n');
    console.log(`\n${report}`);
    replaceSection(join(ROOT, 'docs', 'benchmarks.md'), 'reader', '## wal-reader: source → buffer', report);
  } finally {
    await server.stop();
  }
}

async function serverVersion(server: EmbeddedPostgres): Promise<string> {
  return server.withClient(async (client) => (await client.query<{ server_version: string }>('SHOW server_version')).rows[0].server_version);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
