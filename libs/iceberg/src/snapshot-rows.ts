import { deleteScope, isDeleted, deletedKeys, sequenceOf } from './equality-deletes';
import { SnapshotId, TableMetadata } from './metadata';
import { unpartitionedSpecIds } from './partitioning/partition-spec';
import { readRows } from './parquet/read-rows';
import { NestedField } from './schema';
import { IcebergTables } from './iceberg-tables';

/**
 * The rows a snapshot holds, equality deletes applied, one data file at a time: memory is bounded
 * by the largest file and the delete keys, not by the table. Rows are aligned with `fields`.
 */
export async function* snapshotRows(tables: IcebergTables, metadata: TableMetadata, snapshotId: SnapshotId, fields: readonly NestedField[]): AsyncGenerator<unknown[]> {
  const live = await tables.liveFiles(metadata, snapshotId);
  const unpartitioned = unpartitionedSpecIds(metadata['partition-specs']);
  const deletes = await deletedKeys(tables.store, fields, live.deletes, unpartitioned);
  for (const entry of live.data) {
    const sequence = sequenceOf(entry);
    const scope = deleteScope(entry, unpartitioned);
    for (const row of readRows(await tables.store.get(entry.dataFile.filePath), fields)) {
      if (deletes.length === 0 || !isDeleted(row, sequence, deletes, scope)) yield row;
    }
  }
}
