import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Client, Pool } from 'pg';
import { createObjectStore, IcebergTables, SqlCatalog } from '@philotes/iceberg';
import { seededRandom } from '@philotes/faults';
import { verifyPipeline } from '@philotes/verify';
import { eventuallyStatus } from '../support/app-process';
import { CaptureDatabases, createCaptureDatabases, RunningReader, sourceClient, startReader, waitCaughtUp } from '../support/capture';
import { query } from '../support/database';
import { duckdbRows } from '../support/generative/duckdb-table';
import { icebergCanonical } from '../support/generative/values';
import { readIcebergTable, RunningWriter, startWriter, tempWarehouse, waitWriterCaughtUp, warehouseUri } from '../support/writer';

/**
 * Real: a source with declaratively partitioned tables of a realistic schema (range by month on a
 * timestamptz with one month sub-partitioned by hash, list, hash; an enum, a domain over numeric,
 * arrays, bytea), the reader and writer processes, a local warehouse. Each partitioned table must
 * land as ONE Iceberg table named for its root, copied and streamed, whatever its partitions do;
 * rows moving between partitions are one row, and verify agrees. Changes are drawn from a printed
 * seed: PHILOTES_PARTITION_SEED=<seed> replays them.
 */
const SEED = Number(process.env.PHILOTES_PARTITION_SEED ?? Date.now() % 1_000_000);

const SCHEMA = `
  SET TIME ZONE 'Asia/Kolkata'; -- bounds written in a zone off UTC by 5:30 must still read as UTC months
  CREATE TYPE mood AS ENUM ('calm', 'busy', 'it''s "fine"');
  CREATE DOMAIN money_amount AS numeric(12,2) CHECK (VALUE > 0);
  CREATE TABLE payment (id bigint NOT NULL, paid_at timestamptz NOT NULL, mood mood, amount money_amount, tags text[], receipt bytea, note text,
                        PRIMARY KEY (id, paid_at)) PARTITION BY RANGE (paid_at);
  CREATE TABLE payment_2022_01 PARTITION OF payment FOR VALUES FROM ('2022-01-01 00:00+00') TO ('2022-02-01 00:00+00');
  CREATE TABLE payment_2022_02 PARTITION OF payment FOR VALUES FROM ('2022-02-01 00:00+00') TO ('2022-03-01 00:00+00');
  CREATE TABLE payment_2022_03 PARTITION OF payment FOR VALUES FROM ('2022-03-01 00:00+00') TO ('2022-04-01 00:00+00') PARTITION BY HASH (id);
  CREATE TABLE payment_2022_03_h0 PARTITION OF payment_2022_03 FOR VALUES WITH (MODULUS 2, REMAINDER 0);
  CREATE TABLE payment_2022_03_h1 PARTITION OF payment_2022_03 FOR VALUES WITH (MODULUS 2, REMAINDER 1);
  CREATE TABLE device (id int, region text, name text, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
  CREATE TABLE device_eu PARTITION OF device FOR VALUES IN ('eu');
  CREATE TABLE device_other PARTITION OF device DEFAULT;
  CREATE TABLE ticket (id bigint PRIMARY KEY, title text) PARTITION BY HASH (id);
  CREATE TABLE ticket_0 PARTITION OF ticket FOR VALUES WITH (MODULUS 3, REMAINDER 0);
  CREATE TABLE ticket_1 PARTITION OF ticket FOR VALUES WITH (MODULUS 3, REMAINDER 1);
  CREATE TABLE ticket_2 PARTITION OF ticket FOR VALUES WITH (MODULUS 3, REMAINDER 2);
`;

const MOODS = ['calm', 'busy', `it''s "fine"`];

/** SQL for one payment row drawn from `random`: a time in January to March 2022, UTC. */
function paymentValues(id: number, random: () => number): string {
  const at = new Date(Date.UTC(2022, 0, 1) + Math.floor(random() * 89 * 86_400_000) + Math.floor(random() * 1e6) / 1e3).toISOString();
  const tags = random() < 0.2 ? 'NULL' : `ARRAY[${Array.from({ length: Math.floor(random() * 3) }, (_, i) => `'t${i}${Math.floor(random() * 9)}'`).join(',')}]::text[]`;
  const receipt = random() < 0.2 ? 'NULL' : `'\\x${Math.floor(random() * 0xffffff).toString(16).padStart(6, '0')}'::bytea`;
  return `(${id}, '${at}', ${random() < 0.1 ? 'NULL' : `'${MOODS[Math.floor(random() * MOODS.length)]}'`}, ${(1 + random() * 9999).toFixed(2)}, ${tags}, ${receipt}, 'n${Math.floor(random() * 100)}')`;
}

/** A month of 2022 other than the one the row is in (1–3), as a time that keeps the rest of the row. */
const moveSql = (id: number, month: number) => `UPDATE payment SET paid_at = make_timestamptz(2022, ${month}, 15, 12, 0, 0, 'UTC') WHERE id = ${id} AND date_part('month', paid_at AT TIME ZONE 'UTC') <> ${month}`;

const CANONICAL = `id::text AS id, (extract(epoch FROM paid_at) * 1000000)::bigint::text AS paid_at, mood::text AS mood, amount::text AS amount,
                   array_to_json(tags)::text AS tags, encode(receipt, 'hex') AS receipt, note`;

describe(`a partitioned source table is one Iceberg table (seed ${SEED})`, () => {
  let dbs: CaptureDatabases;
  let source: Client;
  let reader: RunningReader;
  let writer: RunningWriter;
  const random = seededRandom(SEED);
  const warehouse = tempWarehouse();

  beforeAll(async () => {
    process.stdout.write(`partitioned-source: seed ${SEED} (replay: PHILOTES_PARTITION_SEED=${SEED})\n`);
    dbs = await createCaptureDatabases();
    source = await sourceClient(dbs);
    await source.query(SCHEMA);
    // Copied: rows already there when the reader first starts.
    await source.query(`INSERT INTO payment VALUES ${Array.from({ length: 150 }, (_, i) => paymentValues(i + 1, random)).join(', ')}`);
    await source.query(`INSERT INTO device SELECT g, (ARRAY['eu','us','apac'])[1 + g % 3], 'd' || g FROM generate_series(1, 30) g`);
    await source.query(`INSERT INTO ticket SELECT g, 'ticket ' || g FROM generate_series(1, 40) g`);
    reader = await startReader(dbs);
    writer = await startWriter(dbs, warehouse);
    await eventuallyStatus(`${reader.base}/health/ready`, 200);
  });

  afterAll(async () => {
    await writer?.process.stop();
    await reader?.process.stop();
    await source?.end();
    await dbs?.drop();
  });

  it('publishes partitioned tables through their roots, and copies and streams each into one table named for it', async () => {
    const [publication] = await query<{ pubviaroot: boolean; puballtables: boolean }>(dbs.source.url, 'SELECT pubviaroot, puballtables FROM pg_publication WHERE pubname = $1', [dbs.publication]);
    expect(publication).toEqual({ pubviaroot: true, puballtables: true });

    // Streamed, drawn from the seed: inserts, updates in place, updates that move a row to another
    // month's partition (and so across the hash level of March), deletes, a partition made later.
    let nextId = 1000;
    const statements: string[] = [];
    for (let i = 0; i < 120; i++) {
      const pick = random();
      const id = 1 + Math.floor(random() * 150);
      if (pick < 0.3) statements.push(`INSERT INTO payment VALUES ${paymentValues(nextId++, random)}`);
      else if (pick < 0.5) statements.push(`UPDATE payment SET note = 'u${i}', amount = amount + 1 WHERE id = ${id}`);
      else if (pick < 0.8) statements.push(moveSql(id, 1 + Math.floor(random() * 3)));
      else statements.push(`DELETE FROM payment WHERE id = ${id}`);
    }
    statements.push(`CREATE TABLE payment_2022_04 PARTITION OF payment FOR VALUES FROM ('2022-04-01 00:00+00') TO ('2022-05-01 00:00+00')`);
    statements.push(`INSERT INTO payment VALUES (5000, '2022-04-02 10:00+00', 'calm', 1.50, ARRAY['april'], '\\x01', 'in a partition made later')`);
    statements.push(moveSql(5000, 2));
    statements.push(`INSERT INTO payment VALUES (5001, '2022-04-03 10:00+00', 'busy', 2.50, NULL, NULL, 'stays in april')`);
    statements.push(`UPDATE device SET region = 'us' WHERE id IN (3, 6)`); // eu → the default partition
    statements.push(`UPDATE device SET region = 'eu', name = 'moved' WHERE id = 1`);
    statements.push(`DELETE FROM ticket WHERE id % 4 = 0`);
    statements.push(`UPDATE ticket SET title = 'edited' WHERE id % 5 = 0`);
    // In transactions of a few statements, as an application writes them.
    for (let i = 0; i < statements.length; i += 5) await source.query(`BEGIN; ${statements.slice(i, i + 5).join('; ')}; COMMIT`);
    await waitCaughtUp(dbs);
    await waitWriterCaughtUp(dbs.buffer.url);

    // One Iceberg table per partitioned table, none for a partition.
    const names = await query<{ table_name: string }>(dbs.buffer.url, 'SELECT table_name FROM iceberg_tables ORDER BY table_name');
    expect(names.map((n) => n.table_name)).toEqual(['device', 'payment', 'ticket']);

    // Every source row once, equal in every column: DuckDB over the manifest-listed files, deletes applied.
    const payment = (await readIcebergTable(dbs.buffer.url, 'public', 'payment'))!;
    const expected = await query<Record<string, string | null>>(dbs.source.url, `SELECT ${CANONICAL} FROM payment`);
    const duck = await duckdbRows(payment.metadataLocation, payment.files, icebergCanonical);
    const sortRows = (rows: ReadonlyArray<Record<string, string | null>>) =>
      rows.map((r) => JSON.stringify(['id', 'paid_at', 'mood', 'amount', 'tags', 'receipt', 'note'].map((c) => r[c] ?? null))).sort();
    expect(sortRows(duck)).toEqual(sortRows(expected));
    // A row moved between partitions is one row, under its new time. (icebird is not the second
    // reader of payment: it does not match equality deletes on a timestamp key, and payment's key
    // holds paid_at, as PostgreSQL requires of a table partitioned by it. device and ticket have both.)
    expect(duck.filter((r) => r.id === '5000').map((r) => r.paid_at)).toEqual([String(Date.UTC(2022, 1, 15, 12) * 1000)]);

    for (const [table, order] of [['device', 'id::text, region, name'], ['ticket', 'id::text, title']] as const) {
      const iceberg = (await readIcebergTable(dbs.buffer.url, 'public', table))!;
      const want = await query<Record<string, string>>(dbs.source.url, `SELECT ${order} FROM ${table}`);
      const got = await duckdbRows(iceberg.metadataLocation, iceberg.files, icebergCanonical);
      const cells = (rows: ReadonlyArray<Record<string, unknown>>) => rows.map((r) => JSON.stringify(Object.keys(want[0]).map((k) => (r[k] === null || r[k] === undefined ? null : String(r[k]))))).sort();
      expect(cells(got)).toEqual(cells(want));
      expect(iceberg.rows).toHaveLength(want.length);
    }

    // The reader recorded how payment is partitioned: by month of paid_at, UTC, whatever zone made the bounds.
    const [history] = await query<{ columns: Array<{ name: string; rangePartition?: string }> }>(
      dbs.buffer.url,
      "SELECT h.columns FROM cdc_schema_history h JOIN cdc_tables t USING (table_id) WHERE t.table_name = 'payment' ORDER BY version DESC LIMIT 1",
    );
    expect(history.columns.filter((c) => c.rangePartition).map((c) => [c.name, c.rangePartition])).toEqual([['paid_at', 'month']]);

    // verify compares each root with every row of its partitions.
    const buffer = new Pool({ connectionString: dbs.buffer.url, max: 2 });
    try {
      const tables = new IcebergTables(createObjectStore(warehouseUri(warehouse), { region: 'us-east-1', forcePathStyle: true }), new SqlCatalog('philotes', buffer));
      const verdicts = await verifyPipeline({ source: { connectionString: dbs.source.url }, buffer, tables, namespace: '', textColumns: new Set(), unrepresentable: 'reject', timeoutMs: 30_000 });
      expect(verdicts.map((v) => [v.table, v.ok, v.sourceRows]).sort()).toEqual(
        [
          ['public.device', true, 30],
          ['public.payment', true, expected.length],
          ['public.ticket', true, 30],
        ].sort(),
      );
    } finally {
      await buffer.end();
    }
  });

  it('keeps the root table when partitions are attached and detached: a detached one is a table of its own from then on', async () => {
    const live = async () => {
      const table = (await readIcebergTable(dbs.buffer.url, 'public', 'payment'))!;
      const metadata = JSON.parse(await readFile(fileURLToPath(table.metadataLocation), 'utf8')) as { 'table-uuid': string };
      return { uuid: metadata['table-uuid'], rows: await duckdbRows(table.metadataLocation, table.files, icebergCanonical) };
    };
    const before = await live();
    const januaryRows = (await query<{ n: number }>(dbs.source.url, 'SELECT count(*)::int AS n FROM payment_2022_01'))[0].n;
    await source.query('ALTER TABLE payment DETACH PARTITION payment_2022_01');
    await source.query(`INSERT INTO payment_2022_01 VALUES (7000, '2022-01-20 00:00+00', 'calm', 3.00, NULL, NULL, 'after the detach')`);
    await source.query(`INSERT INTO payment VALUES (7001, '2022-02-20 00:00+00', 'calm', 4.00, NULL, NULL, 'root after the detach')`);
    // A table attached as a partition (empty, made on its own first): its rows stream under the root from then on.
    await source.query(`CREATE TABLE payment_2022_06 (LIKE payment INCLUDING DEFAULTS)`);
    await source.query(`ALTER TABLE payment ATTACH PARTITION payment_2022_06 FOR VALUES FROM ('2022-06-01 00:00+00') TO ('2022-07-01 00:00+00')`);
    await source.query(`INSERT INTO payment VALUES (7002, '2022-06-02 00:00+00', 'busy', 5.00, NULL, NULL, 'in an attached partition')`);
    await waitCaughtUp(dbs);
    await waitWriterCaughtUp(dbs.buffer.url);

    const after = await live();
    // The same table, grown by the root's new row; the detached rows stay in it (a detach changes no row in the WAL).
    expect(after.uuid).toBe(before.uuid);
    expect(after.rows.map((r) => r.id).sort()).toEqual([...before.rows.map((r) => r.id), '7001', '7002'].sort());
    expect(await query(dbs.buffer.url, "SELECT 1 FROM iceberg_tables WHERE table_name = 'payment_2022_06'")).toEqual([]);
    // The detached table is published on its own now (FOR ALL TABLES): copied, then streamed.
    const detached = (await readIcebergTable(dbs.buffer.url, 'public', 'payment_2022_01'))!;
    expect(detached.rows).toHaveLength(januaryRows + 1);
  });

  it('empties the table on a TRUNCATE of the root, and cannot see one of a single partition (PostgreSQL does not publish it through the root)', async () => {
    const ticketIds = async () => (await readIcebergTable(dbs.buffer.url, 'public', 'ticket'))!.rows.map((r) => String(r.id)).sort();
    const sourceIds = async (from: string) => (await query<{ id: string }>(dbs.source.url, `SELECT id::text AS id FROM ${from}`)).map((r) => r.id).sort();
    const before = await ticketIds();
    expect(before).toEqual(await sourceIds('ticket'));
    // One partition truncated: pgoutput skips a partition's TRUNCATE under publish_via_partition_root,
    // so the mirror keeps those rows (the README says so, and that a resync of the table fixes it).
    const inPartition = await sourceIds('ticket_1');
    expect(inPartition.length).toBeGreaterThan(0);
    await source.query('TRUNCATE ticket_1');
    await source.query("INSERT INTO ticket VALUES (9001, 'after the partition truncate')");
    await waitCaughtUp(dbs);
    await waitWriterCaughtUp(dbs.buffer.url);
    expect(await ticketIds()).toEqual([...before, '9001'].sort());

    // The root truncated, in a transaction with rows after it: the table holds just those.
    await source.query("BEGIN; TRUNCATE ticket; INSERT INTO ticket VALUES (9002, 'after the root truncate'), (9003, 'and another'); COMMIT");
    await source.query("UPDATE ticket SET title = 'moved on' WHERE id = 9002");
    await waitCaughtUp(dbs);
    await waitWriterCaughtUp(dbs.buffer.url);
    expect(await ticketIds()).toEqual(['9002', '9003']);
    expect(await ticketIds()).toEqual(await sourceIds('ticket'));
  });
});

describe('partitioned tables published per leaf, as an option', () => {
  let dbs: CaptureDatabases;
  let reader: RunningReader;
  let writer: RunningWriter;

  beforeAll(async () => {
    dbs = await createCaptureDatabases();
    const source = await sourceClient(dbs);
    await source.query(`
      CREATE TABLE device (id int, region text, name text, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
      CREATE TABLE device_eu PARTITION OF device FOR VALUES IN ('eu');
      CREATE TABLE device_other PARTITION OF device DEFAULT;
      INSERT INTO device SELECT g, (ARRAY['eu','us'])[1 + g % 2], 'd' || g FROM generate_series(1, 10) g;
    `);
    await source.end();
    reader = await startReader(dbs, { PHILOTES_CDC_PARTITIONED_TABLES: 'leaves' });
    writer = await startWriter(dbs, tempWarehouse());
    await eventuallyStatus(`${reader.base}/health/ready`, 200);
  });

  afterAll(async () => {
    await writer?.process.stop();
    await reader?.process.stop();
    await dbs?.drop();
  });

  it('mirrors each partition as a table of its own: a row moving between partitions leaves one and enters the other', async () => {
    const [publication] = await query<{ pubviaroot: boolean }>(dbs.source.url, 'SELECT pubviaroot FROM pg_publication WHERE pubname = $1', [dbs.publication]);
    expect(publication.pubviaroot).toBe(false);
    const source = await sourceClient(dbs);
    await source.query(`UPDATE device SET region = 'us' WHERE id = 2`); // eu → other
    await source.end();
    await waitCaughtUp(dbs);
    await waitWriterCaughtUp(dbs.buffer.url);
    const names = await query<{ table_name: string }>(dbs.buffer.url, 'SELECT table_name FROM iceberg_tables ORDER BY table_name');
    expect(names.map((n) => n.table_name)).toEqual(['device_eu', 'device_other']);
    for (const leaf of ['device_eu', 'device_other']) {
      const iceberg = (await readIcebergTable(dbs.buffer.url, 'public', leaf))!;
      const want = await query<{ id: number }>(dbs.source.url, `SELECT id FROM ${leaf} ORDER BY id`);
      expect(iceberg.rows.map((r) => Number(r.id)).sort((a, b) => a - b)).toEqual(want.map((w) => w.id));
    }
  });
});
