import { Registry } from 'prom-client';
import { MemoryBuffer, MemoryTableBuffer, TableRef } from '@philotes/buffer';
import { NO_FAULTS } from '@philotes/faults';
import { IcebergTables, MemoryCatalog, MemoryObjectStore, newTableMetadata, readRows, WRITE_PROPERTIES } from '@philotes/iceberg';
import { column } from '@philotes/table-mapping';
import { bufferChanges, SourceChange, writerConfig } from './writer-fixtures';
import { TableWriter } from './table-writer';
import { LineageNameError, SortOrderError, writeLayoutOf } from './table-write-layout';
import { WriterMetrics } from './writer-metrics';
import { WriterConfig, writerSettingsOf } from './writer-settings';

/**
 * How the settings become a table's properties and sort order. Real: the writer, the Parquet,
 * manifest and metadata files; in memory: the buffer, the catalog and the warehouse.
 */

const ref: TableRef = { tableId: 1, sourceId: 'src', schema: 'public', table: 'events' };
const columns = [column('id', 'int4', { key: true, primaryKey: true }), column('v', 'text')];
const insert = (id: number, v: string | null): SourceChange => ({ op: 'I', after: [id, v] });
const schema = { type: 'struct' as const, 'schema-id': 0, fields: [{ id: 1, name: 'id', required: true, type: 'int' as const }, { id: 2, name: 'v', required: false, type: 'string' as const }] };

function world(config: Partial<WriterConfig>) {
  const events = new MemoryBuffer();
  const buffer = new MemoryTableBuffer(events);
  const tables = new IcebergTables(new MemoryObjectStore(), new MemoryCatalog());
  let settings = writerSettingsOf(writerConfig({ icebergTableModes: [], icebergColumnTypes: [], ...config }));
  const log = { info: () => undefined, warn: () => undefined, debug: () => undefined };
  const writer = () => new TableWriter(ref, { buffer, tables, settings: () => settings, metrics: new WriterMetrics(new Registry()), faults: NO_FAULTS, log });
  return {
    tables,
    buffer,
    settings: () => settings,
    writer,
    stream: (...changes: SourceChange[]) => bufferChanges(events, ref, columns, changes),
    reconfigure: (over: Partial<WriterConfig>) => (settings = writerSettingsOf(writerConfig({ icebergTableModes: [], icebergColumnTypes: [], ...config, ...over }))),
    load: async () => (await tables.load({ namespace: 'public', name: 'events' }))!,
  };
}

const sortedBy = (fields: ReadonlyArray<{ column: string; direction: 'asc' | 'desc'; nullOrder: 'nulls-first' | 'nulls-last' }>) => [{ schema: 'public', table: 'events', fields }];

describe('table properties and sort order from the settings', () => {
  it('creates a table at the format version asked for, upgrades it when asked for a higher one, never downgrades it, and never records format-version as a property', async () => {
    const warnings: string[] = [];
    const w = world({ icebergTableProperties: [{ schema: 'public', table: 'events', properties: { 'format-version': '2', 'engine.flag': 'on' } }] });
    await w.stream(insert(1, 'a'));
    await w.writer().step();
    let table = await w.load();
    expect(table.metadata['format-version']).toBe(2);
    expect(table.metadata.properties['format-version']).toBeUndefined();
    // The global setting asks for 3; the table's own setting (2) wins, so nothing changes.
    w.reconfigure({ icebergFormatVersion: 3 });
    await w.stream(insert(2, 'b'));
    await w.writer().step();
    expect((await w.load()).metadata['format-version']).toBe(2);
    // Without the table's setting the global one stands: upgraded with the next commit.
    w.reconfigure({ icebergFormatVersion: 3, icebergTableProperties: [] });
    await w.stream(insert(3, 'c'));
    await w.writer().step();
    table = await w.load();
    expect(table.metadata['format-version']).toBe(3);
    expect(table.metadata['next-row-id']).toBe(3); // the two earlier rows got ids in the upgrading commit
    expect(table.metadata.properties['format-version']).toBeUndefined();
    // Asked for 2 again: the table stays at 3, said once.
    w.reconfigure({ icebergFormatVersion: 2, icebergTableProperties: [] });
    const log = { info: () => undefined, debug: () => undefined, warn: (message: string) => void warnings.push(message) };
    const writer = new TableWriter(ref, { buffer: w.buffer, tables: w.tables, settings: w.settings, metrics: new WriterMetrics(new Registry()), faults: NO_FAULTS, log });
    await w.stream(insert(4, 'd'));
    await writer.step();
    await w.stream(insert(5, 'e'));
    await writer.step();
    table = await w.load();
    expect(table.metadata['format-version']).toBe(3);
    expect(table.metadata['next-row-id']).toBe(5);
    expect(warnings.filter((m) => m.includes('never downgraded'))).toHaveLength(1);
  });

  it('stops a v3 table, or one asked to become v3, whose column has a row-lineage column\'s name', () => {
    const clashing = { ...schema, fields: [...schema.fields, { id: 3, name: '_row_id', required: false, type: 'long' as const }] };
    const v2 = newTableMetadata('mem://t', clashing, {});
    const settings = (over: Partial<WriterConfig>) => writerSettingsOf(writerConfig(over)).tableWrite;
    expect(() => writeLayoutOf(v2, ref, settings({}), 64)).not.toThrow();
    expect(() => writeLayoutOf(v2, ref, settings({ icebergFormatVersion: 3 }), 64)).toThrow(LineageNameError);
    expect(() => writeLayoutOf(newTableMetadata('mem://t', clashing, {}, 0, 'u', [], 3), ref, settings({}), 64)).toThrow(/column _row_id has the name of a row-lineage column/);
  });

  it('creates a new table at format version 3 from a table setting', async () => {
    const w = world({ icebergTableProperties: [{ schema: 'public', table: 'events', properties: { 'format-version': '3' } }] });
    await w.stream(insert(1, 'a'), insert(2, 'b'));
    await w.writer().step();
    const table = await w.load();
    expect(table.metadata['format-version']).toBe(3);
    expect(table.metadata.snapshots.at(-1)).toMatchObject({ 'first-row-id': 0, 'added-rows': 2 });
  });

  it('ranks the table setting over a global setting over the recorded property over the default', () => {
    const recorded = newTableMetadata('mem://t', schema, { [WRITE_PROPERTIES.pageBytes]: '2048', [WRITE_PROPERTIES.targetFileSize]: '5000' });
    const settings = (over: Partial<WriterConfig>) => writerSettingsOf(writerConfig(over));
    const none = settings({});
    // No settings: the recorded properties stand (zstd, as new tables record it), nothing to record.
    expect(writeLayoutOf(recorded, ref, none.tableWrite, 64)).toMatchObject({ options: { parquet: { codec: 'zstd', pageBytes: 2048, rowGroupBytes: 128 * 1024 * 1024 } }, targetFileSize: 5000 });
    expect(writeLayoutOf(recorded, ref, none.tableWrite, 64).properties).toBeUndefined();
    const global = settings({ icebergParquetCompression: 'gzip(5)', icebergParquetPageSize: 4096 });
    expect(writeLayoutOf(recorded, ref, global.tableWrite, 64)).toMatchObject({ properties: { [WRITE_PROPERTIES.codec]: 'gzip', [WRITE_PROPERTIES.level]: '5', [WRITE_PROPERTIES.pageBytes]: '4096' }, options: { parquet: { codec: 'gzip', level: 5, pageBytes: 4096 } } });
    const perTable = settings({ icebergParquetCompression: 'gzip(5)', icebergTableProperties: [{ schema: 'public', table: 'events', properties: { [WRITE_PROPERTIES.codec]: 'zstd', [WRITE_PROPERTIES.targetFileSize]: '9000' } }] });
    const layout = writeLayoutOf(recorded, ref, perTable.tableWrite, 64);
    expect(layout.properties).toMatchObject({ [WRITE_PROPERTIES.codec]: 'zstd', [WRITE_PROPERTIES.pageBytes]: '2048', [WRITE_PROPERTIES.targetFileSize]: '9000' });
    expect(layout.properties?.[WRITE_PROPERTIES.level]).toBeUndefined();
    expect(layout.targetFileSize).toBe(9000);
    // Another table's setting does not apply.
    expect(writeLayoutOf(recorded, { schema: 'public', table: 'other' }, perTable.tableWrite, 64).options.parquet?.codec).toBe('gzip');
    // Without a recorded target size, PHILOTES_ICEBERG_TARGET_FILE_SIZE is the default.
    expect(writeLayoutOf(newTableMetadata('mem://t', schema, {}), ref, none.tableWrite, 64).targetFileSize).toBe(64);
  });

  it('records the properties and the sort order in the commit, sorts each data file and marks its entry; a new order gets a new id', async () => {
    const w = world({ icebergTableProperties: [{ schema: 'public', table: 'events', properties: { [WRITE_PROPERTIES.codec]: 'gzip', 'engine.flag': 'on' } }], icebergSortOrder: sortedBy([{ column: 'v', direction: 'desc', nullOrder: 'nulls-last' }, { column: 'id', direction: 'asc', nullOrder: 'nulls-first' }]) });
    await w.stream(insert(1, 'b'), insert(2, null), insert(3, 'c'), insert(4, 'b'), insert(5, 'a'));
    await w.writer().step();

    let table = await w.load();
    expect(table.metadata.properties).toMatchObject({ [WRITE_PROPERTIES.codec]: 'gzip', 'engine.flag': 'on' });
    expect(table.metadata['sort-orders']).toEqual([
      { 'order-id': 0, fields: [] },
      { 'order-id': 1, fields: [{ transform: 'identity', 'source-id': 2, direction: 'desc', 'null-order': 'nulls-last' }, { transform: 'identity', 'source-id': 1, direction: 'asc', 'null-order': 'nulls-first' }] },
    ]);
    expect(table.metadata['default-sort-order-id']).toBe(1);
    let live = await w.tables.liveFiles(table.metadata);
    expect(live.data.map((e) => e.dataFile.sortOrderId)).toEqual([1]);
    const fields = table.metadata.schemas.at(-1)!.fields;
    const at = fields.findIndex((f) => f.name === 'id');
    expect(readRows(await w.tables.store.get(live.data[0].dataFile.filePath), fields).map((row) => row[at])).toEqual([3, 1, 4, 5, 2]);

    w.reconfigure({ icebergSortOrder: sortedBy([{ column: 'id', direction: 'desc', nullOrder: 'nulls-last' }]) });
    await w.stream(insert(6, 'z'), insert(7, 'y'));
    await w.writer().step();
    table = await w.load();
    expect(table.metadata['default-sort-order-id']).toBe(2);
    live = await w.tables.liveFiles(table.metadata);
    expect(live.data.map((e) => e.dataFile.sortOrderId).sort()).toEqual([1, 2]);
    const newest = live.data.find((e) => e.dataFile.sortOrderId === 2)!;
    expect(readRows(await w.tables.store.get(newest.dataFile.filePath), fields).map((row) => row[at])).toEqual([7, 6]);
    // The per-table property setting is gone, the recorded ones stand (precedence: recorded over default).
    expect(table.metadata.properties[WRITE_PROPERTIES.codec]).toBe('gzip');
  });

  it('stops the table for the operator when the sort order names a column it lacks', async () => {
    const w = world({ icebergSortOrder: sortedBy([{ column: 'missing', direction: 'asc', nullOrder: 'nulls-first' }]) });
    await w.stream(insert(1, 'a'));
    const error = await w.writer().step().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(SortOrderError);
    expect((error as SortOrderError).message).toBe('table public.events: PHILOTES_ICEBERG_SORT_ORDER: sort column "missing" is not a column of the table');
    expect((error as SortOrderError).directive).toMatchObject({ recovery: 'operator' });
  });
});
