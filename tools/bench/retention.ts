/**
 * `npm run bench:retention`: what buffer retention costs, dropping a partition of applied events
 * against deleting the same events row by row (how retention worked before cdc_events had
 * partitions, and how it still cleans the default partition).
 *
 * Method: per run, a fresh buffer database on an embedded PostgreSQL at its durable settings
 * (fsync, full_page_writes, synchronous_commit on). EVENTS applied events of one table (payloads of
 * PAYLOAD bytes, as the reader stores narrow rows) are stored either in one past partition or in
 * the default partition, then one retention pass (the writer's BufferRetention) removes them.
 * Measured: its time, the WAL it writes, and what is left on disk afterwards (dead tuples until a
 * vacuum). The physical limit of a delete is a TRUNCATE of the same rows, measured in the same run.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Pool } from 'pg';
import { Registry } from 'prom-client';
import { applyMigrations, BEFORE_FIRST, BufferedEvent, copyEvents, createPartition, eventStorageBytes, partitionName, PostgresSchemaStore, storedCounts, truncateEvents, WriterProgress } from '@philotes/buffer';
import { EmbeddedPostgres, freePort } from '@philotes/embedded-pg';
import { PG_EPOCH_UNIX_MICROS } from '@philotes/pgoutput';
import { BufferRetention } from '@philotes/writer';
import { machineDescription, median, replaceSection, serverVersion } from './report';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const EVENTS = Number(process.env.BENCH_RETENTION_EVENTS ?? 1_000_000);
const PAYLOAD = 120;
const BATCH = 20_000;
const ROOT = join(__dirname, '..', '..');
const HOUR = 3_600_000;

interface Pass {
  readonly seconds: number;
  readonly walBytes: number;
  readonly bytesLeft: number;
}

const silent = { info: () => undefined, warn: (message: string, meta?: unknown) => console.warn(message, meta), debug: () => undefined };

async function fill(client: Client, tableId: number, at: Date): Promise<void> {
  const payload = new Uint8Array(PAYLOAD).fill(7);
  const micros = BigInt(at.getTime()) * 1000n - PG_EPOCH_UNIX_MICROS;
  for (let from = 0; from < EVENTS; from += BATCH) {
    const events: BufferedEvent[] = [];
    for (let i = from; i < Math.min(EVENTS, from + BATCH); i++) {
      events.push({ tableId, commitLsn: BigInt(0x1000 + i), seq: 0, op: 'I', xid: 700 + i, commitTime: micros + BigInt(i), schemaVersion: 1, payload });
    }
    await client.query('BEGIN');
    await copyEvents(client, events);
    await client.query('COMMIT');
  }
  if (!(await WriterProgress.advance(client, tableId, BEFORE_FIRST, { lsn: BigInt(0x1000 + EVENTS), seq: 0 }, micros + BigInt(EVENTS)))) throw new Error('the writer position was already set');
  await client.query('CHECKPOINT');
}

const walNow = async (client: Client) => BigInt((await client.query<{ at: string }>("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::text AS at")).rows[0].at);

async function onePass(server: EmbeddedPostgres, where: 'partition' | 'default' | 'truncate', run: number): Promise<Pass> {
  const database = `bench_retention_${where}_${run}`;
  await server.createDatabase(database);
  const url = server.url(database);
  await applyMigrations(url, silent);
  const client = new Client({ connectionString: url });
  await client.connect();
  const pool = new Pool({ connectionString: url, max: 2 });
  try {
    const tableId = await new PostgresSchemaStore(client).tableId('bench', 'public', 'narrow');
    // Two days ago, in a partition of its own, or in the default partition (no range covers it).
    const at = new Date(Math.floor((Date.now() - 48 * HOUR) / HOUR) * HOUR);
    const retention = new BufferRetention({
      pool,
      settings: () => ({ bufferRetentionMs: HOUR, bufferCleanupIntervalMs: HOUR, bufferPartitionIntervalMs: 24 * HOUR }),
      registry: new Registry(),
      log: silent,
    });
    // A first pass makes the partitions ahead: the timed one only removes.
    await retention.run();
    // A past range: nothing writes to it here, so its guard may stand as long as the attach takes.
    if (where === 'partition') await createPartition(client, { name: partitionName(at), from: at, to: new Date(at.getTime() + HOUR) }, new Date(Date.now() + HOUR));
    await fill(client, tableId, new Date(at.getTime() + 1_000));
    const walBefore = await walNow(client);
    const started = performance.now();
    if (where === 'truncate') await truncateEvents(client);
    else await retention.run();
    const seconds = (performance.now() - started) / 1000;
    const walBytes = Number((await walNow(client)) - walBefore);
    const { events: left } = await storedCounts(client);
    if (left !== 0) throw new Error(`${where}: ${left} events left after retention`);
    // What the events' tables and indexes still take: a delete frees nothing until vacuum.
    return { seconds, walBytes, bytesLeft: await eventStorageBytes(client) };
  } finally {
    await pool.end();
    await client.end();
    await server.withClient((c) => c.query(`DROP DATABASE ${database}`));
  }
}

async function main(): Promise<void> {
  const server = new EmbeddedPostgres({ dataDir: join(mkdtempSync(join(tmpdir(), 'philotes-bench-retention-')), 'pg'), port: await freePort(), fast: false });
  await server.initialise();
  await server.start();
  try {
    const version = await serverVersion(server);
    const passes: Record<'partition' | 'default' | 'truncate', Pass[]> = { partition: [], default: [], truncate: [] };
    for (let run = 1; run <= RUNS; run++) {
      for (const where of ['partition', 'default', 'truncate'] as const) {
        const pass = await onePass(server, where, run);
        passes[where].push(pass);
        console.log(`run ${run} ${where}: ${pass.seconds.toFixed(3)} s, WAL ${(pass.walBytes / 2 ** 20).toFixed(1)} MB, ${(pass.bytesLeft / 2 ** 20).toFixed(1)} MB left on disk`);
      }
    }
    const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
    const line = (label: string, runs: Pass[]) =>
      `| ${label} | **${median(runs.map((p) => p.seconds)).toFixed(3)} s** (${runs.map((p) => p.seconds.toFixed(3)).join(', ')}) | ${mb(median(runs.map((p) => p.walBytes)))} MB | ${mb(median(runs.map((p) => p.bytesLeft)))} MB |`;
    const seconds = (where: keyof typeof passes) => median(passes[where].map((p) => p.seconds));
    const report = [
      `Measured ${new Date().toISOString().slice(0, 10)} on ${machineDescription()}; PostgreSQL ${version} (embedded, **durable**: fsync, full_page_writes, synchronous_commit on), default settings otherwise.`,
      '',
      `Each run: ${EVENTS.toLocaleString()} applied events of one table (${PAYLOAD}-byte payloads, as narrow rows are stored), two days old, removed by one pass of the writer's buffer retention; medians of ${RUNS}. At 5,000 changes/s that is ${(EVENTS / 5_000 / 60).toFixed(0)} minutes of changes.`,
      '',
      '| removed by | time (runs) | WAL written | events\' tables and indexes after |',
      '| --- | --- | --- | --- |',
      line('dropping their partition (retention now)', passes.partition),
      line('deleting row by row, batches of 10,000 (the default partition; retention before)', passes.default),
      line('TRUNCATE of the same rows (the physical limit)', passes.truncate),
      '',
      `Dropping the partition (the applied check, DETACH and DROP) takes ${seconds('partition').toFixed(3)} s against TRUNCATE's ${seconds('truncate').toFixed(3)} s: **${((seconds('truncate') / seconds('partition')) * 100).toFixed(0)}% of the physical limit's speed**, and ${(seconds('default') / seconds('partition')).toFixed(0)}× faster than deleting the rows, which writes WAL for every row and frees no space until vacuum (every row dead, the indexes at full size).`,
    ].join('\n');
    console.log(`\n${report}`);
    replaceSection(join(ROOT, 'docs', 'benchmarks.md'), 'retention', '## Buffer retention: applied events removed', report);
  } finally {
    await server.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
