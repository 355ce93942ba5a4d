import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client } from 'pg';
import { bucketHash } from '@philotes/iceberg';
import { eventuallyStatus } from '../support/app-process';
import { CaptureDatabases, createCaptureDatabases, RunningReader, sourceClient, startReader, waitCaughtUp } from '../support/capture';
import { query } from '../support/database';
import { eventually } from '../support/eventually';
import { duckdb } from '../support/iceberg';
import { Cell, duckdbRows } from '../support/generative/duckdb-table';
import { IcebergTableState, readIcebergTable, RunningWriter, startWriter, tempWarehouse, waitWriterCaughtUp } from '../support/writer';

interface PartitionField {
  'source-id': number;
  'field-id': number;
  name: string;
  transform: string;
}
interface Metadata {
  'default-spec-id': number;
  'last-partition-id': number;
  'partition-specs': Array<{ 'spec-id': number; fields: PartitionField[] }>;
  schemas: Array<{ 'schema-id': number; fields: Array<{ id: number; name: string; type: unknown }> }>;
  'current-schema-id': number;
}

const FIRST = 'public.payments=month(ts),bucket(4,id);public.events=month(ts),bucket(4,id);public.accounts=bucket(4,id)';
const SECOND = 'public.payments=day(ts);public.events=bucket(3,id);public.accounts=truncate(10,id),bucket(4,id)';
const MICROS_PER_DAY = 86_400_000_000n;

/**
 * Real: reader and writer processes, a local warehouse. Tables partitioned by configuration, read
 * back with icebird and with DuckDB's Parquet reader over the manifest-listed files (equality
 * deletes applied per spec and partition); each data file's rows checked to compute to the tuple
 * its manifest records (the transforms computed here from the values DuckDB reads), and the
 * manifest list's summaries checked to bound them. Then the setting changes (spec evolution) and
 * compaction moves every file to the new spec.
 */
describe('iceberg-writer partitioning', () => {
  const seed = Number(process.env.PHILOTES_TEST_SEED ?? Date.now() % 1_000_000);
  let random = seed;
  /** mulberry32: the shapes (timestamps, which rows change) vary by seed, printed to replay a failure. */
  const next = () => {
    random = (random + 0x6d2b79f5) | 0;
    let t = Math.imul(random ^ (random >>> 15), 1 | random);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  // Whole seconds from 1965 to 2030: pre-1970 months and days included.
  const timestamp = () => -157_766_400 + Math.floor(next() * 2_051_222_400);
  let nextId = 1;
  let eventsInserted = 0;

  let dbs: CaptureDatabases;
  let reader: RunningReader;
  let writer: RunningWriter | undefined;
  let source: Client;
  const warehouse = tempWarehouse();

  beforeAll(async () => {
    console.log(`writer-partitioning seed ${seed} (PHILOTES_TEST_SEED=${seed} replays it)`);
    dbs = await createCaptureDatabases();
    source = await sourceClient(dbs);
    await source.query(
      'CREATE TABLE payments (id int, ts timestamptz, amount numeric(10,2), note text, PRIMARY KEY (id, ts)); CREATE TABLE events (id int, ts timestamptz, msg text); CREATE TABLE accounts (id int PRIMARY KEY, balance int)',
    );
    // Copied rows (the copy path writes files per partition too).
    await insertPayments(40);
    await insertEvents(20);
    reader = await startReader(dbs);
    await eventuallyStatus(`${reader.base}/health/ready`, 200);
  });

  afterAll(async () => {
    await writer?.process.stop();
    await reader?.process.stop();
    await source?.end();
    await dbs?.drop();
  });

  async function insertPayments(count: number): Promise<void> {
    const values = Array.from({ length: count }, () => `(${nextId++}, to_timestamp(${timestamp()}), ${(next() * 1000).toFixed(2)}, 'n${nextId}')`);
    await source.query(`INSERT INTO payments VALUES ${values.join(', ')}`);
    await source.query(`INSERT INTO accounts SELECT id, 0 FROM payments ON CONFLICT DO NOTHING`);
  }

  async function insertEvents(count: number): Promise<void> {
    // Some without a timestamp: a null partition value (path `ts_month=null`, contains_null).
    const values = Array.from({ length: count }, (_, i) => `(${Math.floor(next() * 1000)}, ${i % 5 === 0 ? 'NULL' : `to_timestamp(${timestamp()})`}, 'm${eventsInserted + i}')`);
    await source.query(`INSERT INTO events VALUES ${values.join(', ')}`);
    eventsInserted += count;
  }

  async function churn(): Promise<void> {
    const ids = (await source.query<{ id: number }>('SELECT id FROM payments')).rows.map((r) => r.id);
    const pick = (n: number) => ids.filter(() => next() < n / Math.max(ids.length, 1));
    await source.query(`UPDATE payments SET amount = amount + 1, note = note || '+' WHERE id = ANY($1)`, [pick(15)]);
    await source.query('DELETE FROM payments WHERE id = ANY($1)', [pick(6)]);
    await source.query('UPDATE accounts SET balance = balance + 1 WHERE id = ANY($1)', [pick(15)]);
    await source.query('DELETE FROM accounts WHERE id = ANY($1)', [pick(4)]);
    await insertPayments(15);
    await insertEvents(10);
  }

  async function caughtUp(): Promise<void> {
    await waitCaughtUp(dbs);
    await waitWriterCaughtUp(dbs.buffer.url);
  }

  const metadataOf = (table: IcebergTableState) => JSON.parse(readFileSync(fileURLToPath(table.metadataLocation), 'utf8')) as Metadata;

  /** DuckDB's SQL turning a column of an Iceberg type into the text both sides compare. */
  const cast = (type: unknown) => (column: string) => (type === 'timestamptz' ? `CAST(epoch_us(${column}) AS VARCHAR)` : `CAST(${column} AS VARCHAR)`);

  async function expectPaymentsMirrored(table: IcebergTableState): Promise<void> {
    const expected = await query<{ id: string; us: string; amount: string; note: string }>(
      dbs.source.url,
      'SELECT id::text AS id, (extract(epoch FROM ts) * 1000000)::bigint::text AS us, amount::text AS amount, note FROM payments ORDER BY id',
    );
    // icebird 0.3.1 sees every row (its timestamps arrive as ISO text: whole seconds here), but
    // cannot apply deletes keyed on a timestamp (it compares the Date objects with !==): so it
    // checks presence here, and the accounts table checks its deletes per partition.
    const icebird = new Set(table.rows.map((r) => `${String(r.id)}/${Date.parse(String(r.ts)) * 1000}/${String(r.note)}`));
    expect(expected.filter((row) => !icebird.has(`${row.id}/${row.us}/${row.note}`)).slice(0, 3)).toEqual([]);
    // DuckDB over the manifest-listed files, deletes applied per spec and partition.
    const rows = await duckdbRows(table.metadataLocation, table.files, cast);
    const key = (r: Record<string, Cell>) => `${r.id}/${r.ts}/${r.amount}/${r.note}`;
    expect(rows.map(key).sort()).toEqual(expected.map((r) => `${r.id}/${r.us}/${r.amount}/${r.note}`).sort());
  }

  async function expectAccountsMirrored(table: IcebergTableState): Promise<void> {
    const expected = (await query<{ id: number; balance: number }>(dbs.source.url, 'SELECT id, balance FROM accounts ORDER BY id')).map((r) => `${r.id}/${r.balance}`);
    expect(table.rows.map((r) => `${String(r.id)}/${String(r.balance)}`).sort()).toEqual([...expected].sort());
    const rows = await duckdbRows(table.metadataLocation, table.files, cast);
    expect(rows.map((r) => `${r.id}/${r.balance}`).sort()).toEqual([...expected].sort());
  }

  async function expectEventsLogged(table: IcebergTableState): Promise<void> {
    const rows = await duckdbRows(table.metadataLocation, table.files, cast);
    const inserted = rows.filter((r) => r._cdc_op !== 'T');
    expect(inserted).toHaveLength(eventsInserted);
    expect(new Set(inserted.map((r) => r.msg)).size).toBe(eventsInserted);
    expect(table.rows.filter((r) => r._cdc_op !== 'T').map((r) => r.msg).sort()).toEqual(inserted.map((r) => r.msg).sort());
  }

  /** The partition value of a row as the spec defines the transform, from the values DuckDB read. */
  function transformed(transform: string, value: string | null): number | null {
    if (value === null) return null;
    const bucket = /^bucket\[(\d+)\]$/.exec(transform);
    // bucketHash is checked against the spec's hash test values in libs/iceberg.
    if (bucket) return (bucketHash('int', Number(value)) & 0x7fffffff) % Number(bucket[1]);
    const truncate = /^truncate\[(\d+)\]$/.exec(transform);
    if (truncate) return Number(value) - (((Number(value) % Number(truncate[1])) + Number(truncate[1])) % Number(truncate[1]));
    const micros = BigInt(value);
    const days = Number((micros - (((micros % MICROS_PER_DAY) + MICROS_PER_DAY) % MICROS_PER_DAY)) / MICROS_PER_DAY);
    const date = new Date(days * 86_400_000);
    if (transform === 'day') return days;
    if (transform === 'month') return (date.getUTCFullYear() - 1970) * 12 + date.getUTCMonth();
    throw new Error(`no check for transform ${transform}`);
  }

  /** A partition value as icebird read it: ints as numbers, dates (day) as ISO text after the JSON hop. */
  const partitionValue = (value: unknown): number | null =>
    value === null || value === undefined ? null : typeof value === 'string' ? Date.parse(value) / 86_400_000 : Number(value);

  /** Each data file's rows compute to its recorded tuple, and the manifest list's summaries bound the tuples. */
  async function expectFilesInTheirPartitions(table: IcebergTableState): Promise<void> {
    const metadata = metadataOf(table);
    const fields = metadata.schemas.find((s) => s['schema-id'] === metadata['current-schema-id'])!.fields;
    const data = table.files.filter((f) => f.content === 0);
    for (const file of data) {
      const spec = metadata['partition-specs'].find((s) => s['spec-id'] === file.specId)!;
      expect(spec).toBeDefined();
      const path = fileURLToPath(file.path).replace(/'/g, "''");
      const columns = spec.fields.map((f) => fields.find((c) => c.id === f['source-id'])!);
      const select = columns.map((c, i) => `${cast(c.type)(`"${c.name}"`)} AS c${i}`).join(', ');
      const rows = spec.fields.length === 0 ? [] : await duckdb<Record<string, string | null>>(`SELECT ${select} FROM read_parquet('${path}')`);
      for (const row of rows) {
        const tuple = spec.fields.map((f, i) => transformed(f.transform, row[`c${i}`] ?? null));
        expect(tuple).toEqual(spec.fields.map((f) => partitionValue(file.partition?.[f.name])));
      }
      if (spec.fields.length > 0) expect(file.path).toContain(`/data/${spec.fields[0].name}=`);
    }
    for (const manifest of table.manifests.filter((m) => m.content === 0)) {
      const spec = metadata['partition-specs'].find((s) => s['spec-id'] === manifest.specId)!;
      const listed = data.filter((f) => f.manifest === manifest.path);
      expect(manifest.partitions).toHaveLength(spec.fields.length);
      spec.fields.forEach((field, i) => {
        const summary = manifest.partitions[i];
        const values = listed.map((f) => partitionValue(f.partition?.[field.name]));
        expect(summary.contains_null).toBe(values.includes(null));
        const present = values.filter((v): v is number => v !== null);
        if (present.length === 0) return;
        // int and date bounds: 4 bytes little-endian (spec, Appendix D).
        const bound = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes!).readInt32LE(0);
        expect(bound(summary.lower_bound)).toBe(Math.min(...present));
        expect(bound(summary.upper_bound)).toBe(Math.max(...present));
      });
    }
    // A position delete applies only within its partition: each is in the spec and partition of every data file it names.
    for (const file of table.files.filter((f) => f.content === 1)) {
      const named = await duckdb<{ path: string }>(`SELECT DISTINCT file_path AS path FROM read_parquet('${fileURLToPath(file.path).replace(/'/g, "''")}')`);
      // A file it names may have left by compaction since (the delete stays while it names a live one).
      const targets = named.flatMap(({ path }) => data.filter((f) => f.path === path));
      expect([file.path, targets.length > 0]).toEqual([file.path, true]);
      for (const target of targets) expect([target.path, target.specId, JSON.stringify(target.partition)]).toEqual([target.path, file.specId, JSON.stringify(file.partition)]);
    }
  }

  async function readAll(): Promise<{ payments: IcebergTableState; events: IcebergTableState; accounts: IcebergTableState }> {
    const read = async (name: string) => (await readIcebergTable(dbs.buffer.url, 'public', name))!;
    return { payments: await read('payments'), events: await read('events'), accounts: await read('accounts') };
  }

  async function expectAll(tables: { payments: IcebergTableState; events: IcebergTableState; accounts: IcebergTableState }): Promise<void> {
    await expectPaymentsMirrored(tables.payments);
    await expectAccountsMirrored(tables.accounts);
    await expectEventsLogged(tables.events);
    for (const table of Object.values(tables)) await expectFilesInTheirPartitions(table);
  }

  it('writes per partition, evolves the spec when the setting changes, and compacts into the new spec', async () => {
    writer = await startWriter(dbs, warehouse, { PHILOTES_ICEBERG_PARTITIONING: FIRST, PHILOTES_ICEBERG_MAINTENANCE_INTERVAL: '24h' });
    await eventuallyStatus(`${writer.base}/health/ready`, 200);
    await churn();
    await caughtUp();
    await source.query('TRUNCATE payments');
    await insertPayments(30);
    await caughtUp();
    // Updates and deletes of committed rows: position deletes, one file per partition of the rows they delete.
    await churn();
    await caughtUp();
    await churn();
    await caughtUp();

    let tables = await readAll();
    let { payments } = tables;
    expect(metadataOf(payments)['partition-specs']).toEqual([
      {
        'spec-id': 0,
        fields: [
          { 'source-id': 2, 'field-id': 1000, name: 'ts_month', transform: 'month' },
          { 'source-id': 1, 'field-id': 1001, name: 'id_bucket', transform: 'bucket[4]' },
        ],
      },
    ]);
    expect(payments.files.filter((f) => f.content === 1).length).toBeGreaterThan(0);
    expect(payments.files.filter((f) => f.content === 2)).toEqual([]);
    expect(payments.files.every((f) => f.specId === 0)).toBe(true);
    expect(new Set(payments.files.filter((f) => f.content === 0).map((f) => JSON.stringify(f.partition))).size).toBeGreaterThan(3);
    expect(tables.accounts.files.filter((f) => f.content === 1).length).toBeGreaterThan(1);
    await expectAll(tables);

    // The setting changes: the next commit adds spec 1 and makes it default; old files keep spec 0.
    await writer.process.stop();
    writer = await startWriter(dbs, warehouse, { PHILOTES_ICEBERG_PARTITIONING: SECOND, PHILOTES_ICEBERG_MAINTENANCE_INTERVAL: '24h' });
    await churn();
    await caughtUp();
    // Rows written under spec 1 changed too: their deletes in spec 1, those of spec-0 rows in both.
    await churn();
    await caughtUp();
    tables = await readAll();
    ({ payments } = tables);
    const evolved = metadataOf(payments);
    expect(evolved['default-spec-id']).toBe(1);
    expect(evolved['partition-specs'][1]).toEqual({ 'spec-id': 1, fields: [{ 'source-id': 2, 'field-id': 1002, name: 'ts_day', transform: 'day' }] });
    expect(evolved['last-partition-id']).toBe(1002);
    // bucket(4,id) → bucket(3,id): a new field id, the old one kept by spec 0.
    expect(metadataOf(tables.events)['partition-specs'][1].fields).toEqual([{ 'source-id': 1, 'field-id': 1002, name: 'id_bucket', transform: 'bucket[3]' }]);
    // truncate(10,id) is new (1001 was bucket(4,id) in spec 0); bucket(4,id) keeps 1000.
    expect(metadataOf(tables.accounts)['partition-specs'][1].fields.map((f) => [f['field-id'], f.name, f.transform])).toEqual([
      [1001, 'id_trunc', 'truncate[10]'],
      [1000, 'id_bucket', 'bucket[4]'],
    ]);
    expect(new Set(payments.files.filter((f) => f.content === 0).map((f) => f.specId))).toEqual(new Set([0, 1]));
    // A delete of a row still in a spec-0 file is written in spec 0, of a row in a spec-1 file in spec 1 (a delete applies within its spec only).
    expect(new Set(tables.accounts.files.filter((f) => f.content === 1).map((f) => f.specId))).toEqual(new Set([0, 1]));
    await expectAll(tables);

    // Compaction applies the deletes and rewrites the files it chooses (small ones of a partition,
    // those deletes hit) in the current spec; the others keep spec 0.
    const before = new Map(['payments', 'accounts'].map((name) => [name, new Set(tables[name as 'payments' | 'accounts'].files.map((f) => f.path))]));
    await writer.process.stop();
    writer = await startWriter(dbs, warehouse, { PHILOTES_ICEBERG_PARTITIONING: SECOND, PHILOTES_ICEBERG_MAINTENANCE_INTERVAL: '1s', PHILOTES_ICEBERG_COMPACTION_MIN_FILES: '2' });
    const compacted = (name: 'payments' | 'accounts') =>
      eventually(
        `compaction of the ${name}`,
        async () => {
          const table = (await readIcebergTable(dbs.buffer.url, 'public', name))!;
          // Every delete applied and reclaimed.
          return table.files.every((f) => f.content === 0) ? table : undefined;
        },
        { timeoutMs: 90_000, intervalMs: 500 },
      );
    payments = await compacted('payments');
    const accounts = await compacted('accounts');
    for (const [name, table] of [['payments', payments], ['accounts', accounts]] as const) {
      const rewritten = table.files.filter((f) => !before.get(name)!.has(f.path));
      expect([name, rewritten.length > 0, rewritten.every((f) => f.specId === 1)]).toEqual([name, true, true]);
    }
    await expectPaymentsMirrored(payments);
    await expectAccountsMirrored(accounts);
    await expectFilesInTheirPartitions(payments);
    await expectFilesInTheirPartitions(accounts);
  });
});
