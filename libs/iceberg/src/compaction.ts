import { writePartitionedFiles } from './data-files';
import { DataFile, ManifestEntry } from './manifest';
import { currentSchema, currentSnapshot, defaultSpec } from './metadata';
import { partitionKey } from './partitioning/partition-spec';
import { deletedKeys, deleteScope, isDeleted, sequenceOf } from './equality-deletes';
import { readRows } from './parquet/read-rows';
import { LiveFiles, LoadedTable, TableChange } from './iceberg-tables';
import { ObjectStore } from './storage/object-store';

export interface CompactionPolicy {
  /** Size a rewritten file aims for; a data file under 3/4 of it counts as small. */
  readonly targetFileSize: number;
  /** Small data files plus delete files a table needs before it is rewritten. */
  readonly minFiles: number;
}

/** The files one compaction rewrites: data files to merge, and delete files applied on the way. */
export interface CompactionPlan {
  readonly rewrite: readonly ManifestEntry[];
  readonly deletes: readonly ManifestEntry[];
}

/** Small files (or any equality deletes) worth a rewrite; undefined when the table is fine as it is. */
export function planCompaction(live: LiveFiles, policy: CompactionPolicy): CompactionPlan | undefined {
  const small = live.data.filter((e) => e.dataFile.fileSizeInBytes < policy.targetFileSize * 0.75);
  if (small.length + live.deletes.length < policy.minFiles) return undefined;
  if (live.deletes.length === 0) return small.length >= 2 ? { rewrite: small, deletes: [] } : undefined;
  // Every data file a delete may apply to (older than the newest delete) is rewritten with the
  // deletes applied, so no delete file is needed afterwards.
  const newestDelete = Math.max(...live.deletes.map(sequenceOf));
  const rewrite = live.data.filter((e) => sequenceOf(e) < newestDelete || small.includes(e));
  return { rewrite, deletes: live.deletes };
}

/**
 * Rewrites the planned files: rows an equality delete removes (a delete of a later sequence number
 * with the same key) are dropped, the rest merged into files of about the target size. Files merge
 * only within their partition (same spec id and tuple); the rows are written in the table's
 * current default spec, which is how files of an older spec move to the new one. The result
 * is a `replace` commit — same rows, fewer files — carrying the parent's summary properties (such
 * as philotes.source-lsn), since the table's content and position do not change.
 */
export async function compact(store: ObjectStore, table: LoadedTable, plan: CompactionPlan, targetFileSize: number): Promise<TableChange> {
  const schema = currentSchema(table.metadata);
  const spec = defaultSpec(table.metadata);
  const deleted = await deletedKeys(store, schema.fields, plan.deletes);
  const added: DataFile[] = [];
  let pending: unknown[][] = [];
  let pendingBytes = 0;
  const flush = async () => {
    if (pending.length === 0) return;
    added.push(...(await writePartitionedFiles(store, table.metadata.location, schema, spec, schema.fields, pending)));
    pending = [];
    pendingBytes = 0;
  };
  for (const group of byPartition(plan.rewrite)) {
    for (const entry of group.sort((a, b) => sequenceOf(a) - sequenceOf(b))) {
      const rows = readRows(await store.get(entry.dataFile.filePath), schema.fields);
      const scope = deleteScope(entry);
      const kept = rows.filter((row) => !isDeleted(row, sequenceOf(entry), deleted, scope));
      pending.push(...kept);
      pendingBytes += kept.length === 0 ? 0 : (entry.dataFile.fileSizeInBytes * kept.length) / rows.length;
      if (pendingBytes >= targetFileSize) await flush();
    }
    // Never merged across partitions: each group ends its own files.
    await flush();
  }
  const parent = currentSnapshot(table.metadata);
  const carried = Object.fromEntries(Object.entries(parent?.summary ?? {}).filter(([key]) => key.startsWith('philotes.')));
  return {
    operation: 'replace',
    addedDataFiles: added,
    addedDeleteFiles: [],
    removedFiles: new Set([...plan.rewrite, ...plan.deletes].map((e) => e.dataFile.filePath)),
    summary: carried,
  };
}


/** Entries grouped by the partition they were written in (spec id and tuple), in first-seen order. */
function byPartition(entries: readonly ManifestEntry[]): ManifestEntry[][] {
  const groups = new Map<string, ManifestEntry[]>();
  for (const entry of entries) {
    const key = `${entry.dataFile.specId ?? 0}/${partitionKey(entry.dataFile.partition ?? [])}`;
    const group = groups.get(key);
    if (group) group.push(entry);
    else groups.set(key, [entry]);
  }
  return [...groups.values()];
}
