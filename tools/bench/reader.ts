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
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { EmbeddedPostgres, freePort } from '@philotes/embedded-pg';
import { parseLsn } from '@philotes/pgoutput';
import { drainWithReader, drainWithRecvlogical } from './drains';
import { machineDescription, median, replaceSection, serverVersion } from './report';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const INSERTS = 300_000;
const UPDATES = 150_000;
const DELETES = 50_000;
const CHANGES = INSERTS + UPDATES + DELETES;
const PER_TRANSACTION = 100;
const BIG_TRANSACTION_ROWS = Number(process.env.BENCH_BIG_ROWS ?? 1_000_000);
const ROOT = join(__dirname, '..', '..');

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

    const drain = { sourceUrl: server.url('bench_source'), publication: 'bench_pub' };
    const recv: number[] = [];
    const reader: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const r = await drainWithRecvlogical(server.url('bench_source'), `recv_${i}`, 'bench_pub', parseLsn(endText));
      recv.push(CHANGES / r);
      const w = await drainWithReader(server, { ...drain, slot: `reader_${i}`, endLsn: parseLsn(endText), bufferDatabase: `bench_buffer_${i}` });
      reader.push(CHANGES / w.seconds);
      console.log(`run ${i + 1}: pg_recvlogical ${(CHANGES / r).toFixed(0)} changes/s (${r.toFixed(2)} s), wal-reader ${(CHANGES / w.seconds).toFixed(0)} changes/s (${w.seconds.toFixed(2)} s, peak RSS ${w.peakRssMb.toFixed(0)} MB)`);
    }

    console.log(`Single transaction of ${BIG_TRANSACTION_ROWS.toLocaleString()} rows ...`);
    await source.query("SELECT pg_create_logical_replication_slot('big', 'pgoutput')");
    await source.query("INSERT INTO bench SELECT g, g % 1000, 'big ' || g, now(), g * 0.01 FROM generate_series(1000001, 1000000 + $1::bigint) g", [BIG_TRANSACTION_ROWS]);
    const [{ lsn: bigEnd }] = await sql(source, 'SELECT pg_current_wal_insert_lsn()::text AS lsn');
    const big = await drainWithReader(server, { ...drain, slot: 'big', endLsn: parseLsn(bigEnd), bufferDatabase: 'bench_buffer_big' });
    console.log(`${BIG_TRANSACTION_ROWS.toLocaleString()}-row transaction: ${big.seconds.toFixed(2)} s, peak RSS ${big.peakRssMb.toFixed(0)} MB`);
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

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
