import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client, Pool } from 'pg';
import { createObjectStore, currentSchema, currentSnapshot, IcebergTables, snapshotRows, SqlCatalog, writeDataFile } from '@philotes/iceberg';
import { formatReport, TableVerdict, verifyPipeline, VerifyDeps } from '@philotes/verify';
import { eventuallyStatus } from '../support/app-process';
import { CaptureDatabases, createCaptureDatabases, readerEnv, RunningReader, sourceClient, startReader, waitCaughtUp } from '../support/capture';
import { RunningWriter, startWriter, tempWarehouse, waitWriterCaughtUp, warehouseUri } from '../support/writer';
import { query } from '../support/database';
import { eventually } from '../support/eventually';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');

/**
 * Real: a source, the reader and writer processes, a local warehouse. `verify` must pass on a
 * faithful mirror, and must name every row a broken pipeline would get wrong: a change the reader
 * never saw (missing, different, extra rows) and rows written twice or out of nowhere in Iceberg.
 */
describe('verify: source tables against their Iceberg mirrors', () => {
  let dbs: CaptureDatabases;
  let source: Client;
  let reader: RunningReader;
  let writer: RunningWriter;
  let buffer: Pool;
  let deps: VerifyDeps;
  const warehouse = tempWarehouse();
  let tables: IcebergTables;
  const byTable = (verdicts: TableVerdict[]) => new Map(verdicts.map((v) => [v.table, v]));

  beforeAll(async () => {
    dbs = await createCaptureDatabases();
    source = await sourceClient(dbs);
    await source.query('CREATE TABLE orders (id int PRIMARY KEY, amount numeric(12,2), note text, tags text[], seen timestamptz)');
    await source.query('CREATE TABLE clicks (v int, at timestamptz)'); // no key: an append table
    await source.query('CREATE TABLE audit (id bigint PRIMARY KEY, what text)');
    await source.query("INSERT INTO orders SELECT g, g * 1.25, 'n' || g, ARRAY['a', g::text], '2026-01-01 00:00:00.000001+00'::timestamptz + g * interval '1 second' FROM generate_series(1, 5000) g");
    // A publication of listed tables, so a test can hide changes from the reader for a moment.
    reader = await startReader(dbs, { PHILOTES_CDC_TABLES: 'public.orders,public.clicks,public.audit' });
    writer = await startWriter(dbs, warehouse, { PHILOTES_ICEBERG_TABLE_MODES: 'public.audit=append' });
    await eventuallyStatus(`${reader.base}/health/ready`, 200);
    await source.query('UPDATE orders SET amount = amount + 1 WHERE id % 3 = 0');
    await source.query('DELETE FROM orders WHERE id % 7 = 0');
    await source.query('INSERT INTO clicks SELECT g, now() FROM generate_series(1, 300) g');
    await source.query("INSERT INTO audit SELECT g, 'created' FROM generate_series(1, 50) g");
    await source.query("UPDATE audit SET what = 'changed' WHERE id <= 10");
    await source.query('DELETE FROM audit WHERE id > 45');
    await waitCaughtUp(dbs);
    await waitWriterCaughtUp(dbs.buffer.url);
    buffer = new Pool({ connectionString: dbs.buffer.url, max: 2 });
    tables = new IcebergTables(createObjectStore(warehouseUri(warehouse), { region: 'us-east-1', forcePathStyle: true }), new SqlCatalog('philotes', buffer));
    deps = { source: { connectionString: dbs.source.url }, buffer, tables, namespace: '', textColumns: new Set(), unrepresentable: 'reject', timeoutMs: 30_000 };
  });

  afterAll(async () => {
    await buffer?.end();
    await writer?.process.stop();
    await reader?.process.stop();
    await source?.end();
    await dbs?.drop();
  });

  it('finds no difference in a faithful mirror: upsert, keyless append and keyed append tables', async () => {
    const verdicts = byTable(await verifyPipeline(deps));
    expect(formatReport([...verdicts.values()])).toMatch(/3 tables verified: no differences/);
    expect(verdicts.get('public.orders')).toMatchObject({ mode: 'upsert', ok: true, sourceRows: 5000 - 714, icebergRows: 5000 - 714 });
    // An append log holds its copy's opening TRUNCATE too.
    expect(verdicts.get('public.clicks')).toMatchObject({ mode: 'append', ok: true, sourceRows: 300, icebergRows: 300 + 1 });
    expect(verdicts.get('public.audit')).toMatchObject({ mode: 'append', ok: true, sourceRows: 45, icebergRows: 50 + 10 + 5 + 1 });
  });

  it('names the rows of changes the pipeline never saw: missing, extra and different', async () => {
    // Changes the reader cannot see: the table is out of the publication (once it is back, the
    // reader copies it again, so verify runs while it is out).
    await source.query(`ALTER PUBLICATION ${dbs.publication} DROP TABLE orders`);
    await source.query("UPDATE orders SET note = 'unseen' WHERE id = 2");
    await source.query('DELETE FROM orders WHERE id = 4');
    await source.query("INSERT INTO orders VALUES (90001, 1, 'unseen', NULL, NULL)");
    const [verdict] = await verifyPipeline(deps, { table: 'public.orders' });
    expect(verdict.ok).toBe(false);
    expect(verdict.missing.map((d) => d.key)).toEqual(['number:90001']);
    expect(verdict.extra.map((d) => d.key)).toEqual(['number:4']);
    expect(verdict.different).toEqual([{ key: 'number:2', columns: ['note'] }]);
    const report = formatReport([verdict]);
    expect(report).toMatch(/✗ public\.orders \(upsert\).*1 missing, 1 extra, 1 different/);
    expect(report).toMatch(/different +2 \(note\)/);
    // Put the source back as the mirror has it, for the next test.
    await source.query("UPDATE orders SET note = 'n2' WHERE id = 2");
    await source.query("INSERT INTO orders VALUES (4, 5.00, 'n4', ARRAY['a', '4'], '2026-01-01 00:00:04.000001+00')");
    await source.query('DELETE FROM orders WHERE id = 90001');
    await source.query(`ALTER PUBLICATION ${dbs.publication} ADD TABLE orders`);
    // Back in the publication: copied again (what changed while it was out never streamed).
    await eventually('orders copied again', async () => {
      const [copy] = await query<{ reason: string; status: string }>(dbs.buffer.url, "SELECT b.reason, b.status FROM cdc_backfill b JOIN cdc_tables t USING (table_id) WHERE t.table_name = 'orders'");
      return copy?.reason === 'joined' && copy.status === 'done';
    });
    await waitCaughtUp(dbs);
    await waitWriterCaughtUp(dbs.buffer.url);
    expect((await verifyPipeline(deps, { table: 'public.orders' }))[0].ok).toBe(true);
  });

  it('checks, on request, the key index of a table deleting by position against its files', async () => {
    const [plain] = await verifyPipeline(deps, { table: 'public.orders' });
    expect(plain.keyIndex).toBeUndefined();
    const [checked] = await verifyPipeline({ ...deps, checkKeyIndex: true }, { table: 'public.orders' });
    expect(checked).toMatchObject({ table: 'public.orders', ok: true, keyIndex: { ok: true, missing: 0, misplaced: 0, extra: 0 } });
    expect(formatReport([checked])).toMatch(/✓ public\.orders \(upsert\).*no differences; key index matches the files at snapshot \d+/);
    // Broken by hand: a key lost, one placed on another row, one that no row has.
    const orders = "(SELECT table_id FROM cdc_tables WHERE table_name = 'orders')";
    await query(dbs.buffer.url, `DELETE FROM iceberg_key_index WHERE table_id = ${orders} AND key = (SELECT key FROM iceberg_key_index WHERE table_id = ${orders} ORDER BY key LIMIT 1)`);
    await query(dbs.buffer.url, `UPDATE iceberg_key_index SET pos = pos + 1000000 WHERE table_id = ${orders} AND key = (SELECT key FROM iceberg_key_index WHERE table_id = ${orders} ORDER BY key DESC LIMIT 1)`);
    await query(dbs.buffer.url, `INSERT INTO iceberg_key_index (table_id, key, file_id, pos) SELECT table_id, '\\x00000000000000000000000000000001', file_id, 0 FROM iceberg_key_index WHERE table_id = ${orders} LIMIT 1`);
    const [broken] = await verifyPipeline({ ...deps, checkKeyIndex: true }, { table: 'public.orders' });
    expect(broken).toMatchObject({ ok: false, missing: [], extra: [], different: [], keyIndex: { ok: false, missing: 1, misplaced: 1, extra: 1 } });
    expect(formatReport([broken])).toMatch(/✗ public\.orders \(upsert\).*rows match; key index at snapshot \d+: 1 keys missing, 1 misplaced, 1 extra/);
  });

  it('finds a row written twice and a row from nowhere in the Iceberg table', async () => {
    await writer.process.stop();
    const id = { namespace: 'public', name: 'orders' };
    const base = (await tables.load(id))!;
    const schema = currentSchema(base.metadata);
    const rows: unknown[][] = [];
    for await (const row of snapshotRows(tables, base.metadata, currentSnapshot(base.metadata)!['snapshot-id'], schema.fields)) {
      if (row[0] === 1) rows.push(row, [70001, ...row.slice(1)]);
    }
    const file = await writeDataFile(tables.store, base.metadata.location, schema, schema.fields, rows);
    const parent = currentSnapshot(base.metadata)!;
    const carried = Object.fromEntries(Object.entries(parent.summary).filter(([key]) => key.startsWith('philotes.')));
    const prepared = await tables.prepare(base, { operation: 'append', addedDataFiles: [file], addedDeleteFiles: [], summary: carried });
    expect(await tables.publish(base, prepared)).toBe(true);

    const [verdict] = await verifyPipeline(deps, { table: 'public.orders' });
    expect(verdict.duplicated.map((d) => d.key)).toEqual(['number:1']);
    expect(verdict.extra.map((d) => d.key)).toEqual(['number:70001']);
    expect(verdict.missing).toEqual([]);
  });

  it('runs as `philotes verify` (the built command): prints the report and exits non-zero on a difference', async () => {
    const env = { ...process.env, ...readerEnv(dbs), PHILOTES_ICEBERG_WAREHOUSE: warehouse, PHILOTES_LOG_LEVEL: 'error' };
    const cli = join(ROOT, 'dist', 'apps', 'philotes', 'main.js');
    const failed = await run(process.execPath, [cli, 'verify', '--table', 'public.orders'], { cwd: ROOT, env }).then(
      () => ({ code: 0, stdout: '' }),
      (error: { code: number; stdout: string }) => error,
    );
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/✗ public\.orders \(upsert\) at snapshot \d+ \(source position [0-9A-F]+\/[0-9A-F]+\).*1 extra, 1 duplicated/);
    const passed = await run(process.execPath, [cli, 'verify', '--table', 'public.clicks'], { cwd: ROOT, env });
    expect(passed.stdout).toMatch(/✓ public\.clicks \(append\).*no differences/);
    const json = await run(process.execPath, [cli, 'verify', '--table', 'public.clicks', '--json'], { cwd: ROOT, env });
    expect((JSON.parse(json.stdout) as Array<{ table: string; ok: boolean }>).map((v) => [v.table, v.ok])).toEqual([['public.clicks', true]]);
  });
});
