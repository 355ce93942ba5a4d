import { writePartitionedFiles } from './data-files';
import { DataFile, entryIdentity, FileContent, isDeletionVector, ManifestEntry } from './manifest';
import { currentSchema, currentSnapshot, defaultSpec, tracksRowLineage } from './metadata';
import { lineageNameClash, lineageOf, LINEAGE_FIELDS } from './row-lineage';
import { PositionDeleteIndex } from './deletes/position-deletes';
import { writePositionDeletes } from './deletes/delete-by-position';
import { RowLocation, RowRelocations } from './deletes/row-relocations';
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
 * number with the same key, in the file's partition or unpartitioned, reclaimed or staying) and
 * rows a position delete or deletion vector names are dropped, the rest of each group merged into
 * files of about the target size. Groups are
 * partitions (same spec id and tuple, see {@link partitionGroup}); the rows are written in the
 * table's current default spec, which is how files of an older spec move to the new one. The result
 * is a `replace` commit — same rows, fewer files — carrying the parent's summary properties (such
 * as philotes.source-lsn), since the table's content and position do not change. Its files keep
 * the sequence number of the snapshot planned from, so it may commit after other commits (see
 * {@link rebaseCompaction}): the deletes those add still apply to the rewritten rows. In a v3
 * table the rows keep their lineage: `_row_id` and `_last_updated_sequence_number` are written
 * out for every row copied (spec, Row Lineage: a row moved unchanged keeps both).
 */
/**
 * A copied row's old place, carried on the row itself (a symbol, so no writer sees it): a Map from
 * rows to places stops at 2^24 entries, fewer rows than one run of a narrow table may rewrite.
 */
const ORIGIN = Symbol('origin');
type Traced = unknown[] & { [ORIGIN]?: RowLocation };

export async function compact(store: ObjectStore, table: LoadedTable, plan: CompactionPlan, targetFileSize: number, relocations?: RowRelocations): Promise<TableChange> {
  const schema = currentSchema(table.metadata);
  const spec = defaultSpec(table.metadata);
  const unpartitioned = unpartitionedSpecIds(table.metadata['partition-specs']);
  const deleted = plan.appliedKeys ?? (await deletedKeys(store, schema.fields, plan.applied, unpartitioned));
  const positions = await PositionDeleteIndex.read(store, plan.appliedPositions ?? []);
  // Written as the table's properties and sort order say now (another engine may have set them).
  // Where each pending row came from, told to `relocations` once its new file has placed it.
  const onWritten = (file: DataFile, rows: readonly unknown[][]) => {
    for (let position = 0; position < rows.length; position++) relocations!.add((rows[position] as Traced)[ORIGIN]!, { path: file.filePath, position }, rows[position]);
  };
  const options = { parquet: parquetOptionsOf(table.metadata.properties), sort: writableSortOrder(table.metadata), ...(relocations ? { onWritten } : {}) };
  const lineage = tracksRowLineage(table.metadata);
  const clash = lineage ? lineageNameClash(schema.fields) : undefined;
  // Never a file with two columns of one name: the writer stops such a table before it commits.
  if (clash) throw new Error(`cannot rewrite the files of a v3 table with a column named ${clash}: the row-lineage column of that name must be written too`);
  const fields = lineage ? [...schema.fields, ...LINEAGE_FIELDS] : schema.fields;
  const at = schema.fields.length;
  const added: DataFile[] = [];
  let pending: unknown[][] = [];
  let pendingBytes = 0;
  const flush = async () => {
    if (pending.length === 0) return;
    added.push(...(await writePartitionedFiles(store, table.metadata.location, schema, spec, fields, pending, undefined, undefined, options)));
    pending = [];
    pendingBytes = 0;
  };
  for (const group of plan.groups) {
    for (const entry of [...group.rewrite].sort((a, b) => sequenceOf(a) - sequenceOf(b))) {
      const rows = readRows(await store.get(entry.dataFile.filePath), fields);
      const scope = deleteScope(entry, unpartitioned);
      const removed = positions.deletedIn(entry);
      let kept = 0;
      // One by one: spreading a large file's rows into push() overflows the call stack.
      for (let position = 0; position < rows.length; position++) {
        const row = rows[position];
        if (removed?.has(position) || isDeleted(row, sequenceOf(entry), deleted, scope)) continue;
        // The position is the row's in its file, before deletes: what its inherited _row_id counts.
        if (lineage) [row[at], row[at + 1]] = lineageOf(entry, position, row[at], row[at + 1]);
        pending.push(row);
        if (relocations) (row as Traced)[ORIGIN] = { path: entry.dataFile.filePath, position };
        kept++;
      }
      pendingBytes += kept === 0 ? 0 : (entry.dataFile.fileSizeInBytes * kept) / rows.length;
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
    // A deletion vector goes by itself: its Puffin file may hold other files' vectors, which stay.
    removedFiles: new Set([...plan.rewrite, ...plan.deletes.filter((e) => !isVector(e))].map((e) => e.dataFile.filePath)),
    ...(plan.deletes.some(isVector) ? { removedEntries: plan.deletes.filter(isVector).map((e) => ({ filePath: e.dataFile.filePath, referencedDataFile: e.dataFile.reference!.referencedDataFile })) } : {}),
    summary: positionOf(table),
    ...(parent ? { dataSequenceNumber: parent['sequence-number'] } : {}),
  };
}

/**
 * A compaction's change onto the table as it is now, after commits made while it rewrote; or why
 * it must be dropped (and planned again). The same files, committed with the current position in
 * the summary, are right when the commits since the plan only added data files and deletes of a
 * newer sequence number, in the same schema and default spec: the rewritten files keep the
 * planned snapshot's sequence number, so every equality delete added since applies to them as it
 * applied to the files they replace (deletes go into the default spec and those with live data),
 * and a delete file the rewrite removes is older than any data file added since, so it applied
 * to none of them. A position delete or deletion vector added since names the old files, not the
 * new: given where the rewrite put each row (`relocations`), the rebase carries those positions
 * onto the new files, in delete files of its own commit (whose newer sequence number makes them
 * apply), and removes the vectors of the old files; without it, the rewrite is dropped. Anything
 * else drops it too: a file it removes has left (TRUNCATE, resync, another compaction), the
 * schema, default spec or format version changed, or another engine added a data file of an old
 * sequence number (its own rewrite).
 */
export async function rebaseCompaction(
  tables: IcebergTables,
  change: TableChange,
  planned: { readonly table: LoadedTable; readonly live: ReadonlySet<string> },
  current: LoadedTable,
  relocations?: RowRelocations,
): Promise<{ readonly change: TableChange; readonly carried: number } | { readonly dropped: string }> {
  const before = planned.table.metadata;
  if (before['current-schema-id'] !== current.metadata['current-schema-id']) return { dropped: 'the schema changed' };
  if (before['default-spec-id'] !== current.metadata['default-spec-id']) return { dropped: 'the partition spec changed' };
  // Rows rewritten without lineage columns would take new row ids in a table upgraded since.
  if (before['format-version'] !== current.metadata['format-version']) return { dropped: 'the format version changed' };
  const plannedSequence = currentSnapshot(before)?.['sequence-number'] ?? 0;
  const live = await tables.liveFiles(current.metadata);
  const paths = new Set([...live.data, ...live.deletes].map((e) => e.dataFile.filePath));
  for (const path of change.removedFiles ?? []) if (!paths.has(path)) return { dropped: 'a file it rewrote left the table' };
  const vectors = new Set(live.deletes.map((e) => entryIdentity(e.dataFile.filePath, e.dataFile.reference?.referencedDataFile)));
  // A vector of a rewritten file may have been replaced since by a newer one, which holds its
  // positions too (and is carried below); gone without one, its rows came back.
  const replaced = new Set(live.deletes.filter((e) => !planned.live.has(e.dataFile.filePath) && isDeletionVector(e.dataFile)).map((e) => e.dataFile.reference!.referencedDataFile));
  const stillLive = (change.removedEntries ?? []).filter((e) => vectors.has(entryIdentity(e.filePath, e.referencedDataFile)));
  for (const entry of change.removedEntries ?? []) {
    if (!stillLive.includes(entry) && !replaced.has(entry.referencedDataFile)) return { dropped: 'a file it rewrote left the table' };
  }
  const newPositionDeletes: ManifestEntry[] = [];
  for (const entry of [...live.data, ...live.deletes]) {
    if (planned.live.has(entry.dataFile.filePath)) continue;
    if (entry.dataFile.content === FileContent.PositionDeletes) newPositionDeletes.push(entry);
    else if (sequenceOf(entry) <= plannedSequence) return { dropped: 'a file of an older sequence number was added' };
  }
  const rewritten = live.data.filter((e) => change.removedFiles?.has(e.dataFile.filePath));
  const carry = newPositionDeletes.length === 0 ? undefined : await carriedDeletes(tables, current, rewritten, newPositionDeletes, relocations, change.addedDataFiles);
  if (carry === 'dropped') return { dropped: 'a position delete was added' };
  const rebased: TableChange = { ...change, removedEntries: stillLive, summary: positionOf(current) };
  if (!carry) return { change: rebased, carried: 0 };
  return {
    carried: carry.positions,
    change: {
      ...rebased,
      operation: carry.files.length > 0 ? 'overwrite' : rebased.operation,
      addedDeleteFiles: [...change.addedDeleteFiles, ...carry.files],
      removedEntries: [...stillLive, ...carry.removedEntries],
    },
  };
}

/**
 * The positions deletes added since the plan remove from rewritten files, carried to where the
 * rewrite put those rows (the new files are `added`'s); 'dropped' without relocations.
 */
async function carriedDeletes(
  tables: IcebergTables,
  current: LoadedTable,
  rewritten: readonly ManifestEntry[],
  added: readonly ManifestEntry[],
  relocations: RowRelocations | undefined,
  newFiles: readonly DataFile[],
): Promise<{ files: DataFile[]; removedEntries: Array<{ filePath: string; referencedDataFile: string }>; positions: number } | 'dropped' | undefined> {
  const paths = new Set(rewritten.map((e) => e.dataFile.filePath));
  const naming = added.filter((e) => e.dataFile.reference?.referencedDataFile === undefined || paths.has(e.dataFile.reference.referencedDataFile));
  if (naming.length === 0) return undefined;
  if (!relocations) return 'dropped';
  const index = await PositionDeleteIndex.read(tables.store, naming);
  const byPath = new Map(newFiles.map((f) => [f.filePath, f] as const));
  const targets = relocations.targets(paths);
  const byNewFile = new Map<string, number[]>();
  let positions = 0;
  for (const entry of rewritten) {
    const moved = targets.get(entry.dataFile.filePath);
    for (const position of index.deletedIn(entry) ?? []) {
      // A row deleted before the plan was not copied: nothing to carry.
      const to = moved?.get(position);
      if (!to) continue;
      let list = byNewFile.get(to.path);
      if (!list) byNewFile.set(to.path, (list = []));
      list.push(to.position);
      positions++;
    }
  }
  return {
    files: await writePositionDeletes(tables.store, current.metadata, [...byNewFile].map(([path, list]) => ({ dataFile: byPath.get(path)!, positions: list }))),
    // The old files' vectors go with them; a v2 position delete file naming them stays until a later compaction reclaims it.
    removedEntries: naming.filter((e) => isDeletionVector(e.dataFile)).map((e) => ({ filePath: e.dataFile.filePath, referencedDataFile: e.dataFile.reference!.referencedDataFile! })),
    positions,
  };
}

/** The philotes.* summary keys of the current snapshot (the source position a commit covers). */
function positionOf(table: LoadedTable): Record<string, string> {
  return Object.fromEntries(Object.entries(currentSnapshot(table.metadata)?.summary ?? {}).filter(([key]) => key.startsWith('philotes.')));
}

/** The compaction group of a file: the partition it was written in (spec id and tuple). */
export function partitionGroup(entry: ManifestEntry): string {
  return `${entry.dataFile.specId ?? 0}/${partitionKey(entry.dataFile.partition ?? [])}`;
}

/** A deletion vector: one blob of a Puffin file, removed by its entry, not by its file's path. */
function isVector(entry: ManifestEntry): boolean {
  return isDeletionVector(entry.dataFile) && entry.dataFile.reference?.referencedDataFile !== undefined;
}
