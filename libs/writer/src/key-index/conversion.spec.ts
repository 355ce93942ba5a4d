import { Registry } from 'prom-client';
import { MemoryBuffer, MemoryTableBuffer, TableRef } from '@philotes/buffer';
import { NO_FAULTS } from '@philotes/faults';
import { currentSchema, currentSnapshot, IcebergTables, MemoryCatalog, MemoryObjectStore, snapshotRows } from '@philotes/iceberg';
import { column } from '@philotes/table-mapping';
import { bufferChanges, writerConfig } from '../writer-fixtures';
import { TableWriter } from '../table-writer';
import { WriterMetrics } from '../writer-metrics';
import { writerSettingsOf } from '../writer-settings';
import { deletesByPosition } from './keyed-deletes';
import { MemoryKeyIndex } from './memory-key-index';

/**
 * Converting an equality-delete table to position deletes is a setting read as the writer runs:
 * turned on while a writer holds the table (loaded, and its index not built, before), the next
 * commit must build the index first, or its lookups miss every key and the old rows stay.
 */
describe('conversion while the writer holds the table', () => {
  it('builds the index before the first commit that deletes by position', async () => {
    const ref: TableRef = { tableId: 5, sourceId: 'src', schema: 'public', table: 'conv' };
    const columns = [column('id', 'int4', { key: true, primaryKey: true }), column('v', 'text')];
    const events = new MemoryBuffer();
    const tables = new IcebergTables(new MemoryObjectStore(), new MemoryCatalog());
    let settings = { ...writerSettingsOf(writerConfig({ icebergTableModes: [], icebergColumnTypes: [] })), upsertDeletes: 'equality' as 'equality' | 'position' };
    const log = { info: () => undefined, warn: () => undefined, debug: () => undefined };
    const writer = new TableWriter(ref, { buffer: new MemoryTableBuffer(events), tables, settings: () => settings, metrics: new WriterMetrics(new Registry()), faults: NO_FAULTS, log, keyIndex: new MemoryKeyIndex() });
    await bufferChanges(events, ref, columns, [0, 1, 2, 3].map((i) => ({ op: 'I', after: [i, `v${i}`] })));
    while ((await writer.step()) === 'more');
    settings = { ...settings, upsertDeletes: 'position', convertEqualityDeletes: true };
    await bufferChanges(events, ref, columns, [0, 1, 2, 3].map((i) => ({ op: 'U', after: [i, `u${i}`] })));
    while ((await writer.step()) === 'more');
    const table = (await tables.load({ namespace: 'public', name: 'conv' }))!;
    expect(deletesByPosition(table.metadata)).toBe(true);
    const rows: unknown[][] = [];
    for await (const row of snapshotRows(tables, table.metadata, currentSnapshot(table.metadata)!['snapshot-id'], currentSchema(table.metadata).fields)) rows.push(row.slice(0, 2));
    expect(rows.sort((a, b) => Number(a[0]) - Number(b[0]))).toEqual([0, 1, 2, 3].map((i) => [i, `u${i}`]));
  });
});
