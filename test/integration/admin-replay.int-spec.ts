import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Client } from 'pg';
import { api, RunningAdmin, startAdmin } from '../support/admin';
import { eventuallyStatus } from '../support/app-process';
import { CaptureDatabases, createCaptureDatabases, RunningReader, sourceClient, startReader, waitCaughtUp } from '../support/capture';
import { query } from '../support/database';
import { eventually } from '../support/eventually';
import { byKey, readIcebergTable, RunningWriter, startWriter, tempWarehouse, waitWriterCaughtUp } from '../support/writer';

interface Letter {
  id: string;
  status: string;
  attempts: number;
  history: Array<{ event: string }>;
  payload: { after?: Record<string, unknown> };
}

/**
 * Real: a source, the reader, the writer and two dlq-admin processes over HTTP. Poison events
 * (numeric NaN into decimal(10,2)) go to the dead letters; once the cause is fixed, replays through
 * the API land in Iceberg exactly once, and never over a newer change of the same row.
 */
describe('dead letters replayed through the admin API', () => {
  let dbs: CaptureDatabases;
  let source: Client;
  let reader: RunningReader;
  let writer: RunningWriter;
  let adminA: RunningAdmin;
  let adminB: RunningAdmin;
  const warehouse = tempWarehouse();
  const writerSettings = { PHILOTES_RETRY_MAX_ATTEMPTS: '2' };

  const letters = async (filter = ''): Promise<Array<{ id: string; status: string }>> => {
    const page = await api<{ items: Array<{ id: string; status: string }> }>(adminA, 'GET', `/api/v1/dead-letters?table=orders&limit=1000${filter}`);
    return page.body.items;
  };
  const letterOf = async (id: string): Promise<Letter> => (await api<Letter>(adminA, 'GET', `/api/v1/dead-letters/${id}`)).body;
  const idOfKey = async (key: number, status = ''): Promise<string> => {
    const rows = await query<{ id: string }>(
      dbs.buffer.url,
      `SELECT d.id::text FROM cdc_dead_letters d WHERE d.row_key = $1 ${status ? 'AND d.status = $2' : ''} ORDER BY d.id DESC LIMIT 1`,
      status ? [`number:${key}`, status] : [`number:${key}`],
    );
    return rows[0].id;
  };

  beforeAll(async () => {
    dbs = await createCaptureDatabases();
    source = await sourceClient(dbs);
    await source.query('CREATE TABLE orders (id int PRIMARY KEY, amount numeric(10,2), note text)');
    reader = await startReader(dbs);
    writer = await startWriter(dbs, warehouse, writerSettings);
    adminA = await startAdmin(dbs.buffer.url);
    adminB = await startAdmin(dbs.buffer.url);
    await eventuallyStatus(`${reader.base}/health/ready`, 200);
  });

  afterAll(async () => {
    await Promise.all([writer?.process.stop(), adminA?.process.stop(), adminB?.process.stop()]);
    await reader?.process.stop();
    await source?.end();
    await dbs?.drop();
  });

  it('isolates poison events as dead letters, and marks one superseded when a later change of its row is written', async () => {
    await source.query("INSERT INTO orders SELECT g, g * 1.5, 'good' FROM generate_series(1, 10) g");
    await source.query("INSERT INTO orders SELECT g, 'NaN', 'poison' FROM generate_series(100, 119) g");
    await source.query("INSERT INTO orders VALUES (200, 'NaN', 'fixed later')");
    await source.query('UPDATE orders SET amount = 5 WHERE id = 200');
    await source.query("UPDATE orders SET amount = 'NaN', note = 'poisoned update' WHERE id = 3");
    await waitCaughtUp(dbs);
    await waitWriterCaughtUp(dbs.buffer.url);

    const all = await letters();
    expect(all).toHaveLength(22);
    expect(all.filter((l) => l.status === 'superseded').map((l) => l.id)).toEqual([await idOfKey(200)]);
    const detail = await letterOf(await idOfKey(3));
    expect(detail.payload.after).toEqual({ id: 3, amount: 'NaN', note: 'poisoned update' });
    // The rest flowed: the good rows and key 200's later value are in the table.
    const table = byKey((await readIcebergTable(dbs.buffer.url, 'public', 'orders'))!.rows, 'id');
    expect([...table.keys()].sort((a, b) => Number(a) - Number(b))).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '200']);
    expect(Number(table.get('200')!.amount)).toBe(5);
  });

  it('puts a replay that fails again back to pending, with the failure in its history', async () => {
    const id = await idOfKey(100);
    expect((await api(adminA, 'POST', `/api/v1/dead-letters/${id}/replay`)).status).toBe(202);
    const letter = await eventually('the replay to fail again', async () => {
      const l = await letterOf(id);
      return l.status === 'pending' && l.history.some((h) => h.event === 'replay-failed') ? l : undefined;
    });
    expect(letter.attempts).toBe(3);
    expect(letter.history.map((h) => h.event)).toEqual(['failed', 'replay-requested', 'replay-failed']);
  });

  it('after the cause is fixed, a concurrent replay from two admin instances lands every row exactly once', async () => {
    // The fix: values Iceberg cannot hold are written as NULL.
    await writer.process.stop();
    writer = await startWriter(dbs, warehouse, { ...writerSettings, PHILOTES_ICEBERG_UNREPRESENTABLE: 'null' });

    const [a, b] = await Promise.all([
      api<{ count: number; more: boolean }>(adminA, 'POST', '/api/v1/dead-letters/replay', { body: { table: 'orders', limit: 50, requestedBy: 'a' } }),
      api<{ count: number; more: boolean }>(adminB, 'POST', '/api/v1/dead-letters/replay', { body: { table: 'orders', limit: 50, requestedBy: 'b' } }),
    ]);
    expect([a.status, b.status]).toEqual([202, 202]);
    expect(a.body.count + b.body.count).toBe(21);
    await eventually('every replay to be applied', async () => (await letters()).every((l) => l.status === 'replayed' || l.status === 'superseded'));

    // Asked again, from either instance: nothing left to queue, and the replayed one refuses.
    const again = await api<{ count: number }>(adminB, 'POST', '/api/v1/dead-letters/replay', { body: { table: 'orders' } });
    expect(again.body.count).toBe(0);
    expect((await api(adminA, 'POST', `/api/v1/dead-letters/${await idOfKey(100)}/replay`)).status).toBe(409);

    const expected = await query<{ id: string; amount: string }>(dbs.source.url, 'SELECT id::text, amount::text FROM orders ORDER BY id');
    const iceberg = (await readIcebergTable(dbs.buffer.url, 'public', 'orders'))!;
    // Exactly once: one row per key, no duplicates from two instances or repeated requests.
    expect(iceberg.rows).toHaveLength(expected.length);
    const rows = byKey(iceberg.rows, 'id');
    for (const row of expected) {
      const amount = rows.get(row.id)?.amount;
      expect([row.id, amount === null ? null : Number(amount)]).toEqual([row.id, row.amount === 'NaN' ? null : Number(row.amount)]);
    }
  });

  it('never replays over a newer change of the same row (superseded → 409; the newer value stays)', async () => {
    const superseded = await idOfKey(200);
    const refused = await api<{ status: string; message: string }>(adminA, 'POST', `/api/v1/dead-letters/${superseded}/replay`);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ status: 'superseded', message: expect.stringMatching(/later change/) });

    // A letter queued while its table is paused, then overtaken by a newer change: the newer value wins.
    await api(adminA, 'POST', '/api/v1/sources/test/tables/public/orders/pause', { body: { reason: 'hold for the test' } });
    await eventually('the writer to let the table go', async () => {
      const [row] = await query<{ details: { tables?: string[] } }>(dbs.buffer.url, "SELECT details FROM pipeline_instances WHERE app = 'iceberg-writer' AND state = 'running'");
      return row && !(row.details.tables ?? []).includes('public.orders');
    });
    await source.query("INSERT INTO orders VALUES (400, 'NaN', 'poison again')");
    await source.query("UPDATE orders SET amount = 'NaN' WHERE id = 5");
    await waitCaughtUp(dbs);
    await writer.process.stop();
    writer = await startWriter(dbs, warehouse, writerSettings); // reject again: both become dead letters
    await api(adminA, 'POST', '/api/v1/sources/test/tables/public/orders/resume', { body: {} });
    await waitWriterCaughtUp(dbs.buffer.url);
    const pendingFive = await idOfKey(5, 'pending');
    await source.query('UPDATE orders SET amount = 55 WHERE id = 5');
    await waitCaughtUp(dbs);
    await waitWriterCaughtUp(dbs.buffer.url);
    // The newer change of key 5 was written: its older dead letter can never come back.
    expect((await letterOf(pendingFive)).status).toBe('superseded');
    expect((await api(adminA, 'POST', `/api/v1/dead-letters/${pendingFive}/replay`)).status).toBe(409);
    const rows = byKey((await readIcebergTable(dbs.buffer.url, 'public', 'orders'))!.rows, 'id');
    expect(Number(rows.get('5')!.amount)).toBe(55);
    expect(rows.has('400')).toBe(false);
    expect((await letterOf(await idOfKey(400))).status).toBe('pending');
  });

  it('replays a letter captured under an older schema onto the current one, never renaming a live column', async () => {
    await source.query("INSERT INTO orders VALUES (500, 'NaN', 'captured under the first schema')");
    await waitCaughtUp(dbs);
    await eventually('the letter', async () => (await query(dbs.buffer.url, "SELECT 1 FROM cdc_dead_letters WHERE row_key = 'number:500' AND status = 'pending'")).length === 1);
    const letter = await idOfKey(500, 'pending');
    // The table changes after the letter was captured: id widens to bigint, a column joins.
    await source.query('ALTER TABLE orders ALTER COLUMN id TYPE bigint');
    await source.query('ALTER TABLE orders ADD COLUMN extra text');
    await source.query("INSERT INTO orders VALUES (501, 5, 'under the new schema', 'x')");
    await waitCaughtUp(dbs);
    await waitWriterCaughtUp(dbs.buffer.url);
    const before = (await readIcebergTable(dbs.buffer.url, 'public', 'orders'))!;
    const schemaOf = async () => {
      const metadata = JSON.parse(await readFile(fileURLToPath((await readIcebergTable(dbs.buffer.url, 'public', 'orders'))!.metadataLocation), 'utf8')) as { 'current-schema-id': number; schemas: Array<{ 'schema-id': number; fields: Array<{ name: string; type: unknown }> }> };
      const current = metadata.schemas.find((schema) => schema['schema-id'] === metadata['current-schema-id'])!;
      return { id: current['schema-id'], fields: current.fields.map((f) => `${f.name}:${JSON.stringify(f.type)}`) };
    };
    const schema = await schemaOf();
    expect(schema.fields).toEqual(['id:"long"', 'amount:"decimal(10, 2)"', 'note:"string"', 'extra:"string"']);
    expect(before.rows.some((r) => String(r.id) === '501')).toBe(true);

    await writer.process.stop();
    writer = await startWriter(dbs, warehouse, { ...writerSettings, PHILOTES_ICEBERG_UNREPRESENTABLE: 'null' });
    expect((await api(adminA, 'POST', `/api/v1/dead-letters/${letter}/replay`)).status).toBe(202);
    await eventually('the replay', async () => (await letterOf(letter)).status === 'replayed');
    const rows = byKey((await readIcebergTable(dbs.buffer.url, 'public', 'orders'))!.rows, 'id');
    expect(rows.get('500')).toMatchObject({ amount: null, note: 'captured under the first schema', extra: null });
    // The same schema: no field renamed to id__before_1, none added back for the old int id.
    expect(await schemaOf()).toEqual(schema);
  });
});
