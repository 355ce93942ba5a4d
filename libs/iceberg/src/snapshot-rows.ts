import { deleteScope, isDeleted, deletedKeys, sequenceOf } from './equality-deletes';
import { FileContent } from './manifest';
import { SnapshotId, TableMetadata } from './metadata';
import { PositionDeleteIndex } from './deletes/position-deletes';
import { unpartitionedSpecIds } from './partitioning/partition-spec';
import { readRows } from './parquet/read-rows';
import { NestedField } from './schema';
import { IcebergTables } from './iceberg-tables';

/**
 * The rows a snapshot holds, equality deletes, position deletes and deletion vectors applied, one
 * data file at a time: memory is bounded by the largest file, the delete keys and the deleted
 * positions, not by the table. Rows are aligned with `fields`.
 */
export async function* snapshotRows(tables: IcebergTables, metadata: TableMetadata, snapshotId: SnapshotId, fields: readonly NestedField[]): AsyncGenerator<unknown[]> {
  const live = await tables.liveFiles(metadata, snapshotId);
  const unpartitioned = unpartitionedSpecIds(metadata['partition-specs']);
  const deletes = await deletedKeys(
    tables.store,
    fields,
    live.deletes.filter((e) => e.dataFile.content === FileContent.EqualityDeletes),
    unpartitioned,
  );
  const positions = await PositionDeleteIndex.read(tables.store, live.deletes);
  for (const entry of live.data) {
    const sequence = sequenceOf(entry);
    const scope = deleteScope(entry, unpartitioned);
    const removed = positions.deletedIn(entry);
    const rows = readRows(await tables.store.get(entry.dataFile.filePath), fields);
    for (let position = 0; position < rows.length; position++) {
      if (removed?.has(position)) continue;
      if (deletes.length === 0 || !isDeleted(rows[position], sequence, deletes, scope)) yield rows[position];
    }
  }
}
