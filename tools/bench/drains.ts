/**
 * Each stage of the pipeline drained alone, as the benchmarks measure it: PostgreSQL's own
 * pg_recvlogical, the wal-reader, the iceberg-writer. Shared by `npm run bench:reader`,
 * `npm run bench:writer` and the end-to-end `npm run bench`, so every figure comes from one method.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { applyMigrations, checkpointsReached, lastEventOf, writeOneTableAfresh, writerReached } from '@philotes/buffer';
import { EmbeddedPostgres, freePort } from '@philotes/embedded-pg';
import { createObjectStore, IcebergTables, SqlCatalog } from '@philotes/iceberg';
import { formatLsn } from '@philotes/pgoutput';
import { peakRssKb } from './report';
import { ROOT, RunningApp, StackApp } from '../dev/local-stack';

const run = promisify(execFile);

export interface BenchApp extends RunningApp {
  /** Everything the app printed so far. */
  output(): string;
}

/**
 * Starts a built app for a benchmark, its output kept for the checks and error messages.
 * BENCH_PROFILE=<dir> adds `--cpu-prof` (which NODE_OPTIONS refuses); BENCH_NODE_OPTIONS is passed on.
 * Unlike `startApp` of the local stack, the app stays in the launcher's process group: a benchmark
 * interrupted with Ctrl-C takes its apps with it.
 */
export function startBenchApp(app: StackApp, env: Readonly<Record<string, string>>): BenchApp {
  const entry = join(ROOT, 'dist', 'apps', app, 'main.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing; run "npm run build" first`);
  const nodeArgs = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const child = spawn(process.execPath, [...nodeArgs, entry], {
    env: {
      PATH: process.env.PATH,
      ...(process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {}),
      PHILOTES_LOG_FORMAT: 'json',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return { app, child, exited, output: () => output };
}

/** Polls `condition` until it holds; never sleeps a fixed time to wait for something. */
export async function until(condition: () => boolean | Promise<boolean>, what: () => string, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function stopBenchApp(app: BenchApp): Promise<void> {
  if (app.child.exitCode !== null || app.child.signalCode !== null) return;
  app.child.kill('SIGTERM');
  await app.exited;
}

/** Seconds pg_recvlogical takes to drain `slot` (pgoutput, protocol 1) to /dev/null up to `endLsn`. */
export async function drainWithRecvlogical(sourceUrl: string, slot: string, publication: string, endLsn: bigint): Promise<number> {
  const started = process.hrtime.bigint();
  await run('pg_recvlogical', [
    `--dbname=${sourceUrl}`,
    `--slot=${slot}`,
    '--start',
    `--endpos=${formatLsn(endLsn)}`,
    '--option=proto_version=1',
    `--option=publication_names=${publication}`,
    '--no-loop',
    '--file=/dev/null',
  ]);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

export interface ReaderDrain {
  readonly sourceUrl: string;
  readonly slot: string;
  readonly publication: string;
  readonly endLsn: bigint;
  /** A database of `server` to (re)create as this drain's buffer. */
  readonly bufferDatabase: string;
  readonly extraEnv?: Readonly<Record<string, string>>;
}

export interface ReaderRun {
  readonly seconds: number;
  readonly peakRssMb: number;
}

/**
 * Starts the built reader on an existing slot with a fresh buffer and times it from "streaming" to
 * the checkpoint that passes `endLsn`. Backpressure is off: nothing applies these events.
 */
export async function drainWithReader(server: EmbeddedPostgres, drain: ReaderDrain): Promise<ReaderRun> {
  await server.withClient(async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(drain.bufferDatabase)} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${client.escapeIdentifier(drain.bufferDatabase)}`);
  });
  const bufferUrl = server.url(drain.bufferDatabase);
  await applyMigrations(bufferUrl, { info: () => undefined });
  const reader = startBenchApp('wal-reader', {
    PHILOTES_DATABASE_URL: bufferUrl,
    PHILOTES_CDC_SOURCE_URL: drain.sourceUrl,
    PHILOTES_CDC_REPLICATION_SLOT: drain.slot,
    PHILOTES_CDC_PUBLICATION: drain.publication,
    PHILOTES_CDC_SNAPSHOT_MODE: 'never',
    PHILOTES_HEALTH_LISTEN_ADDR: `127.0.0.1:${await freePort()}`,
    PHILOTES_BACKPRESSURE_ENABLED: 'false',
    ...drain.extraEnv,
  });
  const buffer = new Client({ connectionString: bufferUrl });
  await buffer.connect();
  let started: bigint | undefined;
  let peakKb = 0;
  try {
    for (;;) {
      if (reader.child.exitCode !== null) throw new Error(`the reader exited:\n${reader.output().slice(-2000)}`);
      if (started === undefined && reader.output().includes('"message":"streaming"')) started = process.hrtime.bigint();
      peakKb = Math.max(peakKb, peakRssKb(reader.child.pid!));
      if (started !== undefined && (await checkpointsReached(buffer, drain.endLsn))) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return { seconds: Number(process.hrtime.bigint() - started) / 1e9, peakRssMb: peakKb / 1024 };
  } finally {
    await buffer.end();
    await stopBenchApp(reader);
  }
}

export interface WriterRun {
  readonly seconds: number;
  readonly peakRssMb: number;
  readonly dataFiles: number;
  readonly deleteFiles: number;
  readonly commits: number;
  /** Buffered events of the table the run applied. */
  readonly events: number;
  /** The key index after the run (upsert tables deleting by position): keys, and its tables' bytes with their indexes. */
  readonly indexKeys: number;
  readonly indexBytes: number;
}

/**
 * A fresh writer process on one table of a filled buffer (the other tables paused), with a fresh
 * warehouse and no progress, timed from taking the table to the commit that moves its position past
 * the table's last event. Upkeep is off, so the files counted are the ones the commits made. Resets
 * the buffer's writer progress, catalog and controls: run it only when no other writer is running.
 */
export async function drainWithWriter(bufferUrl: string, table: string, mode: 'append' | 'upsert', env: Record<string, string> = {}): Promise<WriterRun> {
  const buffer = new Client({ connectionString: bufferUrl });
  await buffer.connect();
  const warehouse = mkdtempSync(join(tmpdir(), 'philotes-bench-warehouse-'));
  let writer: BenchApp | undefined;
  try {
    await writeOneTableAfresh(buffer, table);
    await buffer.query('DELETE FROM iceberg_tables');
    // Truncated, not deleted: the size measured after the run is then this run's alone.
    await buffer.query('TRUNCATE iceberg_key_index, iceberg_key_index_files, iceberg_key_index_state');
    const last = await lastEventOf(buffer, table);
    if (!last) throw new Error(`the buffer holds no events of ${table}`);
    const { lsn, seq, events } = last;
    writer = startBenchApp('iceberg-writer', {
      PHILOTES_DATABASE_URL: bufferUrl,
      PHILOTES_ICEBERG_WAREHOUSE: warehouse,
      PHILOTES_ICEBERG_MODE: mode,
      PHILOTES_ICEBERG_MAINTENANCE_INTERVAL: '24h',
      PHILOTES_HEALTH_LISTEN_ADDR: `127.0.0.1:${await freePort()}`,
      PHILOTES_LOG_LEVEL: 'debug',
      ...env,
    });
    let started: bigint | undefined;
    let peakKb = 0;
    for (;;) {
      if (writer.child.exitCode !== null) throw new Error(`the writer exited:\n${writer.output().slice(-2000)}`);
      if (started === undefined && writer.output().includes('"message":"took the table"')) started = process.hrtime.bigint();
      peakKb = Math.max(peakKb, peakRssKb(writer.child.pid!));
      if (started !== undefined && (await writerReached(buffer, table, lsn, seq))) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    peakKb = Math.max(peakKb, peakRssKb(writer.child.pid!));
    const tables = new IcebergTables(createObjectStore(warehouse, { region: 'us-east-1', forcePathStyle: true }), new SqlCatalog('philotes', buffer));
    const loaded = await tables.load({ namespace: 'public', name: table });
    const live = await tables.liveFiles(loaded!.metadata);
    const commits = writer.output().split('\n').filter((line) => line.includes('"message":"committed"')).length;
    const [index] = (
      await buffer.query<{ keys: string; bytes: string }>(
        "SELECT (SELECT count(*) FROM iceberg_key_index)::text AS keys, (pg_total_relation_size('iceberg_key_index') + pg_total_relation_size('iceberg_key_index_files'))::text AS bytes",
      )
    ).rows;
    return { seconds, peakRssMb: peakKb / 1024, dataFiles: live.data.length, deleteFiles: live.deletes.length, commits, events: Number(events), indexKeys: Number(index.keys), indexBytes: Number(index.bytes) };
  } finally {
    if (writer) await stopBenchApp(writer);
    if (writer && process.env.BENCH_VERBOSE) console.log(writer.output().split('\n').filter((line) => line.includes('committed')).join('\n'));
    await buffer.end();
    rmSync(warehouse, { recursive: true, force: true });
  }
}
