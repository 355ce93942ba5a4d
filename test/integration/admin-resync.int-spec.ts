import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Client } from 'pg';
import { api, RunningAdmin, startAdmin } from '../support/admin';
import { eventuallyStatus } from '../support/app-process';
import { CaptureDatabases, createCaptureDatabases, RunningReader, sourceClient, startReader, waitCaughtUp } from '../support/capture';
import { query } from '../support/database';
import { eventually } from '../support/eventually';
import { readIcebergTable, RunningWriter, startWriter, tempWarehouse, waitWriterCaughtUp } from '../support/writer';

interface Snapshot {
  'snapshot-id': number;
  'parent-snapshot-id'?: number;
  summary: Record<string, string>;
}

async function snapshots(dbs: CaptureDatabases, table: string): Promise<Snapshot[]> {
  const read = await readIcebergTable(dbs.buffer.url, 'public', table);
  return (JSON.parse(await readFile(fileURLToPath(read!.metadataLocation), 'utf8')) as { snapshots: Snapshot[] }).snapshots;
}

async function mirrored(dbs: CaptureDatabases, table: string): Promise<string[]> {
  const read = await readIcebergTable(dbs.buffer.url, 'public', table);
  return (read?.rows ?? []).map((r) => `${r.id}:${r.v}`).sort((a, b) => Number(a.split(':')[0]) - Number(b.split(':')[0]));
}

async function sourceRows(dbs: CaptureDatabases, table: string): Promise<string[]> {
  return (await query<{ id: number; v: string }>(dbs.source.url, `SELECT id, v FROM ${table} ORDER BY id`)).map((r) => `${r.id}:${r.v}`);
}

async function waitMirrored(dbs: CaptureDatabases, table: string): Promise<void> {
  await eventually(`${table} to equal the source`, async () => JSON.stringify(await mirrored(dbs, table)) === JSON.stringify(await sourceRows(dbs, table)), { timeoutMs: 60_000 }).catch(async (error: Error) => {
    throw new Error(`${error.message}: source ${(await sourceRows(dbs, table)).length} rows, iceberg ${(await mirrored(dbs, table)).length}`);
  });
}

describe('resync through the admin API', () => {
  let dbs: CaptureDatabases;
  let reader: RunningReader | undefined;
  let writer: RunningWriter | undefined;
  let admin: RunningAdmin;
  const warehouse = tempWarehouse();

  beforeAll(async () => {
    dbs = await createCaptureDatabases();
    const source = await sourceClient(dbs);
    await source.query(`
      CREATE TABLE orders (id int PRIMARY KEY, v text); CREATE TABLE other (id int PRIMARY KEY, v text);
      INSERT INTO orders SELECT g, 'o' || g FROM generate_series(1, 30) g; INSERT INTO other SELECT g, 'x' || g FROM generate_series(1, 5) g;
      CREATE PUBLICATION ${dbs.publication} FOR TABLE orders, other;
    `);
    await source.end();
    reader = await startReader(dbs);
    await eventuallyStatus(`${reader.base}/health/ready`, 200);
    writer = await startWriter(dbs, warehouse);
    admin = await startAdmin(dbs.buffer.url);
    await waitMirrored(dbs, 'orders');
  });

  afterAll(async () => {
    await admin?.process.stop();
    await writer?.process.stop();
    await reader?.process.stop();
    await dbs?.drop();
  });

  it('copies one table again, switching its Iceberg table to the copy in one snapshot, while the others keep their place', async () => {
    // Changes whose events were lost from the buffer (as by a bug, or a hand-made clean-up): Iceberg lacks them.
    await writer!.process.stop();
    const source = await sourceClient(dbs);
    await source.query("INSERT INTO orders SELECT g, 'lost' || g FROM generate_series(31, 40) g; UPDATE orders SET v = 'changed, lost' WHERE id = 1");
    await waitCaughtUp(dbs);
    await query(dbs.buffer.url, "DELETE FROM cdc_events e USING cdc_tables t WHERE t.table_id = e.table_id AND t.table_name = 'orders' AND e.seq >= 0");
    writer = await startWriter(dbs, warehouse);
    await source.query("INSERT INTO orders VALUES (50, 'streamed'); INSERT INTO other VALUES (50, 'streamed')");
    await waitCaughtUp(dbs);
    await waitWriterCaughtUp(dbs.buffer.url);
    await eventually('the streamed row', async () => (await mirrored(dbs, 'orders')).includes('50:streamed'));
    expect((await mirrored(dbs, 'orders')).length).toBe(31);
    const before = await snapshots(dbs, 'orders');
    const otherProgress = await query(dbs.buffer.url, "SELECT p.applied_lsn::text FROM cdc_writer_progress p JOIN cdc_tables t USING (table_id) WHERE t.table_name = 'other'");

    const answer = await api(admin, 'POST', `/api/v1/sources/test/tables/public/orders/resync`, { body: { requestedBy: 'alice' } });
    expect(answer.status).toBe(202);
    expect(answer.body).toEqual({ source: 'test', table: 'public.orders', tables: 1, fromScratch: false });
    await waitMirrored(dbs, 'orders');
    await source.query("INSERT INTO orders VALUES (60, 'after the resync')");
    await source.end();
    await waitMirrored(dbs, 'orders');

    // One snapshot holds the whole copy and removes every earlier file: no reader sees a mix.
    const after = (await snapshots(dbs, 'orders')).slice(before.length);
    const copy = after.filter((s) => Number(s.summary['deleted-data-files'] ?? 0) > 0);
    expect(copy).toHaveLength(1);
    expect(copy[0]['parent-snapshot-id']).toBe(before.at(-1)!['snapshot-id']);
    expect(copy[0].summary).toMatchObject({ operation: 'overwrite', 'added-records': '41', 'total-records': '41', 'deleted-data-files': before.at(-1)!.summary['total-data-files'] });
    const [copied] = await query<{ reason: string; status: string; requested_by: string }>(dbs.buffer.url, "SELECT reason, status, requested_by FROM cdc_backfill b JOIN cdc_tables t USING (table_id) WHERE t.table_name = 'orders'");
    expect(copied).toEqual({ reason: 'resync', status: 'done', requested_by: 'alice' });
    // The other table was not copied again.
    const [otherCopy] = await query<{ reason: string }>(dbs.buffer.url, "SELECT reason FROM cdc_backfill b JOIN cdc_tables t USING (table_id) WHERE t.table_name = 'other'");
    expect(otherCopy.reason).toBe('initial');
    expect(otherProgress).toHaveLength(1);
    await waitMirrored(dbs, 'other');
  });

  it('copies beside the stream: while a copy is under way the other tables flow, and changes committed after its snapshot land once, after it', async () => {
    await waitMirrored(dbs, 'orders');
    const [{ table_id: tableId }] = await query<{ table_id: number }>(dbs.buffer.url, "SELECT table_id FROM cdc_tables WHERE table_name = 'orders'");
    const copyState = async () => (await query<{ status: string }>(dbs.buffer.url, 'SELECT status FROM cdc_backfill WHERE table_id = $1', [tableId]))[0].status;
    // Holds the copy after its snapshot and the stream's fence, where it plans (a row lock the
    // plan takes FOR UPDATE; the admin's request, a plain update, passes it).
    const holder = new Client({ connectionString: dbs.buffer.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM cdc_backfill WHERE table_id = $1 FOR KEY SHARE', [tableId]);
      expect((await api(admin, 'POST', `/api/v1/sources/test/tables/public/orders/resync`, { body: {} })).status).toBe(202);
      await eventually('the copy to wait at its plan', async () => {
        const waiting = await query(dbs.buffer.url, "SELECT 1 FROM pg_stat_activity WHERE application_name = 'philotes-wal-reader-copy' AND wait_event_type = 'Lock'");
        return waiting.length === 1;
      });

      const source = await sourceClient(dbs);
      await source.query("INSERT INTO other VALUES (90, 'while orders copies'); UPDATE other SET v = 'changed while orders copies' WHERE id = 1");
      // After the copy's snapshot: not in the copy, so they must stream and apply after it.
      await source.query("UPDATE orders SET v = 'during the copy' WHERE id = 2; INSERT INTO orders VALUES (90, 'during the copy'); DELETE FROM orders WHERE id = 3");
      await waitCaughtUp(dbs);
      await waitMirrored(dbs, 'other');
      expect(await copyState()).toBe('requested');
      await holder.query('COMMIT');
      await source.query("UPDATE orders SET v = 'after the copy' WHERE id = 4");
      await source.end();
    } finally {
      await holder.end();
    }
    await waitCaughtUp(dbs);
    await eventually('the copy to finish', async () => (await copyState()) === 'done');
    await waitWriterCaughtUp(dbs.buffer.url);
    await waitMirrored(dbs, 'orders');
    expect(await mirrored(dbs, 'orders')).toEqual(expect.arrayContaining(['2:during the copy', '90:during the copy', '4:after the copy']));
    expect(await mirrored(dbs, 'orders')).not.toContain('3:o3');
    await waitMirrored(dbs, 'other');
  });

  it('refuses fromScratch for one table, and unknown tables and sources, naming what is wrong', async () => {
    const table = await api(admin, 'POST', '/api/v1/sources/test/tables/public/orders/resync', { body: { fromScratch: true } });
    expect(table.status).toBe(400);
    expect(String(table.body.message)).toContain('fromScratch');
    expect((await api(admin, 'POST', '/api/v1/sources/test/tables/public/nope/resync', { body: {} })).status).toBe(404);
    expect((await api(admin, 'POST', '/api/v1/sources/nope/resync', { body: {} })).status).toBe(404);
    const bad = await api(admin, 'POST', '/api/v1/sources/test/resync', { body: { fromScratch: 'yes' } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('fromScratch');
  });

  it('takes a table named in the body, for names no URL path carries (`.`, `..`)', async () => {
    const source = await sourceClient(dbs);
    await source.query(`CREATE SCHEMA "."; CREATE TABLE "."."..." (id int PRIMARY KEY, v text); CREATE TABLE ".".".." (id int PRIMARY KEY, v text);
      INSERT INTO ".".".." VALUES (1, 'dots'); ALTER PUBLICATION ${dbs.publication} ADD TABLE ".".".."`);
    await source.end();
    // Its first copy (it joined the publication) done: a resync asked while a copy runs is left to that copy.
    await eventually('the joined table copied', async () =>
      (await query(dbs.buffer.url, "SELECT 1 FROM cdc_backfill b JOIN cdc_tables t USING (table_id) WHERE t.schema_name = '.' AND t.table_name = '..' AND b.status = 'done'")).length === 1,
    );
    const named = await api(admin, 'POST', '/api/v1/sources/test/resync', { body: { table: { schema: '.', name: '..' }, requestedBy: 'carol' } });
    expect(named.status).toBe(202);
    expect(named.body).toEqual({ source: 'test', table: '....', tables: 1, fromScratch: false });
    await eventually('the dotted table copied again', async () => {
      const [row] = await query<{ status: string; requested_by: string }>(dbs.buffer.url, "SELECT b.status, b.requested_by FROM cdc_backfill b JOIN cdc_tables t USING (table_id) WHERE t.schema_name = '.' AND t.table_name = '..'");
      return row?.status === 'done' && row.requested_by === 'carol';
    });
    const unknown = await api(admin, 'POST', '/api/v1/sources/test/resync', { body: { table: { schema: '.', name: '...' } } });
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toBe('table ..... of source test not found');
    const both = await api(admin, 'POST', '/api/v1/sources/test/tables/public/orders/resync', { body: { table: { schema: 'public', name: 'orders' } } });
    expect(both.status).toBe(400);
    expect(String(both.body.message)).toMatch(/^table: /);
    const bad = await api(admin, 'POST', '/api/v1/sources/test/resync', { body: { table: { schema: '', name: 7 } } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('table.name');
  });

  it('starts a source over from scratch after its slot was lost, whatever LSNs the old history had', async () => {
    await reader!.process.stop();
    const source = await sourceClient(dbs);
    await source.query('SELECT pg_drop_replication_slot($1)', [dbs.slot]);
    await source.query("INSERT INTO orders VALUES (70, 'while the slot was gone'); DELETE FROM other WHERE id = 1");
    // The old history lies far ahead of the source's LSNs (as after a restore or a move of the cluster).
    await query(dbs.buffer.url, "UPDATE cdc_checkpoints SET confirmed_lsn = 'FF/0'");
    await query(dbs.buffer.url, "UPDATE cdc_writer_progress SET applied_lsn = 'FF/0'");

    reader = await startReader(dbs);
    const failed = await reader.process.waitForLog('the lost slot', (line) => line.message === 'pipeline state starting → failed');
    expect(String(failed.reason)).toContain('"fromScratch": true');
    await reader.process.stop();

    const answer = await api(admin, 'POST', '/api/v1/sources/test/resync', { body: { fromScratch: true, requestedBy: 'bob' } });
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ source: 'test', fromScratch: true, tables: 3 });
    reader = await startReader(dbs);
    await reader.process.waitForLog('the start over', (line) => line.message === 'starting the source over, as an operator asked: a new slot, every table copied again');
    await waitMirrored(dbs, 'orders');
    await waitMirrored(dbs, 'other');
    await source.query("INSERT INTO orders VALUES (80, 'streamed on'); UPDATE other SET v = 'streamed on' WHERE id = 2");
    await source.end();
    await waitMirrored(dbs, 'orders');
    await waitMirrored(dbs, 'other');
    const [checkpoint] = await query<{ confirmed_lsn: string; resync: boolean }>(dbs.buffer.url, 'SELECT confirmed_lsn::text, resync_requested_at IS NOT NULL AS resync FROM cdc_checkpoints');
    expect(checkpoint.resync).toBe(false);
    expect(checkpoint.confirmed_lsn.startsWith('FF/')).toBe(false);
  });
});
