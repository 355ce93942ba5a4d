import * as parquet from 'parquet-wasm/node';
import { MemoryCatalog } from './catalog/memory-catalog';
import { compact, planCompaction, rebaseCompaction, storeKeyReader } from './compaction';
import { writeDataFile } from './data-files';
import { writeDeletionVectors, writePositionDeleteFile } from './deletes/position-deletes';
import { FileContent } from './manifest';
import { currentSnapshot } from './metadata';
import { snapshotRows } from './snapshot-rows';
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

const plannedAt = (table: LoadedTable, live: { data: readonly { dataFile: { filePath: string } }[]; deletes: readonly { dataFile: { filePath: string } }[] }) => ({
  table,
  live: new Set([...live.data, ...live.deletes].map((e) => e.dataFile.filePath)),
});

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

  it('commits after other commits with the sequence number it was planned at, so their deletes still apply to the rewritten rows', async () => {
    const tables = new IcebergTables(new MemoryObjectStore(), new MemoryCatalog());
    const upsertSchema = { ...schema, 'identifier-field-ids': [1] };
    let table = await tables.create(id, upsertSchema, {});
    const data = (rows: unknown[][]) => writeDataFile(tables.store, table.metadata.location, upsertSchema, upsertSchema.fields, rows);
    const deletes = (keys: number[]) => writeDataFile(tables.store, table.metadata.location, upsertSchema, [upsertSchema.fields[0]], keys.map((k) => [k]), FileContent.EqualityDeletes, [1]);
    const upsert = async (rows: Array<[number, string]>, summary: Record<string, string>) =>
      (table = await commit(tables, table, { operation: 'overwrite', addedDataFiles: [await data(rows)], addedDeleteFiles: [await deletes(rows.map((r) => r[0]))], summary }));
    table = await commit(tables, table, { addedDataFiles: [await data([[1, 'a'], [2, 'b']])], summary: { 'philotes.source-lsn': '1' } });
    await upsert([[2, 'b2'], [3, 'c']], { 'philotes.source-lsn': '2' });

    // Planned and rewritten at this snapshot; two upserts commit before it does.
    const planned = table;
    const plannedSequence = currentSnapshot(planned.metadata)!['sequence-number'];
    const plannedLive = await tables.liveFiles(planned.metadata);
    const plan = (await planCompaction(plannedLive, upsertSchema.fields, { targetFileSize: 1024 * 1024, minFiles: 2, maxBytes: 1024 ** 3 }, storeKeyReader(tables.store)))!;
    const change = await compact(tables.store, planned, plan, 1024 * 1024);
    expect(change.dataSequenceNumber).toBe(plannedSequence);
    await upsert([[1, 'a2']], { 'philotes.source-lsn': '3' });
    await upsert([[3, 'c2'], [4, 'd']], { 'philotes.source-lsn': '4' });

    const outcome = await rebaseCompaction(tables, change, plannedAt(planned, plannedLive), table);
    if (!('change' in outcome)) throw new Error(`dropped: ${outcome.dropped}`);
    const rebased = outcome.change;
    expect(rebased.summary).toEqual({ 'philotes.source-lsn': '4' });
    table = await commit(tables, table, rebased);
    const live = await tables.liveFiles(table.metadata);
    const rewritten = live.data.filter((e) => change.addedDataFiles.some((f) => f.filePath === e.dataFile.filePath));
    expect(rewritten.map((e) => e.sequenceNumber)).toEqual(change.addedDataFiles.map(() => plannedSequence));
    expect(currentSnapshot(table.metadata)!['sequence-number']).toBeGreaterThan(plannedSequence + 2);
    // The deletes of keys 1 and 3, newer than the rewrite's number, still remove their old rows.
    const rows: unknown[][] = [];
    for await (const row of snapshotRows(tables, table.metadata, currentSnapshot(table.metadata)!['snapshot-id'], upsertSchema.fields)) rows.push(row);
    expect(rows.sort((a, b) => (a[0] as number) - (b[0] as number))).toEqual([[1, 'a2'], [2, 'b2'], [3, 'c2'], [4, 'd']]);
    // The delete files the rewrite applied are gone; the two newer ones stay.
    expect(live.deletes.every((e) => e.sequenceNumber! > plannedSequence)).toBe(true);
    expect(live.deletes).toHaveLength(2);
  });

  it('applies position deletes and deletion vectors to the files they name, reclaiming each once every file it names is rewritten', async () => {
    for (const version of [2, 3] as const) {
      const tables = new IcebergTables(new MemoryObjectStore(), new MemoryCatalog());
      let table = await tables.create(id, schema, {}, [], version);
      const file = (rows: unknown[][]) => writeDataFile(tables.store, table.metadata.location, schema, schema.fields, rows);
      const big = await file(Array.from({ length: 400 }, (_, i) => [100 + i, `big-${i}-${'x'.repeat(40)}`]));
      const a = await file([[1, 'a'], [2, 'b'], [3, 'c']]);
      table = await commit(tables, table, { addedDataFiles: [big, a] });
      const targets = [{ file: a, positions: [0, 2] }, { file: big, positions: [5] }];
      const deletes =
        version === 2
          ? [await writePositionDeleteFile(tables.store, table.metadata.location, schema, targets.flatMap((t) => t.positions.map((position) => ({ filePath: t.file.filePath, position }))))]
          : await writeDeletionVectors(tables.store, table.metadata.location, targets.map((t) => ({ dataFile: t.file, positions: t.positions })));
      table = await commit(tables, table, { operation: 'delete', addedDeleteFiles: deletes });
      const rowsNow = async () => {
        const rows: unknown[][] = [];
        for await (const row of snapshotRows(tables, table.metadata, currentSnapshot(table.metadata)!['snapshot-id'], schema.fields)) rows.push(row);
        return rows.map((r) => r[0] as number).sort((x, y) => x - y);
      };
      const expected = [2, ...Array.from({ length: 400 }, (_, i) => 100 + i).filter((v) => v !== 105)];
      expect(await rowsNow()).toEqual(expected);
      // A budget that holds only the small file: it is rewritten; the delete naming the big one too stays (v2), the small file's vector goes (v3).
      const live = await tables.liveFiles(table.metadata);
      const small = { targetFileSize: 1024 * 1024, minFiles: 1, maxBytes: a.fileSizeInBytes };
      const plan = (await planCompaction(live, schema.fields, small, storeKeyReader(tables.store)))!;
      expect(plan.rewrite.map((e) => e.dataFile.filePath)).toEqual([a.filePath]);
      expect(plan.deletes.map((e) => e.dataFile.reference?.referencedDataFile ?? 'both')).toEqual(version === 2 ? [] : [a.filePath]);
      table = await commit(tables, table, await compact(tables.store, table, plan, 1024 * 1024));
      expect([version, await rowsNow()]).toEqual([version, expected]);
      // With room for both, every position delete is applied and reclaimed.
      const all = (await planCompaction(await tables.liveFiles(table.metadata), schema.fields, { ...small, maxBytes: 1024 ** 3 }, storeKeyReader(tables.store)))!;
      table = await commit(tables, table, await compact(tables.store, table, all, 1024 * 1024));
      expect([version, await rowsNow()]).toEqual([version, expected]);
      expect([version, (await tables.liveFiles(table.metadata)).deletes]).toEqual([version, []]);
    }
  });

  it('is dropped when a deletion vector it removes left the table before it commits', async () => {
    const tables = new IcebergTables(new MemoryObjectStore(), new MemoryCatalog());
    let table = await tables.create(id, schema, {}, [], 3);
    const a = await writeDataFile(tables.store, table.metadata.location, schema, schema.fields, [[1, 'a'], [2, 'b']]);
    const vectors = await writeDeletionVectors(tables.store, table.metadata.location, [{ dataFile: a, positions: [0] }]);
    table = await commit(tables, table, { addedDataFiles: [a], addedDeleteFiles: vectors });
    const live = await tables.liveFiles(table.metadata);
    const plan = (await planCompaction(live, schema.fields, { targetFileSize: 1024 * 1024, minFiles: 1, maxBytes: 1024 ** 3 }, storeKeyReader(tables.store)))!;
    const change = await compact(tables.store, table, plan, 1024 * 1024);
    expect(change.removedEntries).toEqual([{ filePath: vectors[0].filePath, referencedDataFile: a.filePath }]);
    // Only the vector goes meanwhile (its data file stays): nothing else tells the rebase.
    const prepared = await tables.prepare(table, { operation: 'delete', addedDataFiles: [], addedDeleteFiles: [], removedEntries: change.removedEntries });
    const after = { id, metadataLocation: prepared.metadataLocation, metadata: prepared.metadata };
    expect(await rebaseCompaction(tables, change, plannedAt(table, live), after)).toEqual({ dropped: 'a file it rewrote left the table' });
  });

  it('is dropped when the table changed under it in a way a rebase cannot carry', async () => {
    const tables = new IcebergTables(new MemoryObjectStore(), new MemoryCatalog());
    let table = await tables.create(id, schema, {});
    const file = (rows: unknown[][]) => writeDataFile(tables.store, table.metadata.location, schema, schema.fields, rows);
    for (const rows of [[[1, 'a']], [[2, 'b']]]) table = await commit(tables, table, { addedDataFiles: [await file(rows)] });
    const planned = table;
    const live = await tables.liveFiles(planned.metadata);
    const plan = (await planCompaction(live, schema.fields, { targetFileSize: 1024 * 1024, minFiles: 2, maxBytes: 1024 ** 3 }, storeKeyReader(tables.store)))!;
    const change = await compact(tables.store, planned, plan, 1024 * 1024);
    const at = plannedAt(planned, live);
    expect(await rebaseCompaction(tables, change, at, planned)).toHaveProperty('change');
    // An append since is carried.
    const appended = await commit(tables, planned, { addedDataFiles: [await file([[3, 'c']])] });
    expect(await rebaseCompaction(tables, change, at, appended)).toHaveProperty('change');
    // Each a different history after the append: prepared, not published (the rebase reads metadata only).
    const branch = async (change: Partial<TableChange>): Promise<LoadedTable> => {
      const prepared = await tables.prepare(appended, { operation: 'append', addedDataFiles: [], addedDeleteFiles: [], ...change });
      return { id, metadataLocation: prepared.metadataLocation, metadata: prepared.metadata };
    };
    // A TRUNCATE removed what it rewrote.
    const truncated = await branch( { operation: 'overwrite', removeAllFiles: true, addedDataFiles: [await file([[4, 'd']])] });
    expect(await rebaseCompaction(tables, change, at, truncated)).toEqual({ dropped: 'a file it rewrote left the table' });
    // A new default spec: the rewrite wrote in the old one, where no delete goes any more.
    const respecified = await branch({ partitioning: [{ sourceId: 1, transform: { kind: 'bucket', n: 2 } }] });
    expect(await rebaseCompaction(tables, change, at, respecified)).toEqual({ dropped: 'the partition spec changed' });
    // Another engine's rewrite, committed with an old data sequence number.
    const old = await branch({ operation: 'append', addedDataFiles: [await file([[5, 'e']])], dataSequenceNumber: 1 });
    expect(await rebaseCompaction(tables, change, at, old)).toEqual({ dropped: 'a file of an older sequence number was added' });
  });
});
