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
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { applyMigrations, checkpointsReached } from '@philotes/buffer';
import { parseLsn } from '@philotes/pgoutput';
import { EmbeddedPostgres, freePort } from '@philotes/embedded-pg';
import { drainWithWriter, startBenchApp, stopBenchApp, until, WriterRun } from './drains';
import { machineDescription, median, replaceSection } from './report';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const PER_TRANSACTION = 1_000;
const ROOT = join(__dirname, '..', '..');

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
  const reader = startBenchApp('wal-reader', {
    PHILOTES_DATABASE_URL: server.url('bench_buffer'),
    PHILOTES_CDC_SOURCE_URL: server.url('bench_source'),
    PHILOTES_HEALTH_LISTEN_ADDR: `127.0.0.1:${await freePort()}`,
    PHILOTES_BACKPRESSURE_ENABLED: 'false',
  });
  try {
    await until(() => reader.output().includes('"message":"streaming"'), () => `the reader to stream:\n${reader.output().slice(-2000)}`);
    await workloads(source);
    const [{ lsn }] = (await source.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn')).rows;
    const buffer = new Client({ connectionString: server.url('bench_buffer') });
    await buffer.connect();
    await until(() => checkpointsReached(buffer, parseLsn(lsn)), () => 'the reader to catch up');
    await buffer.end();
  } finally {
    await stopBenchApp(reader);
    await source.end();
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

    // Upsert twice: deleting by position through the key index (the default), and by equality (earlier tables).
    const variants = [
      { name: 'append', mode: 'append', table: 'bench_log', env: {} },
      { name: 'upsert (position deletes, key index)', mode: 'upsert', table: 'bench', env: {} },
      { name: 'upsert (equality deletes)', mode: 'upsert', table: 'bench', env: { PHILOTES_ICEBERG_UPSERT_DELETES: 'equality' } },
    ] as const;
    const results = new Map<string, WriterRun[]>(variants.map((v) => [v.name, []]));
    for (let i = 0; i < RUNS; i++) {
      for (const variant of variants) {
        const result = await drainWithWriter(server.url('bench_buffer'), variant.table, variant.mode, variant.env);
        results.get(variant.name)!.push(result);
        console.log(
          `run ${i + 1} ${variant.name}: ${(ROWS / result.seconds).toFixed(0)} rows/s (${result.seconds.toFixed(2)} s, ${result.commits} commits, ${result.dataFiles} data + ${result.deleteFiles} delete files, peak RSS ${result.peakRssMb.toFixed(0)} MB, key index ${result.indexKeys} keys in ${(result.indexBytes / 1e6).toFixed(1)} MB)`,
        );
      }
    }

    const rate = (name: string) => median(results.get(name)!.map((r) => ROWS / r.seconds));
    const line = (name: string, target: number) => {
      const runs = results.get(name)!;
      const rates = runs.map((r) => ROWS / r.seconds);
      const last = runs[runs.length - 1];
      const index = last.indexKeys > 0 ? `${last.indexKeys.toLocaleString()} keys, ${(last.indexBytes / 1e6).toFixed(1)} MB (${(last.indexBytes / last.indexKeys).toFixed(0)} B/key)` : '—';
      return `| ${name} | **${median(rates).toFixed(0)}** | ${rates.map((r) => r.toFixed(0)).join(', ')} | ${target.toLocaleString()} | ${((last.dataFiles + last.deleteFiles) * (1_000_000 / ROWS)).toFixed(0)} (${last.dataFiles} data, ${last.deleteFiles} delete) | ${median(runs.map((r) => r.peakRssMb)).toFixed(0)} MB | ${index} |`;
    };
    const [positionName, equalityName] = [variants[1].name, variants[2].name];
    const report = [
      `Measured ${new Date().toISOString().slice(0, 10)} on ${machineDescription()}; PostgreSQL (embedded, fsync off) holds the buffer and the catalog, the warehouse is a local directory.`,
      '',
      `Each run: a fresh iceberg-writer process (default settings: 64MB target file size, write concurrency 2) on one table of ${ROWS.toLocaleString()} buffered events, from taking the table to the commit that covers the last event. Append: ${ROWS.toLocaleString()} inserts, each a row with its change-log columns. Upsert: ${(ROWS * 0.6).toLocaleString()} inserts, ${(ROWS * 0.3).toLocaleString()} updates, ${(ROWS * 0.1).toLocaleString()} deletes, folded into rows and deletes (by position through the key index, or by equality). Columns: bigint, int, text, timestamptz, numeric(12,2). Events were stored by the wal-reader from the source workload (transactions of ${PER_TRANSACTION}).`,
      '',
      '| mode | median rows/s | runs | target | files per 1M events | peak RSS (median) | key index after the run |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      line(variants[0].name, 100_000),
      line(positionName, 40_000),
      line(equalityName, 40_000),
      '',
      `Upserts deleting by position run at **${((100 * rate(positionName)) / rate(equalityName)).toFixed(0)}%** of the rate of equality deletes (medians; the goal is at least 80%). The key index holds one row per live key: a 16-byte key (the integer itself for a key of one integer column, as here; a digest otherwise), a file number and a position, with its primary key; each writer process caches the places of the keys it wrote or looked up last (PHILOTES_ICEBERG_KEY_INDEX_CACHE_KEYS).`,
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
