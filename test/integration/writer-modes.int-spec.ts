import { eventuallyStatus } from '../support/app-process';
import { CaptureDatabases, createCaptureDatabases, RunningReader, sourceClient, startReader, waitCaughtUp } from '../support/capture';
import { query } from '../support/database';
import { byKey, readIcebergTable, RunningWriter, startWriter, tempWarehouse, waitWriterCaughtUp } from '../support/writer';

describe('iceberg-writer modes', () => {
  let dbs: CaptureDatabases;
  let reader: RunningReader;
  let writer: RunningWriter;

  beforeAll(async () => {
    dbs = await createCaptureDatabases();
    const source = await sourceClient(dbs);
    await source.query('CREATE TABLE items (id int PRIMARY KEY, name text, qty int); CREATE TABLE log (msg text)');
    await source.query("INSERT INTO items SELECT g, 'n' || g, g FROM generate_series(1, 100) g");
    await source.end();
    reader = await startReader(dbs);
    writer = await startWriter(dbs, tempWarehouse());
    // Ready means streaming, after the initial copy: later writes arrive as changes (I), not copied rows (R).
    await eventuallyStatus(`${reader.base}/health/ready`, 200);
    await eventuallyStatus(`${writer.base}/health/ready`, 200);
  });

  afterAll(async () => {
    await writer?.process.stop();
    await reader?.process.stop();
    await dbs?.drop();
  });

  it('mirrors a table with a primary key and logs one without (auto mode)', async () => {
    const source = await sourceClient(dbs);
    await source.query("UPDATE items SET qty = qty * 10 WHERE id <= 10; DELETE FROM items WHERE id > 90; INSERT INTO log VALUES ('a'), ('b')");
    await source.end();
    await waitCaughtUp(dbs);
    await waitWriterCaughtUp(dbs.buffer.url);
    const items = await readIcebergTable(dbs.buffer.url, 'public', 'items');
    const expected = await query<{ id: number; name: string; qty: number }>(dbs.source.url, 'SELECT id, name, qty FROM items ORDER BY id');
    const actual = byKey(items!.rows, 'id');
    expect(actual.size).toBe(expected.length);
    for (const row of expected) expect(actual.get(String(row.id))).toEqual({ id: row.id, name: row.name, qty: row.qty });
    const log = await readIcebergTable(dbs.buffer.url, 'public', 'log');
    // The log opens with its (empty) copy's TRUNCATE, at a copy's negative position.
    const ordered = [...log!.rows].sort((x, y) => Number(x._cdc_seq) - Number(y._cdc_seq));
    expect(ordered.map((r) => [r.msg ?? null, r._cdc_op, Number(r._cdc_seq) < 0])).toEqual([
      [null, 'T', true],
      ['a', 'I', false],
      ['b', 'I', false],
    ]);
  });
});
