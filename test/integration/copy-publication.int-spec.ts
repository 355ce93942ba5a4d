import { eventuallyStatus } from '../support/app-process';
import { CaptureDatabases, createCaptureDatabases, RunningReader, sourceClient, startReader, waitCaughtUp } from '../support/capture';
import { query } from '../support/database';
import { readIcebergTable, RunningWriter, startWriter, tempWarehouse, waitWriterCaughtUp } from '../support/writer';

// The copy must return exactly what the publication streams: its column list, its row filter, and
// a partitioned table published through its root as one table with every partition's rows.
describe('initial copy follows the publication', () => {
  let dbs: CaptureDatabases;
  let reader: RunningReader | undefined;
  let writer: RunningWriter | undefined;

  beforeAll(async () => {
    dbs = await createCaptureDatabases();
    const source = await sourceClient(dbs);
    await source.query(`
      CREATE TABLE accounts (id int PRIMARY KEY, name text, password_hash text);
      INSERT INTO accounts SELECT g, 'n' || g, 'secret' || g FROM generate_series(1, 20) g;
      CREATE TABLE events (id int, region text, v text, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
      CREATE TABLE events_eu PARTITION OF events FOR VALUES IN ('eu');
      CREATE TABLE events_us PARTITION OF events FOR VALUES IN ('us');
      INSERT INTO events SELECT g, CASE WHEN g % 2 = 0 THEN 'eu' ELSE 'us' END, 'copied' FROM generate_series(1, 10) g;
      CREATE PUBLICATION ${dbs.publication} FOR TABLE accounts (id, name) WHERE (id > 10), TABLE events WITH (publish_via_partition_root = true);
    `);
    await source.end();
  });

  afterAll(async () => {
    await writer?.process.stop();
    await reader?.process.stop();
    await dbs?.drop();
  });

  it('copies only published columns and rows, and a partitioned root with all its partitions', async () => {
    reader = await startReader(dbs);
    await eventuallyStatus(`${reader.base}/health/ready`, 200);
    writer = await startWriter(dbs, tempWarehouse());
    const source = await sourceClient(dbs);
    await source.query(`
      DELETE FROM accounts WHERE id = 5; INSERT INTO accounts VALUES (5, 'filtered out', 'x'), (25, 'streamed', 'y');
      UPDATE accounts SET name = 'renamed' WHERE id = 15;
      INSERT INTO events VALUES (11, 'eu', 'streamed'), (12, 'us', 'streamed');
    `);
    await source.end();
    await waitCaughtUp(dbs);
    await waitWriterCaughtUp(dbs.buffer.url);

    const accounts = await readIcebergTable(dbs.buffer.url, 'public', 'accounts');
    const expected = await query<{ id: number; name: string }>(dbs.source.url, 'SELECT id, name FROM accounts WHERE id > 10 ORDER BY id');
    expect(accounts!.rows.map((r) => ({ id: r.id, name: r.name })).sort((a, b) => Number(a.id) - Number(b.id))).toEqual(expected);
    // The column left out of the publication never reaches Iceberg, copied or streamed.
    expect(accounts!.rows.every((r) => !('password_hash' in r))).toBe(true);
    const [{ columns }] = await query<{ columns: Array<{ name: string }> }>(
      dbs.buffer.url,
      "SELECT h.columns FROM cdc_schema_history h JOIN cdc_tables t USING (table_id) WHERE t.table_name = 'accounts' ORDER BY version DESC LIMIT 1",
    );
    expect(columns.map((c) => c.name)).toEqual(['id', 'name']);

    // One table for the root, holding every partition's rows; none for the partitions.
    const events = await readIcebergTable(dbs.buffer.url, 'public', 'events');
    const rows = await query<{ id: number; region: string; v: string }>(dbs.source.url, 'SELECT id, region, v FROM events ORDER BY id');
    expect(events!.rows.map((r) => ({ id: r.id, region: r.region, v: r.v })).sort((a, b) => Number(a.id) - Number(b.id))).toEqual(rows);
    expect(await readIcebergTable(dbs.buffer.url, 'public', 'events_eu')).toBeUndefined();
    expect(await readIcebergTable(dbs.buffer.url, 'public', 'events_us')).toBeUndefined();
    const versions = await query<{ n: number }>(dbs.buffer.url, "SELECT count(*)::int AS n FROM cdc_schema_history h JOIN cdc_tables t USING (table_id) WHERE t.table_name IN ('accounts', 'events')");
    expect(versions[0].n).toBe(2); // the copy recorded the schema the stream then sent: no second version
  });
});
