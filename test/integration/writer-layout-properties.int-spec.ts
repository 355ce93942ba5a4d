import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { eventuallyStatus } from '../support/app-process';
import { CaptureDatabases, createCaptureDatabases, RunningReader, sourceClient, startReader, waitCaughtUp } from '../support/capture';
import { query } from '../support/database';
import { duckdb, IcebirdFile } from '../support/iceberg';
import { zstdPagesAtLevel } from '../support/parquet-pages';
import { byKey, readIcebergTable, RunningWriter, startWriter, tempWarehouse, waitWriterCaughtUp } from '../support/writer';

/**
 * Per-table Parquet properties and a sort order, through the built apps: what the files hold is
 * read by DuckDB's Parquet reader (parquet_metadata, read_parquet in file order), the manifests and
 * rows by icebird; the metadata JSON as the catalog names it.
 */

interface Metadata {
  readonly properties: Record<string, string>;
  readonly 'sort-orders': Array<{ 'order-id': number; fields: unknown[] }>;
  readonly 'default-sort-order-id': number;
  readonly schemas: Array<{ 'schema-id': number; fields: Array<{ id: number; name: string }> }>;
  readonly 'current-schema-id': number;
}

interface RowGroup {
  readonly row_group_id: number;
  readonly rows: number;
  readonly bytes: number;
  readonly codecs: string;
}

const PROPERTIES_V1 =
  'public.events:write.parquet.compression-codec=zstd,write.parquet.compression-level=9,write.parquet.row-group-size-bytes=8192,write.parquet.page-size-bytes=1024,engine.note="kept; as written"';
const SORT_V1 = 'public.events=v desc,id';

async function state(dbs: CaptureDatabases) {
  const table = (await readIcebergTable(dbs.buffer.url, 'public', 'events'))!;
  const metadata = JSON.parse(await readFile(fileURLToPath(table.metadataLocation), 'utf8')) as Metadata;
  return { table, metadata, fieldId: (name: string) => metadata.schemas.find((s) => s['schema-id'] === metadata['current-schema-id'])!.fields.find((f) => f.name === name)!.id };
}

function rowGroups(file: IcebirdFile): Promise<RowGroup[]> {
  return duckdb<RowGroup>(
    `SELECT row_group_id::int AS row_group_id, any_value(row_group_num_rows)::int AS rows, any_value(row_group_bytes)::int AS bytes, string_agg(DISTINCT compression, ',') AS codecs
       FROM parquet_metadata('${fileURLToPath(file.path)}') GROUP BY row_group_id ORDER BY row_group_id`,
  );
}

/** The (v, id) pairs of a data file in file order (DuckDB's read_parquet keeps it for one file). */
async function fileRows(file: IcebirdFile): Promise<Array<{ v: string | null; id: number }>> {
  return duckdb<{ v: string | null; id: number }>(`SELECT v, id::int AS id FROM read_parquet('${fileURLToPath(file.path)}')`);
}

const byVDescThenId = (a: { v: string | null; id: number }, b: { v: string | null; id: number }) => {
  if (a.v !== b.v) {
    if (a.v === null) return 1; // desc: nulls last by default
    if (b.v === null) return -1;
    return a.v < b.v ? 1 : -1; // ASCII values: code unit order is code point order
  }
  return a.id - b.id;
};

describe('iceberg-writer table properties and sort order', () => {
  let dbs: CaptureDatabases;
  let reader: RunningReader;
  let writer: RunningWriter | undefined;
  const warehouse = tempWarehouse();

  beforeAll(async () => {
    dbs = await createCaptureDatabases();
    const source = await sourceClient(dbs);
    await source.query('CREATE TABLE events (id int PRIMARY KEY, v text, note text)');
    // Copied rows: some v repeat, some are null, ids not in v order.
    await source.query("INSERT INTO events SELECT g, CASE WHEN g % 7 = 0 THEN NULL ELSE 'v' || lpad((g * 37 % 101)::text, 3, '0') END, repeat('n', 40) FROM generate_series(1, 3000) g");
    await source.end();
    reader = await startReader(dbs);
    writer = await startWriter(dbs, warehouse, { PHILOTES_ICEBERG_TABLE_PROPERTIES: PROPERTIES_V1, PHILOTES_ICEBERG_SORT_ORDER: SORT_V1 });
    await eventuallyStatus(`${reader.base}/health/ready`, 200);
    await eventuallyStatus(`${writer.base}/health/ready`, 200);
  });

  afterAll(async () => {
    await writer?.process.stop();
    await reader?.process.stop();
    await dbs?.drop();
  });

  const expectSourceRows = async (rows: ReadonlyArray<Record<string, unknown>>) => {
    const expected = await query<{ id: number; v: string | null; note: string }>(dbs.source.url, 'SELECT id, v, note FROM events ORDER BY id');
    const actual = byKey(rows, 'id');
    expect(actual.size).toBe(expected.length);
    for (const row of expected) expect({ id: actual.get(String(row.id))?.id, v: actual.get(String(row.id))?.v ?? null, note: actual.get(String(row.id))?.note }).toEqual(row);
  };

  let firstFiles: IcebirdFile[] = [];

  it('writes zstd files in row groups of the size asked for, each sorted by v desc then id, and records the properties and the order', async () => {
    const source = await sourceClient(dbs);
    // Streamed changes after the copy: updates make equality deletes (which carry no sort order).
    await source.query("INSERT INTO events SELECT g, 'w' || (g % 5), 'late' FROM generate_series(3001, 3400) g; UPDATE events SET v = 'a-updated' WHERE id % 50 = 0");
    await source.end();
    await waitCaughtUp(dbs);
    await waitWriterCaughtUp(dbs.buffer.url);

    const { table, metadata, fieldId } = await state(dbs);
    expect(metadata.properties).toMatchObject({
      'write.parquet.compression-codec': 'zstd',
      'write.parquet.compression-level': '9',
      'write.parquet.row-group-size-bytes': '8192',
      'write.parquet.page-size-bytes': '1024',
      'engine.note': 'kept; as written',
    });
    expect(metadata['default-sort-order-id']).toBe(1);
    expect(metadata['sort-orders']).toEqual([
      { 'order-id': 0, fields: [] },
      {
        'order-id': 1,
        fields: [
          { transform: 'identity', 'source-id': fieldId('v'), direction: 'desc', 'null-order': 'nulls-last' },
          { transform: 'identity', 'source-id': fieldId('id'), direction: 'asc', 'null-order': 'nulls-first' },
        ],
      },
    ]);

    const data = table.files.filter((f) => f.content === 0);
    const deletes = table.files.filter((f) => f.content !== 0);
    expect(data.length).toBeGreaterThanOrEqual(2); // the copy's file(s) and the streamed commit's
    expect(deletes.length).toBeGreaterThanOrEqual(1);
    expect(data.map((f) => f.sortOrderId)).toEqual(data.map(() => 1));
    expect(deletes.map((f) => f.sortOrderId)).toEqual(deletes.map(() => null));
    for (const file of data) {
      const groups = await rowGroups(file);
      expect(groups.every((g) => g.codecs === 'ZSTD')).toBe(true);
      if (file.recordCount >= 1000) expect(groups.length).toBeGreaterThan(1);
      // Rows per group come from a measured size per row: near the size asked for, not exact.
      for (const group of groups.slice(0, -1)) {
        expect(group.bytes).toBeLessThanOrEqual(8192 * 1.25);
        expect(group.bytes).toBeGreaterThanOrEqual(8192 * 0.6);
      }
      const rows = await fileRows(file);
      expect(rows).toEqual([...rows].sort(byVDescThenId));
    }
    // The level too: every page of every file, data and deletes, is zstd at level 9.
    for (const file of table.files) {
      const { pages, atLevel } = await zstdPagesAtLevel(fileURLToPath(file.path), 9);
      expect({ path: file.path, pages: pages > 0, atLevel }).toEqual({ path: file.path, pages: true, atLevel: pages });
    }
    await expectSourceRows(table.rows);
    firstFiles = data;
  });

  it('after a restart with other settings (a sort order with a transform) records and uses the new ones, leaving the old files as they were', async () => {
    await writer!.process.stop();
    // The rows are in the buffer whole before the writer starts, so one commit (one file) holds
    // all of them: a writer running meanwhile may commit part of a transaction the reader is still storing.
    const source = await sourceClient(dbs);
    await source.query("INSERT INTO events SELECT g, 'x' || (g % 3), 'later' FROM generate_series(3401, 3700) g");
    await source.end();
    await waitCaughtUp(dbs);
    writer = await startWriter(dbs, warehouse, { PHILOTES_ICEBERG_TABLE_PROPERTIES: 'public.events:write.parquet.compression-codec=gzip', PHILOTES_ICEBERG_SORT_ORDER: 'public.events=truncate(100, id),id desc' });
    await eventuallyStatus(`${writer.base}/health/ready`, 200);
    await waitWriterCaughtUp(dbs.buffer.url);

    const { table, metadata, fieldId } = await state(dbs);
    // The codec's setting changed without a level: the zstd level goes; the rest stays as recorded.
    expect(metadata.properties).toMatchObject({ 'write.parquet.compression-codec': 'gzip', 'write.parquet.row-group-size-bytes': '8192', 'engine.note': 'kept; as written' });
    expect(metadata.properties['write.parquet.compression-level']).toBeUndefined();
    expect(metadata['default-sort-order-id']).toBe(2);
    expect(metadata['sort-orders'].find((o) => o['order-id'] === 2)?.fields).toEqual([
      { transform: 'truncate[100]', 'source-id': fieldId('id'), direction: 'asc', 'null-order': 'nulls-first' },
      { transform: 'identity', 'source-id': fieldId('id'), direction: 'desc', 'null-order': 'nulls-last' },
    ]);

    const data = table.files.filter((f) => f.content === 0);
    const old = data.filter((f) => firstFiles.some((first) => first.path === f.path));
    const fresh = data.filter((f) => !firstFiles.some((first) => first.path === f.path));
    expect(old.map((f) => f.path).sort()).toEqual(firstFiles.map((f) => f.path).sort());
    expect(old.map((f) => f.sortOrderId)).toEqual(old.map(() => 1));
    expect(fresh.length).toBeGreaterThanOrEqual(1);
    for (const file of fresh) {
      expect(file.sortOrderId).toBe(2);
      expect((await rowGroups(file)).every((g) => g.codecs === 'GZIP')).toBe(true);
      // By the hundred ascending (truncate[100]), then by id descending within it.
      const ids = (await fileRows(file)).map((r) => r.id);
      const hundred = (id: number) => id - (id % 100);
      expect(ids).toEqual([...ids].sort((a, b) => hundred(a) - hundred(b) || b - a));
      expect(new Set(ids.map(hundred)).size).toBeGreaterThan(1);
    }
    for (const file of old) expect((await rowGroups(file)).every((g) => g.codecs === 'ZSTD')).toBe(true);
    await expectSourceRows(table.rows);
  });
});
