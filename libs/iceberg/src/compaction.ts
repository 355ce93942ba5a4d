import { writePartitionedFiles } from './data-files';
import { DataFile, ManifestEntry } from './manifest';
import { currentSchema, currentSnapshot, defaultSpec } from './metadata';
import { partitionKey, unpartitionedSpecIds } from './partitioning/partition-spec';
import { writableSortOrder } from './sort-order';
import { parquetOptionsOf } from './write-properties';
import { deletedKeys, deleteScope, isDeleted, sequenceOf } from './equality-deletes';
import { readColumns, readRows } from './parquet/read-rows';
import { CompactionPlan, KeyColumnReader } from './compaction-plan';
import { IcebergTables, LoadedTable, TableChange } from './iceberg-tables';
import { ObjectStore } from './storage/object-store';

export * from './compaction-plan';

/** Key columns read from the store, only those columns decoded. */
export function storeKeyReader(store: ObjectStore): KeyColumnReader {
  return async (entry, fields) => readColumns(await store.get(entry.dataFile.filePath), fields);
}

/**
 * Rewrites the planned files: rows an equality delete removes (any live delete of a later sequence
 * number with the same key, in the file's partition or unpartitioned, reclaimed or staying) are
 * dropped, the rest of each group merged into files of about the target size. Groups are
 * partitions (same spec id and tuple, see {@link partitionGroup}); the rows are written in the
 * table's current default spec, which is how files of an older spec move to the new one. The result
 * is a `replace` commit — same rows, fewer files — carrying the parent's summary properties (such
 * as philotes.source-lsn), since the table's content and position do not change. Its files keep
 * the sequence number of the snapshot planned from, so it may commit after other commits (see
 * {@link rebaseCompaction}): the deletes those add still apply to the rewritten rows.
 */
export async function compact(store: ObjectStore, table: LoadedTable, plan: CompactionPlan, targetFileSize: number): Promise<TableChange> {
  const schema = currentSchema(table.metadata);
  const spec = defaultSpec(table.metadata);
  const unpartitioned = unpartitionedSpecIds(table.metadata['partition-specs']);
  const deleted = plan.appliedKeys ?? (await deletedKeys(store, schema.fields, plan.applied, unpartitioned));
  // Written as the table's properties and sort order say now (another engine may have set them).
  const options = { parquet: parquetOptionsOf(table.metadata.properties), sort: writableSortOrder(table.metadata) };
  const added: DataFile[] = [];
  let pending: unknown[][] = [];
  let pendingBytes = 0;
  const flush = async () => {
    if (pending.length === 0) return;
    added.push(...(await writePartitionedFiles(store, table.metadata.location, schema, spec, schema.fields, pending, undefined, undefined, options)));
    pending = [];
    pendingBytes = 0;
  };
  for (const group of plan.groups) {
    for (const entry of [...group.rewrite].sort((a, b) => sequenceOf(a) - sequenceOf(b))) {
      const rows = readRows(await store.get(entry.dataFile.filePath), schema.fields);
      const scope = deleteScope(entry, unpartitioned);
      const kept = rows.filter((row) => !isDeleted(row, sequenceOf(entry), deleted, scope));
      // One by one: spreading a large file's rows into push() overflows the call stack.
      for (const row of kept) pending.push(row);
      pendingBytes += kept.length === 0 ? 0 : (entry.dataFile.fileSizeInBytes * kept.length) / rows.length;
      if (pendingBytes >= targetFileSize) await flush();
    }
    // Never merged across partitions: each group ends its own files.
    await flush();
  }
  const parent = currentSnapshot(table.metadata);
  return {
    operation: 'replace',
    addedDataFiles: added,
    addedDeleteFiles: [],
    removedFiles: new Set([...plan.rewrite, ...plan.deletes].map((e) => e.dataFile.filePath)),
    summary: positionOf(table),
    ...(parent ? { dataSequenceNumber: parent['sequence-number'] } : {}),
  };
}

/**
 * A compaction's change onto the table as it is now, after commits made while it rewrote:
 * undefined when a file it removes is no longer live (a TRUNCATE, a resync or another compaction
 * removed it), so the rewrite is dropped and planned again. Otherwise the same files, committed
 * with the current position in the summary. Safe because those commits only added files and
 * deletes: the rewritten files keep the planned snapshot's sequence number, so every delete
 * added since applies to them as it applied to the files they replace, and a delete file the
 * rewrite removes is older than any data file added since, so it applied to none of them.
 */
export async function rebaseCompaction(tables: IcebergTables, change: TableChange, current: LoadedTable): Promise<TableChange | undefined> {
  const live = await tables.liveFiles(current.metadata);
  const paths = new Set([...live.data, ...live.deletes].map((e) => e.dataFile.filePath));
  for (const path of change.removedFiles ?? []) if (!paths.has(path)) return undefined;
  return { ...change, summary: positionOf(current) };
}

/** The philotes.* summary keys of the current snapshot (the source position a commit covers). */
function positionOf(table: LoadedTable): Record<string, string> {
  return Object.fromEntries(Object.entries(currentSnapshot(table.metadata)?.summary ?? {}).filter(([key]) => key.startsWith('philotes.')));
}

/** The compaction group of a file: the partition it was written in (spec id and tuple). */
export function partitionGroup(entry: ManifestEntry): string {
  return `${entry.dataFile.specId ?? 0}/${partitionKey(entry.dataFile.partition ?? [])}`;
}
