import * as parquet from 'parquet-wasm/node';
import { MemoryCatalog } from './catalog/memory-catalog';
import { compact, planCompaction, storeKeyReader } from './compaction';
import { writeDataFile } from './data-files';
import { IcebergTables, LoadedTable, TableChange } from './iceberg-tables';
import { readRows } from './parquet/read-rows';
import { MemoryObjectStore } from './storage/memory-store';
import { WRITE_PROPERTIES } from './write-properties';

/** Compaction's rewrite over a memory catalog and warehouse: real Parquet, manifests and metadata. */

const schema = { type: 'struct' as const, 'schema-id': 0, fields: [{ id: 1, name: 'id', required: true, type: 'int' as const }, { id: 2, name: 'v', required: false, type: 'string' as const }] };
const id = { namespace: 'public', name: 't' };

async function commit(tables: IcebergTables, base: LoadedTable, change: Partial<TableChange>): Promise<LoadedTable> {
  const prepared = await tables.prepare(base, { operation: 'append', addedDataFiles: [], addedDeleteFiles: [], ...change });
  expect(await tables.publish(base, prepared)).toBe(true);
  return { id, metadataLocation: prepared.metadataLocation, metadata: prepared.metadata };
}

describe('compaction', () => {
  it("rewrites small files in the table's current sort order and with its recorded codec, recording the order id", async () => {
    const tables = new IcebergTables(new MemoryObjectStore(), new MemoryCatalog());
    let table = await tables.create(id, schema, { [WRITE_PROPERTIES.codec]: 'gzip' });
    // Unsorted files, written before the table had a sort order.
    for (const rows of [[[3, 'b'], [1, null]], [[2, 'c'], [5, 'a']], [[4, 'b']]]) {
      table = await commit(tables, table, { addedDataFiles: [await writeDataFile(tables.store, table.metadata.location, schema, schema.fields, rows)] });
    }
    table = await commit(tables, table, { sortOrder: [{ transform: 'identity', 'source-id': 2, direction: 'asc', 'null-order': 'nulls-last' }, { transform: 'identity', 'source-id': 1, direction: 'desc', 'null-order': 'nulls-first' }] });
    expect(table.metadata['default-sort-order-id']).toBe(1);

    const plan = (await planCompaction(await tables.liveFiles(table.metadata), schema.fields, { targetFileSize: 1024 * 1024, minFiles: 2, maxBytes: 1024 ** 3 }, storeKeyReader(tables.store)))!;
    expect(plan.rewrite).toHaveLength(3);
    table = await commit(tables, table, await compact(tables.store, table, plan, 1024 * 1024));

    const live = await tables.liveFiles(table.metadata);
    expect(live.data).toHaveLength(1);
    expect(live.data[0].dataFile.sortOrderId).toBe(1);
    const bytes = await tables.store.get(live.data[0].dataFile.filePath);
    expect(readRows(bytes, schema.fields)).toEqual([[5, 'a'], [4, 'b'], [3, 'b'], [2, 'c'], [1, null]]);
    const file = await parquet.ParquetFile.fromFile(new Blob([bytes]));
    expect(file.metadata().rowGroup(0).column(0).compression()).toBe(parquet.Compression.GZIP);
  });
});
