import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client } from 'pg';
import { eventuallyStatus, httpGet } from '../support/app-process';
import { CaptureDatabases, createCaptureDatabases, RunningReader, sourceClient, startReader, waitCaughtUp } from '../support/capture';
import { query } from '../support/database';
import { eventually } from '../support/eventually';
import { Workload } from '../support/workload';
import { byKey, readIcebergTable, RunningWriter, startWriter, tempWarehouse, waitWriterCaughtUp } from '../support/writer';

const SEED = Number(process.env.PHILOTES_TEST_SEED ?? 20261121);

/** Every row of a source table equals its row in the Iceberg table (read by icebird), and nothing more. */
async function expectMirrored(dbs: CaptureDatabases, table: string, columns: string[]): Promise<void> {
  const iceberg = await readIcebergTable(dbs.buffer.url, 'public', table);
  const expected = await query<Record<string, unknown>>(dbs.source.url, `SELECT id::text AS id, ${columns.join(', ')} FROM ${table} ORDER BY id`);
  const actual = byKey(iceberg?.rows ?? [], 'id');
  expect({ table, rows: iceberg?.rows.length }).toEqual({ table, rows: expected.length });
  const wrong = expected.filter((row) => columns.some((c) => String(actual.get(row.id as string)?.[c]) !== String(row[c])));
  expect({ table, wrong: wrong.slice(0, 3) }).toEqual({ table, wrong: [] });
}

describe('iceberg-writer operations', () => {
  let dbs: CaptureDatabases;
  let reader: RunningReader;
  const writers: RunningWriter[] = [];

  beforeEach(async () => {
    dbs = await createCaptureDatabases();
  });

  afterEach(async () => {
    for (const writer of writers.splice(0)) await writer.process.stop();
    await reader?.process.stop();
    await dbs.drop();
  });

  /** The tables a writer holds, from its row in pipeline_instances. */
  async function tablesOf(instance: string): Promise<string[] | undefined> {
    const [row] = await query<{ details: { tables?: string[] }; heartbeat_at: Date }>(dbs.buffer.url, 'SELECT details, heartbeat_at FROM pipeline_instances WHERE instance_id = $1', [instance]);
    return row?.details.tables;
  }

  it('spreads four tables over two writers, and the survivor takes all of them when one dies', async () => {
    const TABLES = ['t1', 't2', 't3', 't4'];
    const clients: Client[] = [];
    const workloads: Workload[] = [];
    const setup = await sourceClient(dbs);
    for (const table of TABLES) await setup.query(`CREATE TABLE ${table} (id bigint PRIMARY KEY, v int NOT NULL, note text)`);
    await setup.end();
    reader = await startReader(dbs);
    await eventuallyStatus(`${reader.base}/health/ready`, 200);
    const warehouse = tempWarehouse();
    const start = async (instance: string) => {
      const writer = await startWriter(dbs, warehouse, { PHILOTES_INSTANCE_ID: instance });
      writers.push(writer);
      return writer;
    };
    const w1 = await start('w1');
    const w2 = await start('w2');
    for (const [i, table] of TABLES.entries()) {
      const client = await sourceClient(dbs);
      clients.push(client);
      const workload = new Workload(client, { table, seed: SEED + i, bigEvery: 30, bigRows: 100, firstId: 1, pauseMs: 10 });
      workload.start();
      workloads.push(workload);
    }
    try {
      // Two each: a table has one owner, and neither writer holds more than its share.
      // The shares as observed when the condition held (a later read could catch a rebalance).
      const [w1Tables, w2Tables] = await eventually('the tables to be shared two and two', async () => {
        const [a, b] = [await tablesOf('w1'), await tablesOf('w2')];
        return a?.length === 2 && b?.length === 2 && new Set([...a, ...b]).size === 4 ? [a, b] : undefined;
      });
      // Both write: each has committed to its own tables.
      await eventually('both writers to commit', async () => {
        const bodies = [(await httpGet(`${w1.base}/metrics`)).body, (await httpGet(`${w2.base}/metrics`)).body];
        return bodies.every((body) => /^philotes_writer_rows_written_total\{.*\} [1-9]/m.test(body));
      });
      expect(w1Tables).not.toEqual(w2Tables);

      w1.process.signal('SIGKILL');
      await w1.process.exit();
      await eventually('the survivor to take all four tables', async () => (await tablesOf('w2'))?.length === 4, { timeoutMs: 30_000 });

      // A returning writer gets its share back.
      await start('w1b');
      await eventually('the tables to be shared again', async () => (await tablesOf('w1b'))?.length === 2 && (await tablesOf('w2'))?.length === 2, { timeoutMs: 30_000 });
    } finally {
      for (const workload of workloads) await workload.stop();
      for (const client of clients) await client.end();
    }
    await waitCaughtUp(dbs);
    await waitWriterCaughtUp(dbs.buffer.url);
    for (const table of TABLES) await expectMirrored(dbs, table, ['v', 'note']);
  });

  it('evolves the table as the source schema changes mid-stream, and exports its metrics', async () => {
    const source = await sourceClient(dbs);
    await source.query('CREATE TABLE evolving (id int PRIMARY KEY, a int, r real, n numeric(10,2), s text, gone text)');
    reader = await startReader(dbs);
    const writer = await startWriter(dbs, tempWarehouse());
    writers.push(writer);
    await eventuallyStatus(`${reader.base}/health/ready`, 200);
    await eventuallyStatus(`${writer.base}/health/ready`, 200);

    const insert = async (from: number, to: number) =>
      source.query(`INSERT INTO evolving (id, a, r, n, s) SELECT g, g, g / 4.0, g / 100.0, 'text ' || g FROM generate_series(${from}, ${to}) g`);
    await insert(1, 100);
    await waitCaughtUp(dbs);
    await waitWriterCaughtUp(dbs.buffer.url);

    // Each change lands between writes, so the writer meets each schema version mid-stream.
    await source.query('ALTER TABLE evolving ADD COLUMN extra text');
    await insert(101, 120);
    await source.query('ALTER TABLE evolving ALTER COLUMN a TYPE bigint, ALTER COLUMN r TYPE double precision, ALTER COLUMN n TYPE numeric(14,2)');
    await source.query("INSERT INTO evolving (id, a, r, n, s, extra) VALUES (121, 9000000000, 0.1, 123456789012.34, 'wide', 'x')");
    await source.query("UPDATE evolving SET extra = 'set' WHERE id <= 10");
    await source.query('ALTER TABLE evolving ALTER COLUMN s TYPE integer USING length(s)');
    await source.query('ALTER TABLE evolving DROP COLUMN gone');
    await source.query('INSERT INTO evolving (id, a, s) VALUES (122, 1, 42)');
    await source.query('UPDATE evolving SET s = 7 WHERE id = 5');
    await source.end();
    await waitCaughtUp(dbs);
    await waitWriterCaughtUp(dbs.buffer.url);

    const table = (await readIcebergTable(dbs.buffer.url, 'public', 'evolving'))!;
    // A field added after a data file was written reads as NULL (icebird leaves it out of the row).
    const fields = ['id', 'a', 'r', 'n', 's', 'gone', 'extra', 's__before_1'];
    const rows = byKey(table.rows.map((row) => Object.fromEntries(fields.map((f) => [f, row[f] ?? null]))), 'id');
    expect(rows.size).toBe(122);
    // Promotions keep the field (and its old values); the new column starts empty.
    expect(rows.get('121')).toMatchObject({ a: 9000000000n, r: 0.1, n: 123456789012.34, s: null, s__before_1: 'wide', extra: 'x' });
    expect(rows.get('1')).toMatchObject({ a: 1n, extra: 'set', s__before_1: 'text 1', s: null });
    // Written before the promotion: the file holds an int (icebird returns it as such; engines widen it).
    expect(rows.get('50')).toMatchObject({ a: 50, r: 12.5, extra: null, s__before_1: 'text 50' });
    // After the incompatible change, the column holds the new type under its own name.
    expect(rows.get('122')).toMatchObject({ a: 1n, s: 42, s__before_1: null });
    // A row changed since holds only what the source now has.
    expect(rows.get('5')).toMatchObject({ s: 7, s__before_1: null });
    // The dropped column stays a field, NULL in rows written since.
    expect(rows.get('122')!.gone).toBeNull();

    // Field ids never change or get reused: the old column keeps its id under its new name.
    const metadata = JSON.parse(readFileSync(fileURLToPath(table.metadataLocation), 'utf8')) as {
      schemas: Array<{ 'schema-id': number; fields: Array<{ id: number; name: string; type: unknown }> }>;
    };
    const idOf = (schema: number, name: string) => metadata.schemas.find((x) => x['schema-id'] === schema)!.fields.find((f) => f.name === name)?.id;
    const last = Math.max(...metadata.schemas.map((x) => x['schema-id']));
    expect(idOf(last, 'a')).toBe(idOf(0, 'a'));
    expect(idOf(last, 's__before_1')).toBe(idOf(0, 's'));
    expect(idOf(last, 's')).toBeGreaterThan(Math.max(...metadata.schemas[0].fields.map((f) => f.id)));
    expect(metadata.schemas.find((x) => x['schema-id'] === last)!.fields.find((f) => f.name === 'a')!.type).toBe('long');

    const metrics = (await httpGet(`${writer.base}/metrics`)).body;
    expect(Number(/^philotes_writer_rows_written_total\{[^}]*table="public.evolving"[^}]*\} (\d+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(122);
    expect(metrics).toMatch(/^philotes_writer_files_written_total\{[^}]*content="data"[^}]*\} [1-9]/m);
    expect(metrics).toMatch(/^philotes_writer_commit_duration_seconds_count\{[^}]*\} [1-9]/m);
    expect(metrics).toMatch(/^philotes_writer_tables_owned\{[^}]*\} 1$/m);
    await eventually('the lag gauge to read 0 once caught up', async () => /^philotes_writer_lag_seconds\{[^}]*table="public.evolving"[^}]*\} 0$/m.test((await httpGet(`${writer.base}/metrics`)).body), {
      timeoutMs: 15_000,
    });
  });
});
