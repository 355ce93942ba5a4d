import { readdirSync, readFileSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from 'pg';
import { eventuallyStatus, httpGet } from '../support/app-process';
import { CaptureDatabases, createCaptureDatabases, RunningReader, sourceClient, startReader, waitCaughtUp } from '../support/capture';
import { query } from '../support/database';
import { eventually } from '../support/eventually';
import { reachableWithIcebird } from '../support/iceberg';
import { byKey, readIcebergTable, RunningWriter, startWriter, tempWarehouse, waitWriterCaughtUp } from '../support/writer';

interface Metadata {
  'current-snapshot-id': number;
  snapshots: Array<{ 'snapshot-id': number; 'manifest-list': string }>;
}

/**
 * Real: reader and writer processes, a local warehouse. Upkeep (compaction, snapshot expiry,
 * orphan clean-up) and buffer retention run in the writer on short intervals; every table read
 * back by icebird must equal the source before and after, and the files left must be exactly the
 * ones the metadata reaches.
 */
describe('iceberg-writer upkeep', () => {
  let dbs: CaptureDatabases;
  let reader: RunningReader;
  let writer: RunningWriter | undefined;
  let source: Client;

  beforeEach(async () => {
    dbs = await createCaptureDatabases();
    source = await sourceClient(dbs);
  });

  afterEach(async () => {
    await writer?.process.stop();
    await reader?.process.stop();
    await source.end();
    await dbs.drop();
  });

  async function expectMirrored(table: string): Promise<void> {
    const iceberg = await readIcebergTable(dbs.buffer.url, 'public', table);
    const expected = await query<{ id: string; v: number; note: string }>(dbs.source.url, `SELECT id::text AS id, v, note FROM ${table} ORDER BY id`);
    const actual = byKey(iceberg!.rows, 'id');
    expect(iceberg!.rows.length).toBe(expected.length);
    expect(expected.filter((row) => actual.get(row.id)?.v !== row.v || actual.get(row.id)?.note !== row.note).slice(0, 3)).toEqual([]);
  }

  it('compacts, expires snapshots and removes orphans without changing what the table holds', async () => {
    await source.query('CREATE TABLE churn (id int PRIMARY KEY, v int, note text)');
    reader = await startReader(dbs);
    await eventuallyStatus(`${reader.base}/health/ready`, 200);
    const warehouse = tempWarehouse();
    const round = async (i: number) => {
      await source.query(`INSERT INTO churn SELECT g, ${i}, 'r${i}' FROM generate_series(${i * 50 + 1}, ${i * 50 + 50}) g`);
      await source.query(`UPDATE churn SET v = v + 100, note = 'u${i}' WHERE id % 7 = ${i % 7}`);
      await source.query(`DELETE FROM churn WHERE id % 11 = ${i % 11} AND id < ${i * 10}`);
      await waitCaughtUp(dbs);
      await waitWriterCaughtUp(dbs.buffer.url);
    };

    // Many small commits, each with deletes: twelve rounds, maintenance off.
    writer = await startWriter(dbs, warehouse, { PHILOTES_ICEBERG_MAINTENANCE_INTERVAL: '24h' });
    for (let i = 0; i < 12; i++) await round(i);
    const before = (await readIcebergTable(dbs.buffer.url, 'public', 'churn'))!;
    // Position deletes (the default for a table with a primary key), never equality deletes.
    expect(before.files.filter((f) => f.content === 1).length).toBeGreaterThan(4);
    expect(before.files.filter((f) => f.content === 2)).toEqual([]);
    await writer.process.stop();

    // Orphans: a file from a commit that crashed long ago, a leftover temporary file.
    const dataDir = fileURLToPath(`${before.tableLocation}/data`);
    const planted = [join(dataDir, 'crashed-commit-data.parquet'), join(dataDir, 'leftover.parquet.1a2b3c.tmp')];
    const hourAgo = new Date(Date.now() - 3_600_000);
    for (const file of planted) {
      writeFileSync(file, 'orphan');
      utimesSync(file, hourAgo, hourAgo);
    }

    writer = await startWriter(dbs, warehouse, {
      PHILOTES_ICEBERG_MAINTENANCE_INTERVAL: '1s',
      PHILOTES_ICEBERG_COMPACTION_MIN_FILES: '4',
      PHILOTES_ICEBERG_SNAPSHOT_RETENTION: '1s',
      PHILOTES_ICEBERG_ORPHAN_GRACE: '2s',
    });
    const after = await eventually(
      'compaction and expiry',
      async () => {
        const table = (await readIcebergTable(dbs.buffer.url, 'public', 'churn'))!;
        const metadata = JSON.parse(readFileSync(fileURLToPath(table.metadataLocation), 'utf8')) as Metadata;
        return table.files.every((f) => f.content === 0) && metadata.snapshots.length <= 6 && planted.every((file) => !existsSync(file)) ? table : undefined;
      },
      { timeoutMs: 60_000 },
    );
    // Same rows, fewer files, no deletes left to apply.
    expect(byKey(after.rows, 'id')).toEqual(byKey(before.rows, 'id'));
    expect(after.files.length).toBeLessThan(before.files.filter((f) => f.content === 0).length);
    await expectMirrored('churn');

    // What is left on disk is what the metadata reaches (the current and the five retained snapshots).
    const metadata = JSON.parse(readFileSync(fileURLToPath(after.metadataLocation), 'utf8')) as Metadata;
    for (const snapshot of metadata.snapshots) expect(existsSync(fileURLToPath(snapshot['manifest-list']))).toBe(true);
    for (const file of after.files) expect(existsSync(fileURLToPath(file.path))).toBe(true);
    const metrics = (await httpGet(`${writer.base}/metrics`)).body;
    expect(metrics).toMatch(/^philotes_writer_maintenance_total\{[^}]*action="files_compacted"[^}]*\} [1-9]/m);
    expect(metrics).toMatch(/^philotes_writer_maintenance_total\{[^}]*action="orphans_deleted"[^}]*\} [1-9]/m);
    // The warehouse's requests are measured: commits put, compaction gets, the orphan sweep lists and deletes.
    for (const op of ['put', 'get', 'list', 'delete']) expect(metrics).toMatch(new RegExp(`^philotes_writer_store_requests_total\\{[^}]*op="${op}"[^}]*outcome="ok"[^}]*\\} [1-9]`, 'm'));
    expect(metrics).toMatch(/^philotes_writer_store_bytes_total\{[^}]*op="put"[^}]*\} [1-9]/m);
    // Once past the grace, exactly the files some retained snapshot reaches are left.
    await eventually(
      'the files on disk to be exactly those the snapshots reach',
      async () => {
        const table = (await readIcebergTable(dbs.buffer.url, 'public', 'churn'))!;
        const reachable = new Set((await reachableWithIcebird(table.tableLocation, table.metadataLocation)).map((uri) => fileURLToPath(uri)));
        const metadataDir = fileURLToPath(`${table.tableLocation}/metadata`);
        const onDisk = [...readdirSync(dataDir).map((f) => join(dataDir, f)), ...readdirSync(metadataDir).filter((f) => f.endsWith('.avro')).map((f) => join(metadataDir, f))];
        return onDisk.length === reachable.size && onDisk.every((file) => reachable.has(file));
      },
      { timeoutMs: 30_000 },
    );

    // Changes after a compaction still apply to the rewritten rows (sequence numbers stay in order).
    for (let i = 12; i < 15; i++) await round(i);
    await expectMirrored('churn');
  });

  it('removes applied events past the retention and keeps events not yet applied', async () => {
    await source.query('CREATE TABLE kept (id int PRIMARY KEY, v int, note text); CREATE TABLE held (id int PRIMARY KEY, v int, note text)');
    reader = await startReader(dbs);
    await eventuallyStatus(`${reader.base}/health/ready`, 200);
    await eventually('both tables to be known', async () => (await query(dbs.buffer.url, 'SELECT 1 FROM cdc_tables')).length === 2);
    // An operator paused "held": nothing of it is applied, so nothing of it may go.
    await query(
      dbs.buffer.url,
      "INSERT INTO pipeline_controls (source_id, table_id, paused, reason) SELECT source_id, table_id, true, 'test' FROM cdc_tables WHERE table_name = 'held'",
    );
    writer = await startWriter(dbs, tempWarehouse(), { PHILOTES_CDC_BUFFER_RETENTION: '1s', PHILOTES_CDC_BUFFER_CLEANUP_INTERVAL: '1s' });
    await source.query("INSERT INTO kept SELECT g, g, 'k' FROM generate_series(1, 500) g; INSERT INTO held SELECT g, g, 'h' FROM generate_series(1, 300) g");
    await waitCaughtUp(dbs);

    const countOf = async (table: string) =>
      Number((await query<{ n: string }>(dbs.buffer.url, 'SELECT count(*)::text AS n FROM cdc_events JOIN cdc_tables USING (table_id) WHERE table_name = $1', [table]))[0].n);
    await eventually('the applied events of "kept" to leave the buffer', async () => (await countOf('kept')) === 0, { timeoutMs: 30_000 });
    expect(await countOf('held')).toBe(300 + 1); // and its copy's opening TRUNCATE
    await expectMirrored('kept');
    expect(await readIcebergTable(dbs.buffer.url, 'public', 'held')).toBeUndefined();

    // Resumed: applied, then removed in turn.
    await query(dbs.buffer.url, 'DELETE FROM pipeline_controls');
    await waitWriterCaughtUp(dbs.buffer.url);
    await expectMirrored('held');
    await eventually('the events of "held" to leave the buffer once applied', async () => (await countOf('held')) === 0, { timeoutMs: 30_000 });
  });

  it('drops whole partitions of the buffer once their events are applied, keeping one a paused table still needs', async () => {
    await source.query('CREATE TABLE kept (id int PRIMARY KEY, v int, note text); CREATE TABLE held (id int PRIMARY KEY, v int, note text)');
    reader = await startReader(dbs);
    await eventuallyStatus(`${reader.base}/health/ready`, 200);
    await eventually('both tables to be known', async () => (await query(dbs.buffer.url, 'SELECT 1 FROM cdc_tables')).length === 2);
    await query(dbs.buffer.url, "INSERT INTO pipeline_controls (source_id, table_id, paused, reason) SELECT source_id, table_id, true, 'test' FROM cdc_tables WHERE table_name = 'held'");
    // Partitions of two seconds, past the retention one second after they end.
    writer = await startWriter(dbs, tempWarehouse(), { PHILOTES_CDC_BUFFER_PARTITION_INTERVAL: '2s', PHILOTES_CDC_BUFFER_RETENTION: '1s', PHILOTES_CDC_BUFFER_CLEANUP_INTERVAL: '1s' });
    const partitions = async () =>
      query<{ name: string; rows: number; held: number }>(
        dbs.buffer.url,
        `SELECT c.relname AS name,
                (SELECT count(*) FROM cdc_events e WHERE e.tableoid = c.oid)::int AS rows,
                (SELECT count(*) FROM cdc_events e JOIN cdc_tables t USING (table_id) WHERE e.tableoid = c.oid AND t.table_name = 'held')::int AS held
           FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'cdc_events'::regclass AND c.relname <> 'cdc_events_default'`,
      );
    await eventually('partitions made ahead', async () => (await partitions()).length >= 2);
    const first = (await partitions()).map((p) => p.name);

    // Events land in partitions (not the default); one partition also holds the paused table's.
    await eventually('events in a partition of their own', async () => {
      await source.query("INSERT INTO kept SELECT g, g, 'k' FROM generate_series((SELECT coalesce(max(id), 0) + 1 FROM kept), (SELECT coalesce(max(id), 0) + 200 FROM kept)) g");
      await waitCaughtUp(dbs);
      return (await partitions()).some((p) => first.includes(p.name) && p.rows > 0);
    }, { timeoutMs: 30_000, intervalMs: 300 });
    await source.query("INSERT INTO held SELECT g, g, 'h' FROM generate_series(1, 300) g");
    await waitCaughtUp(dbs);
    const holding = (await partitions()).find((p) => p.held > 0)?.name;
    expect(holding).toBeDefined();
    // "kept" is applied ("held" waits, paused).
    const keptRows = Number((await query<{ n: string }>(dbs.source.url, 'SELECT count(*)::text AS n FROM kept'))[0].n);
    await eventually('"kept" applied', async () => ((await readIcebergTable(dbs.buffer.url, 'public', 'kept'))?.rows.length ?? 0) === keptRows);

    // The partitions of "kept" alone go whole; the one "held" needs stays with its events.
    await eventually('a partition dropped whole', async () => {
      const names = (await partitions()).map((p) => p.name);
      return first.some((name) => name !== holding && !names.includes(name));
    }, { timeoutMs: 30_000 });
    expect((await httpGet(`${writer.base}/metrics`)).body).toMatch(/philotes_buffer_partitions_dropped_total\{[^}]*\} [1-9]/);
    const kept = (await partitions()).find((p) => p.name === holding);
    expect(kept?.held).toBe(300);
    await expectMirrored('kept');

    // Resumed and applied: its partition goes too.
    await query(dbs.buffer.url, 'DELETE FROM pipeline_controls');
    await waitWriterCaughtUp(dbs.buffer.url);
    await expectMirrored('held');
    await eventually('the held partition dropped once applied', async () => !(await partitions()).some((p) => p.name === holding), { timeoutMs: 30_000 });
  });
});
