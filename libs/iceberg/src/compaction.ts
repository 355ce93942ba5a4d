import { writeDataFile } from './data-files';
import { DataFile, ManifestEntry } from './manifest';
import { currentSchema, currentSnapshot } from './metadata';
import { readRows } from './parquet/read-rows';
import { NestedField } from './schema';
import { LiveFiles, LoadedTable, TableChange } from './table-operations';
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
 * with the same key) are dropped, the rest merged into files of about the target size. The result
 * is a `replace` commit — same rows, fewer files — carrying the parent's summary properties (such
 * as philotes.source-lsn), since the table's content and position do not change.
 */
export async function compact(store: ObjectStore, table: LoadedTable, plan: CompactionPlan, targetFileSize: number): Promise<TableChange> {
  const schema = currentSchema(table.metadata);
  const deleted = await deletedKeys(store, schema.fields, plan.deletes);
  const added: DataFile[] = [];
  let pending: unknown[][] = [];
  let pendingBytes = 0;
  const flush = async () => {
    if (pending.length === 0) return;
    added.push(await writeDataFile(store, table.metadata.location, schema, schema.fields, pending));
    pending = [];
    pendingBytes = 0;
  };
  for (const entry of [...plan.rewrite].sort((a, b) => sequenceOf(a) - sequenceOf(b))) {
    const rows = readRows(await store.get(entry.dataFile.filePath), schema.fields);
    const kept = rows.filter((row) => !deleted.some((group) => (group.keys.get(equalityKey(row, group.indexes)) ?? -1) > sequenceOf(entry)));
    pending.push(...kept);
    pendingBytes += kept.length === 0 ? 0 : (entry.dataFile.fileSizeInBytes * kept.length) / rows.length;
    if (pendingBytes >= targetFileSize) await flush();
  }
  await flush();
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

interface DeleteGroup {
  /** Positions in the schema's fields of the equality ids. */
  readonly indexes: readonly number[];
  /** Key → highest sequence number of a delete with that key. */
  readonly keys: Map<string, number>;
}

async function deletedKeys(store: ObjectStore, fields: readonly NestedField[], deletes: readonly ManifestEntry[]): Promise<DeleteGroup[]> {
  const groups = new Map<string, DeleteGroup>();
  for (const entry of deletes) {
    const ids = entry.dataFile.equalityIds ?? [];
    if (ids.length === 0) throw new Error(`delete file ${entry.dataFile.filePath} is not an equality delete; compaction cannot apply it`);
    const keyFields = ids.map((id) => {
      const field = fields.find((f) => f.id === id);
      if (!field) throw new Error(`delete file ${entry.dataFile.filePath} names field ${id}, which the schema lacks`);
      return field;
    });
    const signature = ids.join(',');
    let group = groups.get(signature);
    if (!group) {
      group = { indexes: keyFields.map((f) => fields.indexOf(f)), keys: new Map() };
      groups.set(signature, group);
    }
    const sequence = sequenceOf(entry);
    for (const row of readRows(await store.get(entry.dataFile.filePath), keyFields)) {
      const key = equalityKey(row, keyFields.map((_, i) => i));
      if ((group.keys.get(key) ?? -1) < sequence) group.keys.set(key, sequence);
    }
  }
  return [...groups.values()];
}

/** Values compared as Iceberg compares them for equality deletes: NULL equals NULL, bytes by content. */
function equalityKey(row: readonly unknown[], indexes: readonly number[]): string {
  return indexes
    .map((i) => {
      const value = row[i];
      if (value === null || value === undefined) return '\u0001';
      if (value instanceof Uint8Array) return `b${Buffer.from(value).toString('hex')}`;
      return `${typeof value === 'bigint' ? 'n' : typeof value}:${String(value)}`;
    })
    .join('\u0000');
}

function sequenceOf(entry: ManifestEntry): number {
  return entry.sequenceNumber ?? 0;
}
