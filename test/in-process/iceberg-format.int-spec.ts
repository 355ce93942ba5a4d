import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createFileDecoder } from 'avsc';
import { Client } from 'pg';
import { applyMigrations } from '@philotes/buffer';
import {
  currentSnapshot,
  DataFile,
  FileContent,
  FileSystemObjectStore,
  IcebergSchema,
  IcebergTables,
  LoadedTable,
  readManifestList,
  SqlCatalog,
  writeParquetFile,
} from '@philotes/iceberg';
import { createTestDatabase, TestDatabase } from '../support/database';
import { duckdb, readWithIcebird } from '../support/iceberg';

const SCHEMA: IcebergSchema = {
  type: 'struct',
  'schema-id': 0,
  'identifier-field-ids': [1],
  fields: [
    { id: 1, name: 'id', required: true, type: 'long' },
    { id: 2, name: 'name', required: false, type: 'string' },
    { id: 3, name: 'amount', required: false, type: 'decimal(12, 2)' },
    { id: 4, name: 'at', required: false, type: 'timestamptz' },
    { id: 5, name: 'tags', required: false, type: { type: 'list', 'element-id': 6, 'element-required': false, element: 'string' } },
  ],
};

/**
 * Real: files in a directory, the SQL catalog in PostgreSQL. Read back by independent readers:
 * icebird 0.3.1 from npm and DuckDB's Parquet reader; Avro headers by avsc's own decoder.
 */
describe('Iceberg tables written by Philotes, read by other engines', () => {
  let database: TestDatabase;
  let db: Client;
  let tables: IcebergTables;
  const warehouse = mkdtempSync(join(tmpdir(), 'philotes-warehouse-'));
  const id = { namespace: 'sales', name: 'orders' };

  beforeAll(async () => {
    database = await createTestDatabase();
    await applyMigrations(database.url, { info: () => undefined });
    db = new Client({ connectionString: database.url });
    await db.connect();
    tables = new IcebergTables(new FileSystemObjectStore(warehouse), new SqlCatalog('philotes', db));
  });

  afterAll(async () => {
    await db.end();
    await database.drop();
  });

  async function dataFile(content: FileContent, columns: Array<{ id: number; values: unknown[] }>, equalityIds?: number[]): Promise<DataFile> {
    const fields = columns.map((c) => SCHEMA.fields.find((f) => f.id === c.id)!);
    const written = await writeParquetFile(SCHEMA, columns.map((c, i) => ({ field: fields[i], values: c.values })));
    const path = `${(await tables.load(id))!.metadata.location}/data/${content === FileContent.Data ? 'data' : 'delete'}-${Date.now()}-${Math.random().toString(16).slice(2)}.parquet`;
    await tables.store.put(path, written.bytes);
    return { content, filePath: path, fileSizeInBytes: written.bytes.length, ...written, ...(equalityIds ? { equalityIds } : {}) };
  }

  async function commit(base: LoadedTable, change: Parameters<IcebergTables['prepare']>[1]): Promise<LoadedTable> {
    const prepared = await tables.prepare(base, change);
    expect(await tables.publish(base, prepared)).toBe(true);
    await tables.writeVersionHint(base.metadata.location, prepared.metadataLocation, prepared.metadata);
    return { id, metadataLocation: prepared.metadataLocation, metadata: prepared.metadata };
  }

  it('creates a table, appends, then replaces a row with an equality delete, readable by icebird and DuckDB', async () => {
    let table = await tables.create(id, SCHEMA, { 'philotes.mode': 'upsert' });
    const at = 1_709_634_896_789_012n;
    table = await commit(table, {
      operation: 'append',
      addedDataFiles: [
        await dataFile(FileContent.Data, [
          { id: 1, values: [1n, 2n, 3n] },
          { id: 2, values: ['one', 'two', null] },
          { id: 3, values: [1234n, -5n, 0n] },
          { id: 4, values: [at, at + 1n, null] },
          { id: 5, values: [['a', 'b'], [], null] },
        ]),
      ],
      addedDeleteFiles: [],
      summary: { 'philotes.source-lsn': '0/10' },
    });
    // An update of row 2 as an upsert writes it: delete by key, insert the new version, one snapshot.
    table = await commit(table, {
      operation: 'overwrite',
      addedDataFiles: [await dataFile(FileContent.Data, [{ id: 1, values: [2n] }, { id: 2, values: ['TWO'] }, { id: 3, values: [999n] }, { id: 4, values: [at] }, { id: 5, values: [['z']] }])],
      addedDeleteFiles: [await dataFile(FileContent.EqualityDeletes, [{ id: 1, values: [2n] }], [1])],
      summary: { 'philotes.source-lsn': '0/20' },
    });

    const expected = [
      { id: 1n, name: 'one', amount: 12.34, at: '2024-03-05T10:34:56.789Z', tags: ['a', 'b'] },
      { id: 2n, name: 'TWO', amount: 9.99, at: '2024-03-05T10:34:56.789Z', tags: ['z'] },
      { id: 3n, name: null, amount: 0, at: null, tags: null },
    ];
    const normalise = (rows: Array<Record<string, unknown>>) =>
      [...rows]
        .sort((a, b) => Number(a.id as bigint) - Number(b.id as bigint))
        .map((r) => ({ ...r, amount: r.amount === null ? null : Number(r.amount), at: r.at ? new Date(r.at as string).toISOString() : null, tags: r.tags ?? null }));
    const viaCatalog = await readWithIcebird(table.metadata.location, table.metadataLocation);
    expect(normalise(viaCatalog)).toEqual(expected);
    const viaHint = await readWithIcebird(table.metadata.location, 'version-hint');
    expect(normalise(viaHint)).toEqual(expected);

    // Snapshot bookkeeping: sequence numbers, summary totals, our LSN key, the main branch.
    const snapshot = currentSnapshot(table.metadata)!;
    expect(snapshot['sequence-number']).toBe(2);
    expect(snapshot.summary).toMatchObject({ operation: 'overwrite', 'total-records': '4', 'total-data-files': '2', 'total-delete-files': '1', 'total-equality-deletes': '1', 'philotes.source-lsn': '0/20' });
    expect(table.metadata.refs.main['snapshot-id']).toBe(snapshot['snapshot-id']);
    expect(table.metadata['metadata-log']).toHaveLength(2);
    const manifests = readManifestList(await tables.store.get(snapshot['manifest-list']));
    expect(manifests.map((m) => [m.content, m.sequenceNumber, m.addedFilesCount])).toEqual(expect.arrayContaining([[0, 2, 1], [1, 2, 1], [0, 1, 1]]));
  });

  it('writes Parquet with Iceberg field ids and the iceberg.schema pair, as DuckDB sees them', async () => {
    const file = await dataFile(FileContent.Data, [
      { id: 1, values: [7n] },
      { id: 2, values: ['x'] },
      { id: 3, values: [100n] },
      { id: 4, values: [0n] },
      { id: 5, values: [['q']] },
    ]);
    const path = fileURLToPath(file.filePath);
    const columns = await duckdb<{ name: string; field_id: string | null; type: string | null }>(`SELECT name, field_id, type FROM parquet_schema('${path}')`);
    expect(columns.filter((c) => c.field_id !== null).map((c) => [c.name, c.field_id])).toEqual([
      ['id', '1'],
      ['name', '2'],
      ['amount', '3'],
      ['at', '4'],
      ['tags', '5'],
      ['element', '6'],
    ]);
    const [kv] = await duckdb<{ value: string }>(`SELECT decode(value) AS value FROM parquet_kv_metadata('${path}') WHERE decode(key) = 'iceberg.schema'`);
    expect(JSON.parse(kv.value)).toMatchObject({ 'identifier-field-ids': [1], fields: [{ id: 1, name: 'id' }, { id: 2 }, { id: 3 }, { id: 4 }, { id: 5 }] });
    const [row] = await duckdb<{ amount: string; at: string }>(`SELECT amount::text AS amount, "at"::text AS "at" FROM read_parquet('${path}')`);
    expect(row).toEqual({ amount: '1.00', at: '1970-01-01 00:00:00+00' });
    // Column statistics in the manifest entry: counts and bounds in the spec's binary form.
    expect(file.valueCounts.get(1)).toBe(1);
    expect(Buffer.from(file.lowerBounds.get(1)!).readBigInt64LE()).toBe(7n);
    expect(Buffer.from(file.upperBounds.get(2)!).toString()).toBe('x');
  });

  it('writes manifests whose Avro header carries field ids and Java\'s record names, as avsc reads them', async () => {
    const table = (await tables.load(id))!;
    const snapshot = currentSnapshot(table.metadata)!;
    const manifest = readManifestList(await tables.store.get(snapshot['manifest-list']))[0];
    const header = await new Promise<{ schema: string; meta: Record<string, string>; entries: unknown[] }>((resolve, reject) => {
      const entries: unknown[] = [];
      let meta: Record<string, string> = {};
      const decoder = createFileDecoder(fileURLToPath(manifest.path));
      decoder.on('metadata', (_type, _codec, h: { meta: Record<string, Buffer> }) => {
        meta = Object.fromEntries(Object.entries(h.meta).map(([k, v]) => [k, v.toString()]));
      });
      decoder.on('data', (entry: unknown) => entries.push(entry));
      decoder.on('end', () => resolve({ schema: meta['avro.schema'], meta, entries }));
      decoder.on('error', reject);
    });
    const schema = JSON.parse(header.schema) as { name: string; fields: Array<{ name: string; 'field-id': number; type: { name?: string } }> };
    expect(schema.name).toBe('manifest_entry');
    expect(schema.fields.map((f) => [f.name, f['field-id']])).toEqual([['status', 0], ['snapshot_id', 1], ['sequence_number', 3], ['file_sequence_number', 4], ['data_file', 2]]);
    expect(schema.fields[4].type.name).toBe('r2');
    expect(header.meta).toMatchObject({ 'format-version': '2', 'partition-spec': '[]', 'partition-spec-id': '0', 'avro.codec': 'deflate' });
    expect(header.entries).toHaveLength(manifest.addedFilesCount + manifest.existingFilesCount + manifest.deletedFilesCount);
  });
});
